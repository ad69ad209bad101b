"""The API against its own OpenAPI spec: schemathesis generates requests from the spec
(a bounded number per operation) and checks every answer: no server error, a declared
status code, a body matching the declared schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from dashboard_project import TOKEN

OPERATIONS = [
    ("GET", "/api/tables"), ("GET", "/api/partitions"), ("GET", "/api/columns"),
    ("GET", "/api/summaries"), ("GET", "/api/series"), ("GET", "/api/top_values"), ("GET", "/api/slo/results"),
    ("GET", "/api/slo/attainment"), ("GET", "/api/incidents"),
    ("GET", "/api/incidents/{incident_id}"), ("POST", "/api/incidents/{incident_id}/feedback"),
    ("GET", "/api/triggers/log"), ("GET", "/api/quarantine"), ("GET", "/api/mutes"),
    ("POST", "/api/mutes"), ("GET", "/api/models"), ("GET", "/api/models/versions"),
    ("GET", "/api/models/stages"), ("GET", "/api/lineage"), ("GET", "/api/trace"),
]


def test_every_operation_is_checked(app):
    """The list below covers the whole spec: a new resource cannot go unchecked."""
    spec = app.openapi()["paths"]
    assert sorted((m.upper(), p) for p, ops in spec.items() for m in ops) == sorted(OPERATIONS)


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_operation_conforms_to_the_spec(app, method, path):
    _conforms(app, method, path)


@pytest.mark.parametrize("path", ["/api/models", "/api/models/versions", "/api/models/stages",
                                  "/api/lineage", "/api/trace"])
def test_model_operations_conform_with_a_trained_pipeline(pipeline_app, path):
    _conforms(pipeline_app, "GET", path)


def _conforms(app, method, path):
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    operation = schema[path][method]

    @given(case=operation.as_strategy())
    @settings(max_examples=12, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case):
        case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"})

    check()
