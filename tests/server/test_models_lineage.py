"""Models and lineage: the API answers in the shapes of ``wk model list``, ``wk lineage``
and ``wk trace --format json``, paginated; the pages show versions, stage changes, what
trained a version and what produced a batch, with user text escaped."""

from __future__ import annotations

import json

from cli_helpers import run
from dashboard_project import HOSTILE

ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


class TestModelsApi:
    def test_models_list_the_pipelines_with_their_aliases(self, pipeline_client):
        body = pipeline_client.get("/api/models").json()
        assert body["total"] == 1
        assert body["items"] == [{"model": "revenue",
                                  "aliases": {"champion": "1", "challenger": "2"}}]

    def test_versions_are_wk_model_list(self, pipeline_client, capsys):
        code, out, _ = run(["model", "list", "revenue", "--format", "json"], capsys)
        cli = [json.loads(line) for line in out.splitlines()]
        body = pipeline_client.get("/api/models/versions", params={"model": "revenue"}).json()
        assert code == 0 and body["items"] == cli and body["total"] == 2
        one = pipeline_client.get("/api/models/versions", params={
            "model": "revenue", "limit": 1, "offset": 1}).json()
        assert [v["version"] for v in one["items"]] == ["1"] and one["total"] == 2

    def test_stages_newest_first_with_the_reason(self, pipeline_client):
        items = pipeline_client.get("/api/models/stages",
                                    params={"model": "revenue"}).json()["items"]
        assert items[0]["action"] == "promote" and items[0]["alias"] == "champion"
        assert items[0]["reason"] == f"beats the baseline {HOSTILE}"
        assert items[0]["user_name"] == "dana"

    def test_unknown_model_is_404_naming_the_pipelines(self, pipeline_client):
        for url in ("/api/models/versions", "/api/lineage"):
            r = pipeline_client.get(url, params={"model": "nope"})
            assert r.status_code == 404 and "pipelines: revenue" in r.json()["detail"]


class TestLineageApi:
    def test_lineage_is_wk_lineage_with_partitions_paged(self, pipeline_client, capsys):
        code, out, _ = run(["lineage", "revenue@1", "--format", "json"], capsys)
        cli = json.loads(out)
        body = pipeline_client.get("/api/lineage", params={"model": "revenue@1",
                                                           "limit": 4, "offset": 2}).json()
        assert code == 0 and body["version"] == "1" and body["aliases"] == ["champion"]
        for served, wanted in zip(body["tables"], cli["tables"]):
            assert served["table"] == wanted["table"]
            assert served["partitions"] == wanted["partitions"][2:6]
            assert served["partitions_total"] == len(wanted["partitions"])
            assert served["incidents"] == wanted["incidents"]
        assert {k: v for k, v in body.items() if k not in ("tables", "limit", "offset")} == \
            {k: v for k, v in cli.items() if k != "tables"}

    def test_trace_is_wk_trace(self, pipeline_client, pipeline_built, capsys):
        batch = pipeline_built[1]["batch"]
        code, out, _ = run(["trace", batch, "--format", "json"], capsys)
        cli = json.loads(out)
        body = pipeline_client.get("/api/trace", params={"batch": batch,
                                                         "limit": 1000}).json()
        assert code == 0 and body["model_version"] == "1" and body["batch_id"] == batch
        assert body["inputs"] == cli["inputs"]
        assert [t["partitions"] for t in body["model"]["tables"]] == \
            [t["partitions"] for t in cli["model"]["tables"]]

    def test_unknown_batch_and_version_say_what_to_do(self, pipeline_client):
        r = pipeline_client.get("/api/trace", params={"batch": "nope"})
        assert r.status_code == 404 and "wk predict prints it" in r.json()["detail"]
        r = pipeline_client.get("/api/lineage", params={"model": "revenue@9"})
        assert r.status_code == 400 and "versions: 2, 1" in r.json()["detail"]


class TestPages:
    def test_models_page_shows_versions_metrics_and_escaped_reason(self, pipeline_client):
        html = pipeline_client.get("/models").text
        assert "<h2>revenue</h2>" in html and "rmse" in html
        assert 'href="/lineage?model=revenue%401"' in html
        assert f"beats the baseline {ESCAPED}" in html and HOSTILE not in html

    def test_lineage_page_shows_roles_and_skipped_partitions(self, pipeline_client,
                                                             pipeline_built):
        html = pipeline_client.get("/lineage", params={"model": "revenue@1"}).text
        assert "revenue version 1" in html and "champion" in html
        assert "train: 10 partitions" in html and "eval: 3 partitions" in html
        assert 'href="/table?name=order_features"' in html
        assert "Skipped partitions" in html and "pizzas_positive" in html

    def test_trace_page_names_the_version_and_its_inputs(self, pipeline_client,
                                                         pipeline_built):
        batch = pipeline_built[1]["batch"]
        html = pipeline_client.get("/trace", params={"batch": batch}).text
        assert f"Prediction batch {batch}" in html and "version <strong>1</strong>" in html
        assert pipeline_built[1]["days"][24] in html

    def test_pages_of_a_project_without_pipelines(self, client):
        html = client.get("/models").text
        assert "No pipeline is declared" in html
        r = client.get("/lineage", params={"model": "revenue"})
        assert r.status_code == 404 and "pipelines: none yet" in r.text
