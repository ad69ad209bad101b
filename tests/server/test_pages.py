"""The server-rendered pages and the report: readable without JavaScript, user strings
escaped everywhere, forms CSRF-safe, no secret in any page."""

from __future__ import annotations

import re

import pytest
from dashboard_project import HOSTILE, HOSTILE_VALUE, TOKEN

ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def _sign_in(client) -> str:
    """Sign in through the login form; returns the browser's CSRF token."""
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"csrf": csrf, "token": TOKEN, "next": "/incidents/1"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/incidents/1"
    return csrf


class TestPagesReadWithoutJavaScript:
    def test_overview_lists_table_freshness_slo_and_incident(self, client):
        html = client.get("/").text
        assert 'href="/table?name=orders"' in html
        assert "2023-02-10" in html                    # freshness: the newest partition
        assert "amount_present" in html                # the failing SLO check
        assert 'href="/incidents/1"' in html and "critical" in html

    def test_table_page_lists_columns_with_health_and_charts(self, client):
        html = client.get("/table", params={"name": "orders"}).text
        assert html.count('class="wk-chart"') >= 8
        assert "/api/series?table=orders&amp;column=amount&amp;statistic=" in html
        assert 'href="/incidents/1"' in html

    def test_categorical_columns_chart_their_top_values(self, client):
        html = client.get("/table", params={"name": "orders"}).text
        assert "/api/top_values?table=orders&amp;column=channel" in html
        assert "/api/top_values?table=orders&amp;column=amount" not in html

    def test_table_page_switches_one_columns_statistic(self, client):
        html = client.get("/table", params={"name": "orders", "column": "amount",
                                            "statistic": "p95"}).text
        assert "/api/series?table=orders&amp;column=amount&amp;statistic=p95" in html
        assert "/api/series?table=orders&amp;column=items&amp;statistic=mean" in html

    def test_incident_page_explains_ranked_columns(self, client):
        html = client.get("/incidents/1").text
        assert "expected band" in html and "null_fraction" in html
        assert "New and vanished categories" in html
        assert 'href="/login?next=/incidents/1"' in html  # not signed in: no buttons
        assert 'data-action="false_positive"' not in html

    def test_unknown_pages_say_what_to_do(self, client):
        r = client.get("/incidents/42")
        assert r.status_code == 404 and "wk alerts --all" in r.text
        r = client.get("/table", params={"name": "nope"})
        assert r.status_code == 404 and "wk profile nope" in r.text

    def test_pages_forbid_inline_scripts(self, client):
        csp = client.get("/").headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp


class TestEscaping:
    @pytest.mark.parametrize("url", ["/", "/table?name=orders", "/incidents/1"])
    def test_hostile_column_renders_as_text(self, client, url):
        """A column named <script>alert(1)</script> and a category
        <img src=x onerror=alert(2)> appear escaped, never as markup."""
        html = client.get(url).text
        assert HOSTILE not in html and HOSTILE_VALUE not in html
        assert ESCAPED in html

    def test_incident_page_shows_the_hostile_category_as_text(self, client):
        html = client.get("/incidents/1").text
        assert "&lt;img src=x onerror=alert(2)&gt;" in html

    def test_report_escapes_markup_and_json(self, project, tmp_path):
        from watchkeeper.server import write_report

        html = write_report("orders", tmp_path / "r.html", project).read_text()
        assert HOSTILE not in html and HOSTILE_VALUE not in html
        assert ESCAPED in html
        # In the inline chart data, < is \u003c: no user string can end the script block.
        assert "\\u003cscript\\u003ealert(1)" in html


class TestReportTopValues:
    def test_report_inlines_top_values_of_categorical_columns(self, project, tmp_path):
        """The report charts a categorical column's top values from data inside the file;
        a hostile category stays JSON text."""
        import json as jsonlib

        from watchkeeper.server import write_report

        html = write_report("orders", tmp_path / "r.html", project).read_text()
        ids = re.findall(r'data-top-values-id="(top-values-\d+)"', html)
        assert len(ids) == 3  # customer_id, channel, the hostile column; no number
        blocks = {i: jsonlib.loads(re.search(
            rf'<script type="application/json" id="{i}">(.*?)</script>', html, re.S).group(1))
            for i in ids}
        values = {r["value"] for items in blocks.values() for r in items}
        assert HOSTILE_VALUE in values and {"web", "store"} <= values
        assert all({"partition", "rank", "value", "ratio"} <= set(r)
                   for items in blocks.values() for r in items)
        assert "\\u003cimg src=x" in html


