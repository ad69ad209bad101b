"""Shared by the browser tests: a live uvicorn server in a thread, and Debian's chromium
driven by Playwright (which downloads no browser of its own)."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("WK_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update",
        "--disable-default-apps", "--disable-sync", "--no-first-run", "--mute-audio"]
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "browser"


def require_chromium() -> None:
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"SKIPPING BROWSER TEST: no chromium at {CHROMIUM}: apt-get install "
                    "chromium (CI does, in .ci/run)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        pytest.skip("SKIPPING BROWSER TEST: playwright is not installed (pip install "
                    "'watchkeeper[dev]')")


@contextlib.contextmanager
def live_server(app) -> Iterator[str]:
    """Serve ``app`` on a free loopback port; yields its base URL."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextlib.contextmanager
def chromium_page(viewport=(1200, 800)):
    """A page in a fresh headless chromium; console errors collect in ``page.errors``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": viewport[0],
                                                    "height": viewport[1]})
            page = context.new_page()
            page.errors = []
            page.on("console", lambda m: page.errors.append(m.text) if m.type == "error"
                    else None)
            page.on("pageerror", lambda e: page.errors.append(str(e)))
            page.on("response", lambda r: page.errors.append(f"HTTP {r.status} {r.url}")
                    if r.status >= 400 else None)
            yield page
        finally:
            browser.close()


def screenshot(page, name: str, folder: Path = OUTPUT, full_page: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
