import faulthandler
import sys

from prune_core.cli import main

# A crash inside a native library (SIGSEGV, SIGABRT) prints the Python stack it happened under to
# stderr — a job's log.txt — instead of ending the process without a word.
faulthandler.enable()
sys.exit(main())
