"""Jupyter views: results of profile, validate, check, gate and backtest display as HTML
with the dashboard's charts, user strings escaped; a browser draws the charts."""

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


def test_backtest_shows_its_score_chart_and_paging_partitions(project):
    """A backtest's verdicts (BacktestResult: still a list) show the score over time and
    the partitions that would have paged, the hostile column as text."""
    from watchkeeper.detect import backtest
    from watchkeeper.server import BacktestResult

    store = project.store()
    verdicts = backtest(store.load_statistics("orders"),
                        top_values=store.load_top_values("orders"))
    assert isinstance(verdicts, BacktestResult) and isinstance(verdicts, list)
    assert len(verdicts) == 40
    html = verdicts._repr_html_()
    assert "<h3>Backtest</h3>" in html and html.count('class="wk-chart"') == 1
    assert "<td>2023-02-10</td>" in html and "&lt;script&gt;alert(1)" in html
    assert HOSTILE not in html
    quiet = BacktestResult([v for v in verdicts if str(v.partition) < "2023-02-01"])
    assert "no partition would have paged" in quiet._repr_html_()


@pytest.mark.browser
def test_outputs_on_one_page_draw_their_own_charts(results, project, tmp_path):
    """Two outputs in one page (as in a notebook): every chart is drawn, once."""
    from dashboard_browser import chromium_page, require_chromium

    require_chromium()
    from watchkeeper.detect import backtest
    from watchkeeper.server import BacktestResult

    history = project.store().load_statistics("orders")
    page_html = ("<!doctype html><html><body>" + results["profile"]._repr_html_()
                 + results["check"]._repr_html_()
                 + BacktestResult(backtest(history))._repr_html_() + "</body></html>")
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
