"""The recovery benchmark's parts, run by `bench/bench_recovery.py`: what the tables share
(`common`), the single-weight tables (`weights`) and the channel tables (`channels`)."""
