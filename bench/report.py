"""A benchmark's report: the markdown it prints, kept in docs/benchmarks/<name>.md.

The numbers a benchmark measures are read in docs/benchmarks/, so the script that measures them
writes them there instead of leaving them to be copied from a terminal. A file holds named
sections, each between `<!-- section: NAME; measured by … -->` and `<!-- end: NAME -->`. A run
replaces the sections it measured and keeps everything else (other sections, other scripts'
sections, the prose written around them), so a benchmark that measures one part per invocation
never wipes the others. The line under the title says which command measured which section,
gathered from the section markers.

    args, report = Report.parse_args(parser, "latency", "Latency: how much one measurement moves")
    report.section("efficientnet-compact")
    report.table(["measurement", "min"], rows)
    report.checks([("spread ≤ 10 %", ok)])
    report.save()

Every block is printed when added (long benchmarks show their tables as they finish); `save`
writes the file once the run is done. `PRUNE_BENCH_DOCS=DIR` writes to DIR instead of
docs/benchmarks/ (a trial run that must not touch the docs).
"""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import re
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_SECTION = re.compile(
    r"<!-- section: (?P<name>[\w.-]+)(?:; measured by (?P<by>.*?))? -->\n"
    r"(?P<body>.*?)<!-- end: (?P=name) -->",
    re.S,
)


def docs_dir() -> Path:
    """Where reports go: docs/benchmarks/, or PRUNE_BENCH_DOCS for a trial run."""
    return Path(os.environ.get("PRUNE_BENCH_DOCS") or ROOT / "docs" / "benchmarks")


def command_line() -> str:
    """The command as it was typed from the repository root, so that it can be run again."""

    def from_root(path: str) -> str | None:
        absolute = Path(path).absolute()
        return str(absolute.relative_to(ROOT)) if absolute.is_relative_to(ROOT) else None

    python = from_root(sys.executable) or Path(sys.executable).name
    return shlex.join([python, from_root(sys.argv[0]) or sys.argv[0], *sys.argv[1:]])


