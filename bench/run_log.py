"""The runs a benchmark has measured, kept as JSON Lines under bench/out/ as each one finishes, so
a long benchmark cut short can resume where it stopped (`--resume`: a recipe already in the file is
read back, not run again; without it the file starts empty)."""

from __future__ import annotations

import json
from pathlib import Path


class RunLog:
    def __init__(self, path: Path, resume: bool = False):
        from prune_core.results.run_result import RunResult

        self.path, self.done = Path(path), {}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if resume and self.path.exists():
            for line in self.path.read_text().splitlines():
                if line.strip():
                    result = RunResult.from_dict(json.loads(line))
                    self.done[result.spec.to_json()] = result
        else:
            self.path.write_text("")

    def run(self, spec, **kwargs):
        """The recipe's result: read back when the file has it, else run (`pipeline.run`) and kept
        before it is returned."""
        from prune_core.engine import pipeline

        key = spec.to_json()
        if key not in self.done:
            result = pipeline.run(spec, **kwargs)
            with open(self.path, "a") as log:
                log.write(json.dumps(result.to_dict()) + "\n")
            self.done[key] = result
        return self.done[key]