class TestFeedbackForms:
    def test_signed_in_false_positive_changes_the_state(self, client):
        csrf = _sign_in(client)
        page = client.get("/incidents/1").text
        assert 'data-action="false_positive"' in page
        r = client.post("/incidents/1/feedback", follow_redirects=False,
                        data={"csrf": csrf, "action": "false_positive", "note": ""})
        assert r.status_code == 303
        assert client.get("/api/incidents/1").json()["status"] == "false_positive"

    def test_signed_in_mute_a_statistic_then_unmute_it(self, client, auth):
        """The incident page mutes one (column, statistic) of a detector anomaly, shows
        it muted with an unmute button, and the API sees the same mutes."""
        csrf = _sign_in(client)
        page = client.get("/incidents/1").text
        assert 'data-mute="mute-column"' in page and 'data-mute="mute-statistic"' in page
        r = client.post("/incidents/1/mute", follow_redirects=False, data={
            "csrf": csrf, "column": "amount", "statistic": "null_fraction", "muted": "true"})
        assert r.status_code == 303 and r.headers["location"] == "/incidents/1"
        mutes = client.get("/api/mutes", params={"table": "orders"}).json()["muted"]
        assert mutes == ["amount.null_fraction"]
        page = client.get("/incidents/1").text
        assert "null_fraction muted" in page and 'data-mute="unmute-statistic"' in page
        client.post("/incidents/1/mute", data={"csrf": csrf, "column": "amount",
                                               "statistic": "null_fraction", "muted": "false"})
        assert client.get("/api/mutes", params={"table": "orders"}).json()["muted"] == []

    def test_signed_in_mute_a_hostile_column(self, client):
        csrf = _sign_in(client)
        client.post("/incidents/1/mute", data={"csrf": csrf, "column": HOSTILE,
                                               "statistic": "", "muted": "true"})
        assert client.get("/api/mutes", params={"table": "orders"}).json()["muted"] == [
            HOSTILE]
        assert HOSTILE not in client.get("/incidents/1").text

    @pytest.mark.parametrize("signed_in, csrf_ok, status", [(True, False, 403),
                                                            (False, True, 401)])
    def test_mute_needs_the_session_and_the_csrf_token(self, client, signed_in, csrf_ok,
                                                       status):
        if signed_in:
            _sign_in(client)
        csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
        r = client.post("/incidents/1/mute", follow_redirects=False, data={
            "csrf": csrf if csrf_ok else "x" * 43, "column": "amount", "muted": "true"})
        assert r.status_code == status
        assert client.get("/api/mutes", params={"table": "orders"}).json()["muted"] == []

    def test_mute_form_with_a_bad_value_is_refused(self, client):
        csrf = _sign_in(client)
        r = client.post("/incidents/1/mute", data={"csrf": csrf, "column": "amount",
                                                   "muted": "maybe"})
        assert r.status_code == 400 and "true or false" in r.text
        r = client.post("/incidents/1/mute", data={"csrf": csrf, "column": "",
                                                   "muted": "true"})
        assert r.status_code == 400 and "column" in r.text

    def test_a_signed_in_session_cannot_write_through_the_api(self, client):
        """Only the pages' CSRF-checked forms honour the session cookie."""
        _sign_in(client)
        r = client.post("/api/incidents/1/feedback", json={"action": "ack"})
        assert r.status_code == 401
        assert client.get("/api/incidents/1").json()["status"] == "open"

    @pytest.mark.parametrize("csrf", [None, "", "x" * 43])
    def test_form_without_the_csrf_token_is_refused(self, client, csrf):
        _sign_in(client)
        data = {"action": "ack"} | ({"csrf": csrf} if csrf is not None else {})
        r = client.post("/incidents/1/feedback", data=data, follow_redirects=False)
        assert r.status_code == 403 and "CSRF" in r.text
        assert client.get("/api/incidents/1").json()["status"] == "open"

    def test_form_without_signing_in_is_refused(self, client):
        csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
        r = client.post("/incidents/1/feedback", data={"csrf": csrf, "action": "ack"},
                        follow_redirects=False)
        assert r.status_code == 401

    def test_wrong_token_does_not_sign_in(self, client):
        csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
        r = client.post("/login", data={"csrf": csrf, "token": "guess"})
        assert r.status_code == 401 and "wk_session" not in r.headers.get("set-cookie", "")

    def test_login_redirects_only_within_the_server(self, client):
        csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
        r = client.post("/login", data={"csrf": csrf, "token": TOKEN,
                                        "next": "//evil.example/"}, follow_redirects=False)
        assert r.headers["location"] == "/"

    def test_the_token_appears_in_no_page_or_cookie(self, client):
        _sign_in(client)
        for url in ("/", "/table?name=orders", "/incidents/1", "/login"):
            r = client.get(url)
            assert TOKEN not in r.text and TOKEN not in r.headers.get("set-cookie", "")
        assert all(TOKEN not in v for v in client.cookies.values())


class TestQuarantine:
    def test_api_is_wk_quarantine(self, client, capsys):
        """/api/quarantine pages through exactly what wk quarantine --format json prints."""
        import json

        from cli_helpers import run

        code, out, _ = run(["quarantine", "feed", "--format", "json"], capsys)
        printed = [json.loads(line) for line in out.splitlines()]
        assert code == 0 and len(printed) == 3
        body = client.get("/api/quarantine", params={"table": "feed"}).json()
        assert body["items"] == printed and body["total"] == 3
        assert all(r["_wk_failed_checks"] == ["amount_positive"] for r in body["items"])

    def test_page_shows_one_record_per_row_with_hostile_names_escaped(self, client):
        html = client.get("/quarantine", params={"table": "feed"}).text
        assert html.count('class="card record"') == 3
        assert "amount_positive" in html and "-5" in html
        assert HOSTILE not in html and ESCAPED in html
        assert 'href="/quarantine?table=feed"' in client.get("/").text

    def test_export_is_csv_of_every_row(self, client):
        import csv
        import io

        r = client.get("/quarantine/export.csv", params={"table": "feed"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(r.text)))
        assert len(rows) == 3 and rows[0]["amount"] == "-5.0"
        assert HOSTILE in rows[0]  # the column keeps its real name in the data

    def test_unknown_managed_table_is_a_clear_error(self, client):
        r = client.get("/api/quarantine", params={"table": "nope"})
        assert r.status_code in (400, 404) and "nope" in r.json()["detail"]
