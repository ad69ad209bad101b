"""Retake the screenshots of docs/dashboard.md: ``python tests/server/doc_images.py``.

Builds the same project the dashboard tests use, serves it, and photographs the pages
with Debian's chromium through Playwright (small PNGs, one viewport each).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from dashboard_browser import chromium_page, live_server  # noqa: E402
from dashboard_project import TOKEN, build  # noqa: E402

IMAGES = HERE.parents[1] / "docs" / "img"


def main() -> None:
    from watchkeeper.config import Project
    from watchkeeper.server import create_app
    from watchkeeper.server.context import Settings

    os.environ.pop("WK_STORE_URL", None)
    os.environ.setdefault("WK_USER", "dana")
    root = Path(tempfile.mkdtemp(prefix="wk-doc-images-"))
    build(root)
    os.chdir(root)
    app = create_app(Project.load(root / "watchkeeper.yaml"), settings=Settings(token=TOKEN))
    IMAGES.mkdir(parents=True, exist_ok=True)
    with live_server(app) as url, chromium_page(viewport=(1000, 620)) as page:
        page.goto(url + "/")
        page.screenshot(path=str(IMAGES / "dashboard-overview.png"))
        page.goto(url + "/incidents/1")
        page.locator(".wk-chart[data-drawn]").first.wait_for(timeout=15_000)
        page.screenshot(path=str(IMAGES / "dashboard-incident.png"))
        page.goto(url + "/table?name=orders&column=amount&statistic=null_fraction")
        card = page.locator(".card").filter(has_text="amount · null_fraction")
        card.scroll_into_view_if_needed()
        card.locator(".wk-chart[data-drawn]").wait_for(timeout=15_000)
        card.screenshot(path=str(IMAGES / "dashboard-chart.png"))
        page.goto(url + "/login?next=/incidents/1")
        page.fill("input[name=token]", TOKEN)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/incidents/1")
        card = page.locator(".anomaly").filter(has_text="amount · null_fraction").first
        card.locator(".wk-chart[data-drawn]").wait_for(timeout=15_000)
        card.screenshot(path=str(IMAGES / "dashboard-mute.png"))
    lineage_images(root.parent / (root.name + "-pipeline"))
    for name in ("dashboard-overview", "dashboard-incident", "dashboard-chart",
                 "dashboard-mute", "dashboard-lineage"):
        print(IMAGES / f"{name}.png", (IMAGES / f"{name}.png").stat().st_size, "bytes")


def lineage_images(root: Path) -> None:
    """The lineage page of the project with a trained pipeline (pipeline_project)."""
    from pipeline_project import build as build_pipeline
    from watchkeeper.config import Project
    from watchkeeper.server import create_app
    from watchkeeper.server.context import Settings

    root.mkdir()
    build_pipeline(root)
    os.chdir(root)
    app = create_app(Project.load(root / "watchkeeper.yaml"), settings=Settings(token=TOKEN))
    with live_server(app) as url, chromium_page(viewport=(1000, 620)) as page:
        page.goto(url + "/lineage?model=revenue@1")
        page.screenshot(path=str(IMAGES / "dashboard-lineage.png"))


if __name__ == "__main__":
    main()
