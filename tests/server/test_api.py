"""The REST API through FastAPI's TestClient, against a project the ``wk`` CLI built:
each resource answers in the shape of the matching ``wk ... --format json`` command."""

from __future__ import annotations

import json

import pytest
from cli_helpers import run
from dashboard_project import HOSTILE, HOSTILE_VALUE, TOKEN


def _lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def _all(client, url: str, **params) -> list[dict]:
    """Every item of a paginated list, page by page."""
    items, offset = [], 0
    while True:
        body = client.get(url, params={**params, "limit": 7, "offset": offset}).json()
        items += body["items"]
        offset += body["limit"]
        if offset >= body["total"]:
            return items


class TestSameShapesAsTheCli:
    def test_incidents_list_is_wk_alerts(self, client, capsys):
        """/api/incidents is exactly what wk alerts --format json prints."""
        code, out, _ = run(["alerts", "--format", "json"], capsys)
        assert code == 0
        assert client.get("/api/incidents").json()["items"] == _lines(out)

    def test_incident_is_wk_alerts_show(self, client, capsys):
        """/api/incidents/1 is exactly wk alerts show 1 --format json."""
        code, out, _ = run(["alerts", "show", "1", "--format", "json"], capsys)
        assert code == 0
        body = client.get("/api/incidents/1").json()
        assert body == json.loads(out)
        assert body["severity"] == "critical" and "amount" in body["columns"]

    def test_attainment_is_wk_slo_status(self, client, capsys):
        """/api/slo/attainment is exactly wk slo status --format json."""
        code, out, _ = run(["slo", "status", "--format", "json"], capsys)
        assert code == 0
        assert _all(client, "/api/slo/attainment") == _lines(out)

    def test_summaries_are_wk_summary(self, client, capsys):
        """/api/summaries pages through exactly what wk summary --format json prints."""
        code, out, _ = run(["summary", "orders", "--column", "amount", "--format", "json"],
                           capsys)
        assert code == 0
        expected = _lines(out)
        assert len(expected) > 40
        assert _all(client, "/api/summaries", table="orders", column="amount") == expected

    def test_slo_results_are_wk_validate(self, client, capsys):
        """A stored verdict reads like the line wk validate printed for it."""
        code, out, _ = run(["validate", "orders", "--format", "json"], capsys)
        printed = _lines(out)
        assert code == 0 and printed
        stored = _all(client, "/api/slo/results", table="orders")
        for line in printed:
            assert line in stored

    def test_tables_have_wk_table_list_keys(self, client, capsys):
        """/api/tables uses the keys of wk table list --format json."""
        code, out, _ = run(["table", "list", "--format", "json"], capsys)
        [listed] = _lines(out)
        [item] = client.get("/api/tables").json()["items"]
        assert set(item) == set(listed) and item["name"] == "orders"


