"""Through a real browser (Debian's chromium, driven by Playwright): open the overview,
open an incident, see its chart, mark it a false positive, see the state change, and
find the same state through the API; mute a series from the incident page and find the
mute through the API; open a ``wk report`` file offline. Screenshots
go to test-output/browser/."""

from __future__ import annotations

import time

import httpx
import pytest
from dashboard_browser import chromium_page, live_server, require_chromium, screenshot
from dashboard_project import HOSTILE, HOSTILE_VALUE, TOKEN

pytestmark = pytest.mark.browser


@pytest.fixture
def base_url(app):
    require_chromium()
    with live_server(app) as url:
        yield url


def test_false_positive_from_the_incident_page(base_url):
    with chromium_page() as page:
        page.goto(base_url + "/")
        assert page.locator("#tables").get_by_text("orders").count() == 1
        screenshot(page, "01-overview")

        page.get_by_role("link", name="#1").first.click()
        page.wait_for_url("**/incidents/1")
        assert page.locator("#incident-status").inner_text() == "open"
        chart = page.locator(".wk-chart[data-drawn]").first
        chart.wait_for(timeout=15_000)
        assert int(chart.get_attribute("data-drawn")) == 40  # 40 partitions drawn
        assert chart.locator("canvas").count() == 1
        screenshot(page, "02-incident-open")

        page.get_by_role("link", name="Sign in", exact=True).click()
        page.fill("input[name=token]", TOKEN)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/incidents/1")

        page.locator("button[data-action=false_positive]").click()
        page.wait_for_url("**/incidents/1")
        assert page.locator("#incident-status").inner_text() == "false_positive"
        assert "false_positive" in page.locator("#feedback-log").inner_text()
        screenshot(page, "03-incident-false-positive")

        card = page.locator(".anomaly").filter(has_text="amount · null_fraction").first
        card.locator("button[data-mute=mute-statistic]").click()
        page.wait_for_url("**/incidents/1")
        card = page.locator(".anomaly").filter(has_text="amount · null_fraction").first
        assert card.locator(".muted-state").inner_text() == "null_fraction muted"
        assert card.locator("button[data-mute=unmute-statistic]").count() == 1
        screenshot(page, "03b-incident-muted")
        assert page.errors == []  # no script error, no blocked inline script

    body = httpx.get(base_url + "/api/incidents/1").json()
    assert body["status"] == "false_positive" and body["feedback"][-1]["action"] == \
        "false_positive"
    mutes = httpx.get(base_url + "/api/mutes", params={"table": "orders"}).json()
    assert mutes["muted"] == ["amount.null_fraction"]


def test_table_page_draws_every_chart_and_shows_hostile_names_as_text(base_url):
    with chromium_page() as page:
        page.goto(base_url + "/table?name=orders")
        charts = page.locator(".wk-chart")
        for i in range(charts.count()):
            charts.nth(i).scroll_into_view_if_needed()
        deadline = time.monotonic() + 20
        while page.locator(".wk-chart[data-drawn]").count() < charts.count():
            assert time.monotonic() < deadline, "not every chart was drawn"
            page.wait_for_timeout(100)
        assert page.get_by_text(HOSTILE, exact=True).count() >= 1  # text, not a script
        legend = page.locator(".wk-top-values .u-legend")
        assert legend.get_by_text(HOSTILE_VALUE, exact=True).count() == 1  # a legend label
        assert page.locator("img[src=x]").count() == 0
        assert page.evaluate("typeof window.alert_fired") == "undefined"
        screenshot(page, "04-table")
        assert page.errors == []


def test_report_opens_offline_with_chart_and_incident(project, tmp_path):
    require_chromium()
    from watchkeeper.server import write_report

    path = write_report("orders", tmp_path / "orders-report.html", project)
    with chromium_page() as page:
        requested = []
        page.context.route("**/*", lambda route: (requested.append(route.request.url),
                                                  route.continue_() if route.request.url
                                                  .startswith("file:") else route.abort()))
        page.goto(path.as_uri())
        assert page.locator("#incident-1").count() == 1
        assert "amount" in page.locator("#incident-1").inner_text()
        page.locator("#incident-1 .wk-chart").first.scroll_into_view_if_needed()
        page.locator("#incident-1 .wk-chart[data-drawn]").first.wait_for(timeout=15_000)
        assert page.locator("canvas").count() >= 2
        top = page.locator(".wk-top-values").first
        top.scroll_into_view_if_needed()
        top.and_(page.locator("[data-drawn]")).wait_for(timeout=15_000)
        assert int(top.get_attribute("data-drawn")) == 40  # 40 partitions of top values
        screenshot(page, "05-report")
        assert [u for u in requested if not u.startswith("file:")] == []  # nothing fetched
        assert page.errors == []