def machine(device: str | None = None) -> str:
    """Cores and versions: what a later reader needs to compare a number with their own."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    parts = [f"{cores} cores", f"Python {platform.python_version()}"]
    try:  # from the package metadata: the page benchmarks must not import TensorFlow
        parts.append(f"TensorFlow {importlib.metadata.version('tensorflow')}")
    except importlib.metadata.PackageNotFoundError:
        pass
    return ", ".join(parts + ([device] if device else []))


class Report:
    """Sections of markdown a run prints, then writes into its docs file (see the module doc)."""

    def __init__(
        self, name: str, title: str | None = None, *, write: bool = True, device: str | None = None
    ):
        """`name`: the file (docs/benchmarks/NAME.md). `title`: its `# ` heading (None keeps the
        file's; several scripts write ray.md). `write=False` (smoke runs, `--no-write`): print
        only. `device`: what ran it besides the CPU (a GPU), for the provenance line."""
        self.name, self.title, self.write = name, title, write
        provenance = f"`{command_line()}` on {datetime.date.today().isoformat()}, {machine(device)}"
        self.provenance = provenance.replace("-->", "-- >")  # it lives inside an HTML comment
        self.sections: dict[str, list[str]] = {}
        self._current: list[str] | None = None

    @classmethod
    def parse_args(
        cls,
        parser,
        name: str,
        title: str | None = None,
        *,
        smoke: str | None = None,
        device: str | None = None,
    ):
        """(args, report) from the command line, with the option every benchmark takes added:
        `--no-write` prints the tables and leaves the docs alone; so does the flag named by `smoke`
        (e.g. "quick": numbers that mean nothing)."""
        parser.add_argument(
            "--no-write",
            action="store_true",
            help="print only; leave this benchmark's docs/benchmarks/ file alone",
        )
        args = parser.parse_args()
        smoke_run = bool(smoke and getattr(args, smoke))
        return args, cls(name, title, write=not (args.no_write or smoke_run), device=device)

    # ---- what a run says -------------------------------------------------------------------------
    def section(self, name: str) -> None:
        """Start section NAME (letters, digits, '.', '-'); what follows belongs to it."""
        if not re.fullmatch(r"[\w.-]+", name):
            raise ValueError(f"section names are letters, digits, '.' and '-': {name!r}")
        self._current = self.sections.setdefault(name, [])

    def heading(self, text: str, level: int = 3) -> None:
        self._add(f"{'#' * level} {text}")

    def text(self, text: str) -> None:
        """A paragraph (or several lines of a list)."""
        self._add(text)

    def table(self, header, rows) -> None:
        """A markdown table: `header` the column names, `rows` sequences of formatted cells."""
        lines = [_row(header), "|" + "---|" * len(header)] + [_row(cells) for cells in rows]
        self._add("\n".join(lines))

    def checks(self, checks) -> None:
        """PASS / FAIL lines for (sentence, passed) pairs: the targets the benchmark checks."""
        if checks:
            self._add("\n".join(f"- {'PASS' if ok else 'FAIL'}  {text}" for text, ok in checks))

    def _add(self, block: str) -> None:
        if self._current is None:
            raise RuntimeError("call report.section(NAME) before adding to a report")
        self._current.append(block)
        print(f"\n{block}", flush=True)

    # ---- the file --------------------------------------------------------------------------------
    def save(self) -> Path | None:
        """Write the sections of this run into docs/benchmarks/NAME.md (unless told not to)."""
        path = docs_dir() / f"{self.name}.md"
        if not self.write:
            print(f"\n(not written to {path}: --no-write or a smoke run)", file=sys.stderr)
            return None
        old = path.read_text() if path.exists() else ""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.merged(old))
        print(f"\nwrote {', '.join(self.sections)} into {path}", file=sys.stderr)
        return path

    def merged(self, old: str) -> str:
        """The file `old` with this run's sections replaced or inserted, its header renewed."""
        title, body = _split_header(old)
        names = list(self.sections)
        for i, name in enumerate(names):
            block = (
                f"<!-- section: {name}; measured by {self.provenance} -->\n\n"
                + "\n\n".join(self.sections[name])
                + f"\n\n<!-- end: {name} -->"
            )
            spans = {m.group("name"): m.span() for m in _SECTION.finditer(body)}
            before = [spans[n] for n in names[:i] if n in spans]
            after = [spans[n] for n in names[i + 1 :] if n in spans]
            if name in spans:
                start, end = spans[name]
                body = body[:start] + block + body[end:]
            elif before:  # next to its neighbours from this run, in the run's order
                body = body[: before[-1][1]] + "\n\n" + block + body[before[-1][1] :]
            elif after:
                body = body[: after[0][0]] + block + "\n\n" + body[after[0][0] :]
            else:
                body = body.rstrip("\n") + ("\n\n" if body.strip() else "") + block + "\n"
        header = f"# {self.title or title or self.name}\n\n{_measured_line(body)}\n\n"
        return header + body.lstrip("\n")


def _row(cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _split_header(text: str) -> tuple[str | None, str]:
    """(title, the rest) of a report file, the `Measured by` paragraph under the title dropped."""
    lines = text.splitlines(keepends=True)
    if not lines or not lines[0].startswith("# "):
        return None, text
    rest = "".join(lines[1:]).lstrip("\n")
    if rest.startswith("Measured by"):
        rest = rest.split("\n\n", 1)[1] if "\n\n" in rest else ""
    return lines[0][2:].strip(), rest


def _measured_line(body: str) -> str:
    """'Measured by `CMD` on DATE, MACHINE.', an entry per command if the sections had several."""
    runs: dict[str, list[str]] = {}
    for m in _SECTION.finditer(body):
        if m.group("by"):  # an empty placeholder section has none
            runs.setdefault(m.group("by"), []).append(m.group("name"))
    if len(runs) <= 1:
        return f"Measured by {next(iter(runs), 'nothing yet')}."
    entries = [
        f"{by} ({'section' if len(names) == 1 else 'sections'} {', '.join(names)})"
        for by, names in runs.items()
    ]
    return "Measured by " + "; ".join(entries) + "."