class TestResources:
    def test_partitions_oldest_first_with_row_counts(self, client):
        body = client.get("/api/partitions", params={"table": "orders", "limit": 3}).json()
        assert body["total"] == 40 and body["limit"] == 3
        assert [p["partition"] for p in body["items"]] == ["2023-01-02", "2023-01-03",
                                                           "2023-01-04"]
        assert all(p["row_count"] > 0 for p in body["items"])

    def test_columns_include_the_hostile_name_verbatim(self, client):
        items = client.get("/api/columns", params={"table": "orders"}).json()["items"]
        assert HOSTILE in [c["column"] for c in items]

    def test_series_has_points_band_limits_and_alert(self, client):
        """The chart data of amount's null fraction: 40 points, the band the detector used
        on the broken day, the not_null SLO limit, and the incident marker."""
        body = client.get("/api/series", params={"table": "orders", "column": "amount",
                                                 "statistic": "null_fraction"}).json()
        assert len(body["points"]) == 40
        assert body["points"][-1]["value"] > 0.4
        [band] = body["bands"]
        assert band["partition"] == "2023-02-10" and band["high"] < 0.4
        assert {"check": "amount_present", "severity": "warning", "min": None,
                "max": 0.0} in body["limits"]
        assert [(a["partition"], a["incident"]) for a in body["alerts"]] == [("2023-02-10", 1)]

    def test_top_values_per_partition_include_the_hostile_category(self, client):
        """The hostile column's top values: its usual channels, then on the broken day one
        new value holding every row, verbatim in the JSON."""
        body = client.get("/api/top_values", params={"table": "orders", "column": HOSTILE,
                                                     "limit": 1000}).json()
        last = [r for r in body["items"] if r["partition"] == "2023-02-10"]
        assert [(r["value"], r["ratio"]) for r in last] == [(HOSTILE_VALUE, 1.0)]
        assert body["items"][0]["partition"] == "2023-01-02" and body["items"][0]["rank"] == 1

    def test_trigger_log_empty_page(self, client):
        assert client.get("/api/triggers/log").json() == {"items": [], "total": 0,
                                                           "limit": 20, "offset": 0}

    def test_pagination_bounds_are_validated(self, client):
        assert client.get("/api/tables", params={"limit": 0}).status_code == 422
        assert client.get("/api/tables", params={"limit": 5000}).status_code == 422
        assert client.get("/api/tables", params={"offset": -1}).status_code == 422

    def test_unknown_table_and_incident_are_404_with_the_fix(self, client):
        r = client.get("/api/partitions", params={"table": "nope"})
        assert r.status_code == 404 and "wk profile nope" in r.json()["detail"]
        r = client.get("/api/incidents/99")
        assert r.status_code == 404 and "wk alerts --all" in r.json()["detail"]

    def test_openapi_lists_every_resource(self, client):
        paths = client.get("/api/openapi.json").json()["paths"]
        for path in ("/api/tables", "/api/partitions", "/api/columns", "/api/summaries",
                     "/api/series", "/api/slo/results", "/api/slo/attainment",
                     "/api/incidents", "/api/incidents/{incident_id}",
                     "/api/incidents/{incident_id}/feedback", "/api/mutes",
                     "/api/triggers/log"):
            assert path in paths


class TestFeedback:
    def test_false_positive_with_the_token(self, client, auth, capsys):
        """With the token, feedback closes the incident; the CLI sees the same state."""
        r = client.post("/api/incidents/1/feedback", headers=auth,
                        json={"action": "false_positive", "note": "announced <b>change</b>"})
        assert r.status_code == 200
        body = r.json()
        assert body["status"] == "false_positive"
        assert body["feedback"][-1]["user"] == "dana"
        assert body["feedback"][-1]["note"] == "announced <b>change</b>"
        code, out, _ = run(["alerts", "show", "1", "--format", "json"], capsys)
        assert json.loads(out)["status"] == "false_positive"
        assert client.get("/api/incidents").json()["items"] == []

    @pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"},
                                         {"Authorization": f"Basic {TOKEN}"}])
    def test_refused_without_the_token(self, client, headers):
        """No token, a wrong one, or the wrong scheme: 401 and nothing recorded."""
        r = client.post("/api/incidents/1/feedback", headers=headers, json={"action": "ack"})
        assert r.status_code == 401 and "token" in r.json()["detail"]
        assert client.get("/api/incidents/1").json()["status"] == "open"

    def test_off_when_the_server_has_no_token(self, project):
        from fastapi.testclient import TestClient

        from watchkeeper.server import create_app
        from watchkeeper.server.context import Settings

        with TestClient(create_app(project, settings=Settings(token=None))) as c:
            r = c.post("/api/incidents/1/feedback", json={"action": "ack"},
                       headers={"Authorization": "Bearer anything"})
        assert r.status_code == 403 and "WK_SERVER_TOKEN" in r.json()["detail"]

    def test_unknown_action_is_422(self, client, auth):
        r = client.post("/api/incidents/1/feedback", headers=auth, json={"action": "mute"})
        assert r.status_code == 422


