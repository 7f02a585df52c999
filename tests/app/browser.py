"""Helpers for real-browser tests: Debian's Chromium driven by Playwright, and the app served by
`streamlit run` on a free loopback port."""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


#: Test workers (pytest -n) install Chromium one at a time: apt holds a lock of its own, and a
#: second install beside the first would fail and skip that worker's browser tests.
INSTALL_LOCK = Path(tempfile.gettempdir()) / "prune-tests-chromium.lock"


def ensure_chromium() -> str | None:
    """Path to Debian's Chromium, installing it with apt when we are root; None if unavailable."""
    if Path(CHROMIUM).exists():
        return CHROMIUM
    if os.geteuid() == 0 and shutil.which("apt-get"):
        with open(INSTALL_LOCK, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not Path(CHROMIUM).exists():  # another worker may have installed it meanwhile
                subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True)
                subprocess.run(
                    ["apt-get", "install", "-y", "-qq", "chromium"],
                    check=False,
                    capture_output=True,
                )
    return CHROMIUM if Path(CHROMIUM).exists() else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served_app(
    home: Path, extra_env: dict | None = None, port: int | None = None, extra_args: tuple = ()
):
    """`streamlit run app.py` on 127.0.0.1:<port, default a free one>; yields the base URL."""
    port = port or free_port()
    env = {**os.environ, "PRUNE_HOME": str(home), **(extra_env or {})}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "app.py"),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--browser.gatherUsageStats",
            "false",
            *extra_args,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(url + "/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@contextmanager
def browser_page(width: int = 1400, height: int = 1000):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser.new_page(viewport={"width": width, "height": height})
        finally:
            browser.close()


def choose(page, label: str, option: str) -> None:
    """Pick `option` in the Streamlit selectbox labelled `label` (a react-aria combobox)."""
    box = page.locator('[data-testid="stSelectbox"]').filter(
        has=page.get_by_role("combobox", name=label)
    )
    box.get_by_role("button", name="Open").click()
    page.get_by_role("option", name=option, exact=True).click()
    # .first: while the page reruns, Streamlit may briefly show the old box beside the new one
    page.get_by_role("combobox", name=label).and_(
        page.locator(f'[value="{option}"]')
    ).first.wait_for(timeout=10000)


def type_into(page, label: str, text: str) -> None:
    """Type `text` into the text field labelled `label` and press Enter (Streamlit reads it so)."""
    box = page.get_by_role("textbox", name=label)
    box.fill(text)
    box.press("Enter")


def type_number(page, label: str, value) -> None:
    """The same for a number field."""
    box = page.get_by_role("spinbutton", name=label)
    box.fill(str(value))
    box.press("Enter")
