"""Screenshots of every page for the README, taken from the real app in headless Chromium.

    .venv/bin/python tools/screenshots.py        # over the bundled demo results (demo/)
    .venv/bin/python tools/screenshots.py RESULTS.jsonl [more.jsonl ...] [--profile PROFILE.json]

Loads the demo (or imports the given CLI/benchmark results, and a profile from `python -m prune_core
profile`, stored as one profile job per criterion) into a throw-away PRUNE_HOME, serves the app on a
free loopback port and saves docs/images/<page>.png.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.app.browser import browser_page, ensure_chromium, served_app  # noqa: E402

PAGES = {
    "home": "",
    "learn": "learn",
    "explore": "explore",
    "experiment": "experiment",
    "runs": "runs",
    "compare": "compare",
    "run_detail": "run_detail",
}
HEIGHTS = {"explore": 2700, "learn": 4500, "run_detail": 1900}


def main(argv) -> int:
    profile = None
    if "--profile" in argv:
        at = argv.index("--profile")
        profile, argv = argv[at + 1], argv[:at] + argv[at + 2 :]
    files = argv
    if ensure_chromium() is None:
        print("needs Debian's chromium (apt-get install chromium)", file=sys.stderr)
        return 1
    home = Path(tempfile.mkdtemp(prefix="prune-shots-"))
    env = {**os.environ, "PRUNE_HOME": str(home), "PRUNE_AUTOSTART": "0"}
    os.environ["PRUNE_HOME"] = str(home)
    from prune_core.jobs.store import JobStore
    from prune_core.results import demo
    from prune_core.results.profile import Profile

    store = JobStore(home / "jobs.sqlite3")
    if files:
        subprocess.run(
            [sys.executable, "-m", "prune_core", "import", *files, "--sweep", "benchmark"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        if profile:
            store.add_finished(
                demo.profile_rows(
                    Profile.from_dict(json.loads(Path(profile).read_text())), "benchmark"
                )
            )
    else:
        demo.load(store)
    runs = [j for j in store.list(status=("completed",)) if j.kind == "run"]
    showcase = max(runs, key=lambda j: (j.run_result.target or 0, j.run_result.top1))
    PAGES["run_detail"] = f"run_detail?job={showcase.id}"
    out = ROOT / "docs" / "images"
    out.mkdir(parents=True, exist_ok=True)
    with served_app(home, {"PRUNE_AUTOSTART": "0"}) as url, browser_page(1400, 1000) as page:
        for name, path in PAGES.items():
            page.set_viewport_size({"width": 1400, "height": HEIGHTS.get(name, 1000)})
            page.goto(f"{url}/{path}")
            page.wait_for_selector('[data-testid="stMain"]', timeout=60000)
            page.wait_for_timeout(8000)  # let plotly draw
            page.screenshot(path=str(out / f"{name}.png"), full_page=name != "runs")
            print(f"saved {out / f'{name}.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
