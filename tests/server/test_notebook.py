"""Jupyter views: results of profile, validate, check and gate display as HTML with the
dashboard's charts, user strings escaped; a browser draws the charts."""

from __future__ import annotations

import pytest
from dashboard_project import HOSTILE


@pytest.fixture
def results(project):
    import watchkeeper
    from watchkeeper.slo import evaluate, load_spec

    root = project.root
    profiled = watchkeeper.profile(str(root / "orders.parquet"), partition_column="order_date")
    validated = evaluate(str(root / "orders.parquet"), load_spec(project).for_table("orders"),
                         partition_column="order_date", partitions="latest", name="orders")
    checked = watchkeeper.check("orders", project, partitions=["2023-02-10"],
                                fire_events=False)
    gated = watchkeeper.gate("orders", "2023-02-10", project=project)
    return {"profile": profiled, "validate": validated, "check": checked, "gate": gated}


def test_each_result_has_html(results):
    html = {k: r._repr_html_() for k, r in results.items()}
    assert "Profile of" in html["profile"] and html["profile"].count('class="wk-chart"') >= 5
    assert "SLO checks of orders" in html["validate"] and "FAIL" in html["validate"]
    assert "#1" in html["check"] and 'class="wk-chart"' in html["check"]
    assert "&lt;script&gt;alert(1)" in html["check"]  # the hostile column, as text
    assert "Gate: blocked" in html["gate"]
    for text in html.values():
        assert HOSTILE not in text  # escaped in markup, \\u003c-escaped in chart data


@pytest.mark.browser
def test_outputs_on_one_page_draw_their_own_charts(results, tmp_path):
    """Two outputs in one page (as in a notebook): every chart is drawn, once."""
    from dashboard_browser import chromium_page, require_chromium

    require_chromium()
    page_html = ("<!doctype html><html><body>" + results["profile"]._repr_html_()
                 + results["check"]._repr_html_() + "</body></html>")
    path = tmp_path / "notebook.html"
    path.write_text(page_html)
    with chromium_page() as page:
        page.goto(path.as_uri())
        charts = page.locator(".wk-chart")
        for i in range(charts.count()):
            charts.nth(i).scroll_into_view_if_needed()
            charts.nth(i).locator("canvas").wait_for(timeout=10_000)
        assert page.locator("canvas").count() == charts.count()
        assert page.errors == []
