"""Triggers as data: parsing watchkeeper.yaml, the Python builder, and spec errors."""

from __future__ import annotations

import pytest
import yaml

from watchkeeper.errors import ConfigError
from watchkeeper.triggers import (Block, Clip, Event, PythonAction, Retry, SqlAction, Webhook,
                                  dump_triggers, load_triggers, parse_triggers, trigger)

YAML = """
triggers:
  page-on-critical:
    event: slo.failed
    table: [orders, "pay*"]
    severity: warning
    tags: [pii]
    actions:
      - webhook: {url_env: WK_SLACK_URL, secret_env: WK_SECRET, retries: 1}
      - block: {reason: critical SLO failed}
  audit:
    event: incident.opened
    actions:
      - sql:
          database: audit.duckdb
          statement: INSERT INTO audit VALUES (?, ?)
          params: [table, context.check]
      - python: mypkg.hooks:notify
      - retrain: {model: churn}
      - quarantine_partition
"""


def _parse(text: str):
    return parse_triggers(yaml.safe_load(text)["triggers"])


def _error(spec: dict) -> str:
    with pytest.raises(ConfigError) as info:
        parse_triggers({"t": spec})
    message = str(info.value)
    assert "\n" not in message
    return message


class TestParse:
    def test_yaml_section_parses(self):
        """Conditions and every action kind are read from the YAML section."""
        page, audit = _parse(YAML)
        assert page.condition.table == ("orders", "pay*")
        assert [a.kind for a in page.actions] == ["webhook", "block"]
        assert page.actions[0].retry == Retry(retries=1, max_attempts=8, backoff_seconds=1.0)
        assert [a.kind for a in audit.actions] == ["sql", "python", "retrain",
                                                   "quarantine_partition"]
        assert audit.actions[0].params == ("table", "context.check")

    def test_condition_filters(self):
        """Type, table glob, minimum severity and required tags all filter events."""
        page = _parse(YAML)[0]
        ok = dict(table="payments", severity="critical", tags=("pii", "eu"))
        assert page.condition.matches(Event("slo.failed", **ok))
        assert not page.condition.matches(Event("incident.opened", **ok))
        assert not page.condition.matches(Event("slo.failed", **{**ok, "table": "users"}))
        assert not page.condition.matches(Event("slo.failed", **{**ok, "severity": "info"}))
        assert not page.condition.matches(Event("slo.failed", **{**ok, "tags": ("eu",)}))
        assert not page.condition.matches(Event("slo.failed", **{**ok, "table": None}))

    def test_builder_equals_yaml(self):
        """The Python builder produces the same trigger as the YAML, and dumps back to it."""
        built = trigger("page-on-critical", "slo.failed",
                        [Webhook("WK_SLACK_URL", "WK_SECRET",
                                 retry=Retry(retries=1, max_attempts=8, backoff_seconds=1.0)),
                         Block("critical SLO failed")],
                        table=["orders", "pay*"], severity="warning", tags=["pii"])
        assert built == _parse(YAML)[0]
        again = parse_triggers(dump_triggers([built]))
        assert again == [built]

    def test_round_trip_of_all_actions(self):
        """Every parsed trigger survives to_spec → parse unchanged."""
        triggers = _parse(YAML)
        text = yaml.safe_dump(dump_triggers(triggers), sort_keys=False)
        assert parse_triggers(yaml.safe_load(text)) == triggers

    def test_project_extra_section(self, make_project):
        """load_triggers reads the triggers kept in Project.extra."""
        project = make_project(yaml.safe_load(YAML)["triggers"])
        assert [t.name for t in load_triggers(project)] == ["page-on-critical", "audit"]


class TestSpecErrors:
    def test_unknown_action(self):
        """An unknown action kind lists the known ones."""
        msg = _error({"event": "slo.failed", "actions": [{"email": {"to": "x"}}]})
        assert "unknown action 'email'" in msg and "webhook" in msg

    def test_missing_env_var_name(self):
        """A webhook without url_env says so."""
        assert "needs 'url_env'" in _error({"event": "slo.failed",
                                             "actions": [{"webhook": {"secret_env": "S"}}]})

    def test_url_instead_of_env_name(self):
        """Putting the URL itself in url_env is refused, and the message does not echo it."""
        msg = _error({"event": "slo.failed", "actions": [
            {"webhook": {"url_env": "https://hooks.example/T0/SECRET"}}]})
        assert "must name an environment variable" in msg and "SECRET" not in msg

    def test_bad_import_path(self):
        """python actions need package.module:function."""
        msg = _error({"event": "slo.failed", "actions": [{"python": "mypkg.hooks.notify"}]})
        assert "is not an import path" in msg and "package.module:function" in msg

    def test_unknown_sql_param(self):
        """sql params must be event fields or context keys."""
        msg = _error({"event": "slo.failed", "actions": [{"sql": {
            "database": "a.duckdb", "statement": "SELECT ?", "params": ["password"]}}]})
        assert "unknown event field 'password'" in msg

    def test_sql_needs_one_database(self):
        """Exactly one of database and database_env."""
        assert "exactly one of 'database'" in _error(
            {"event": "slo.failed", "actions": [{"sql": {"statement": "SELECT 1"}}]})

    def test_guard_rule_needs_serve_before(self):
        """A guard rule on any event but serve.before is refused."""
        msg = _error({"event": "slo.failed", "actions": [{"clip": {"column": "s", "max": 1}}]})
        assert "must be serve.before" in msg

    def test_on_key_is_explained(self):
        """YAML reads `on:` as true; the message tells to write `event:`."""
        spec = yaml.safe_load("on: slo.failed\nactions: [block]")
        assert "write 'event:' instead of 'on:'" in _error(spec)

    def test_unknown_keys_and_missing_actions(self):
        """Unknown keys are named; a trigger without actions is refused."""
        assert "unknown key(s) sevrity" in _error({"event": "slo.failed", "sevrity": "warning",
                                                    "actions": ["block"]})
        assert "needs 'actions'" in _error({"event": "slo.failed"})

    def test_bad_predicate(self):
        """A predicate needs exactly one operator."""
        msg = _error({"event": "serve.before", "actions": [
            {"drop": {"when": {"column": "s", "is_null": True, "in_set": [1]}}}]})
        assert "needs exactly one of is_null, not_between, in_set, not_in_set" in msg

    def test_builder_rejects_non_actions(self):
        """The builder refuses things that are not actions, such as lambdas."""
        with pytest.raises(ConfigError, match="not an action"):
            trigger("t", "slo.failed", [lambda e: None])

    def test_python_builder_accepts_objects(self):
        """PythonAction and SqlAction can be built in Python too."""
        t = trigger("t", "slo.failed", [PythonAction("a.b:c"),
                                         SqlAction("SELECT ?", ("table",), "x.duckdb")])
        assert parse_triggers(dump_triggers([t])) == [t]

    def test_clip_bounds(self):
        """Clip needs a bound, and min above max is refused."""
        assert "needs 'min', 'max' or both" in _error(
            {"event": "serve.before", "actions": [{"clip": {"column": "s"}}]})
        assert "min 2.0 is above max 1.0" in _error(
            {"event": "serve.before", "actions": [{"clip": {"column": "s", "min": 2, "max": 1}}]})
        assert Clip("s", 0.0, 1.0).to_spec() == {"clip": {"column": "s", "min": 0.0, "max": 1.0}}
