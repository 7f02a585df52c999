"""Run results as JSON Lines files (`run --out`, the bundled demo, `import`), read with limits.

A file is streamed line by line and every line checked (`RunResult.from_dict`): a 10,000-line or a
one-gigabyte-line file is refused, not read into memory, and one bad line refuses the whole file.
"""

from __future__ import annotations

import json
from pathlib import Path

from prune_core.errors import ResultError
from prune_core.results.run_result import RunResult

#: At most this many results are read, each line at most this long.
MAX_LINES, MAX_LINE_BYTES = 2000, 2 * 2**20


def read(path: Path, room: int = MAX_LINES) -> list[RunResult]:
    """Every result in the file, without paths; `ResultError` names the file, the line and what is
    wrong. `room`: how many more results the caller can take (a multi-file import shares one)."""
    name, out = str(path), []
    if not Path(path).is_file():
        raise ResultError(f"{name}: no such file")
    try:
        with open(path, encoding="utf-8") as lines:
            for number, line in enumerate(iter(lambda: lines.readline(MAX_LINE_BYTES + 1), ""), 1):
                if len(line) > MAX_LINE_BYTES:
                    raise ResultError(
                        f"{name}:{number}: a line over {MAX_LINE_BYTES:,} characters is not a run "
                        "result"
                    )
                if not line.strip():
                    continue
                if len(out) >= room:
                    raise ResultError(
                        f"{name}:{number}: an import holds at most {MAX_LINES:,} results; split "
                        "the file"
                    )
                try:
                    out.append(RunResult.from_dict(json.loads(line)).without_paths())
                except (json.JSONDecodeError, ResultError, RecursionError) as exc:
                    raise ResultError(f"{name}:{number}: not a run result ({exc})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultError(f"{name}: cannot be read as JSON Lines ({type(exc).__name__})") from None
    return out