class TestMutes:
    def test_mute_a_pair_then_the_column_then_unmute(self, client, auth, capsys):
        """The API records what wk alerts mute does, and answers with its JSON shape;
        the next wk check skips the muted series."""
        r = client.post("/api/mutes", headers=auth, json={
            "table": "orders", "column": "amount", "statistic": "null_fraction",
            "note": "known <b>gap</b>"})
        assert r.status_code == 200 and r.json() == {"table": "orders",
                                                     "muted": ["amount.null_fraction"]}
        r = client.post("/api/mutes", headers=auth, json={"table": "orders",
                                                          "column": HOSTILE})
        assert r.json()["muted"] == ["amount.null_fraction", HOSTILE]
        assert client.get("/api/mutes", params={"table": "orders"}).json()["muted"] == [
            "amount.null_fraction", HOSTILE]
        code, out, _ = run(["alerts", "unmute", "orders", HOSTILE, "--format", "json"],
                           capsys)
        assert code == 0 and json.loads(out)["muted"] == ["amount.null_fraction"]
        r = client.post("/api/mutes", headers=auth, json={
            "table": "orders", "column": "amount", "statistic": "null_fraction",
            "muted": False})
        assert r.json()["muted"] == []

    def test_a_muted_series_is_not_judged_again(self, client, auth, project):
        """Judging the incident's partition again, after muting its column from the API,
        the detector says nothing about that column."""
        from watchkeeper import alerts

        def detector_columns() -> set[str]:
            found = alerts.check("orders", project, partitions=["2023-02-10"],
                                 fire_events=False)
            return {a.column for i in found.incidents for a in i.anomalies
                    if a.source == "detector"}

        assert "amount" in detector_columns()
        client.post("/api/mutes", headers=auth, json={"table": "orders", "column": "amount"})
        assert "amount" not in detector_columns()

    @pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}])
    def test_refused_without_the_token(self, client, headers):
        r = client.post("/api/mutes", headers=headers,
                        json={"table": "orders", "column": "amount"})
        assert r.status_code == 401
        assert client.get("/api/mutes", params={"table": "orders"}).json()["muted"] == []

    def test_bad_requests_name_the_problem(self, client, auth):
        r = client.post("/api/mutes", headers=auth, json={"table": "nope", "column": "a"})
        assert r.status_code == 404 and "wk profile nope" in r.json()["detail"]
        r = client.post("/api/mutes", headers=auth, json={"table": "orders", "column": "  "})
        assert r.status_code == 400 and "column" in r.json()["detail"]
        r = client.post("/api/mutes", headers=auth, json={"table": "orders"})
        assert r.status_code == 422


class TestReadAccess:
    def _client(self, project, **settings):
        from fastapi.testclient import TestClient

        from watchkeeper.server import create_app
        from watchkeeper.server.context import Settings

        return TestClient(create_app(project, settings=Settings(**settings)))

    def test_beyond_loopback_reads_need_the_token(self, project):
        with self._client(project, token=TOKEN, host="0.0.0.0") as c:
            assert c.get("/api/tables").status_code == 401
            assert c.get("/").status_code == 401
            ok = c.get("/api/tables", headers={"Authorization": f"Bearer {TOKEN}"})
            assert ok.status_code == 200

    def test_open_read_lets_anyone_read_but_not_write(self, project):
        with self._client(project, token=TOKEN, host="0.0.0.0", open_read=True) as c:
            assert c.get("/api/tables").status_code == 200
            assert c.post("/api/incidents/1/feedback",
                          json={"action": "ack"}).status_code == 401

    def test_loopback_reads_are_open(self, project):
        with self._client(project, token=TOKEN, host="127.0.0.1") as c:
            assert c.get("/api/incidents").status_code == 200


class TestNoSecrets:
    def test_source_password_is_hidden(self):
        from watchkeeper.server.records import table
        from watchkeeper.store import TableRecord

        record = TableRecord("t", "postgresql://bob:hunter2@db/prod#orders", "d", "day")
        assert "hunter2" not in json.dumps(table(record))

    def test_settings_never_show_the_token(self):
        from watchkeeper.server.context import Settings

        assert TOKEN not in repr(Settings(token=TOKEN))
