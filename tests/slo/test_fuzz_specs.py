"""Property-based: no SLO or trigger spec, however hostile, gives a traceback.

Every spec either loads or raises a one-line ``UserError``; every loaded SLO spec
evaluates, with a check the engine cannot run getting the ``error`` verdict while the
others still run. The budgets (``max_examples``) keep the whole module within ~40 s.
"""

from __future__ import annotations

import datetime as dt
import math
import tempfile
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from watchkeeper.config import Project, TableSpec
from watchkeeper.errors import UserError
from watchkeeper.slo import SLOSpec, TableSLO, evaluate
from watchkeeper.slo.kinds import KINDS
from watchkeeper.triggers.spec import parse_triggers

COLUMNS = ["day", "id", "name", "amount", "flag", "ts", "nope"]

_DIR = Path(tempfile.mkdtemp(prefix="wk-fuzz-"))
_FRAME = pd.DataFrame({
    "day": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-02", "2024-01-02"]),
    "id": [1, 2, 3, 3],
    "name": ["a", "b(", None, "d"],
    "amount": [0.5, -1.0, float("nan"), 3.0],
    "flag": [True, False, True, None],
    "ts": pd.to_datetime(["2024-01-01 10:00", None, "2024-01-02 11:00", "2024-01-02 12:00"]),
})
_FRAME.to_parquet(_DIR / "main.parquet", index=False)
pd.DataFrame({"day": pd.to_datetime(["2024-01-01"]), "id": ["x"], "code": [1.5]}).to_parquet(
    _DIR / "ref.parquet", index=False)
OTHERS = {"ref": TableSpec("ref", str(_DIR / "ref.parquet"), "day"),
          "main": TableSpec("main", str(_DIR / "main.parquet"), "day")}

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([1e30, -1e30, 0, 1, 0.5]),
    st.text(max_size=8), st.sampled_from(COLUMNS + ["(", "regexp_matches(name, '(')",
                                                    "2024-01-01", "6h", "-1d", "mean", "ref",
                                                    "id > 0", "count(*) > 0", "1/0"]),
    st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["a", "min", "kind"]), inner,
                                                 max_size=2)), max_leaves=5)
PARAMS = sorted({p for k in KINDS.values() for p in (*k.required, *k.optional)})


@st.composite
def checks(draw):
    raw = {"kind": draw(st.one_of(st.sampled_from(sorted(KINDS)), values))}
    if draw(st.booleans()):
        raw["column"] = draw(st.one_of(st.sampled_from(COLUMNS), values))
    if draw(st.integers(0, 4)) == 0:
        raw["columns"] = draw(st.one_of(st.lists(st.sampled_from(COLUMNS), max_size=3), values))
    for name in draw(st.lists(st.sampled_from(PARAMS + ["severity", "mostly", "name"]),
                              max_size=4, unique=True)):
        raw[name] = draw(values)
    return raw


tables = st.fixed_dictionaries({"checks": st.lists(checks(), max_size=4)},
                               optional={"key": values, "target": values})

_HOSTILE_CHECKS = [
    {"key": ["nope"], "checks": [{"kind": "not_null", "column": "id"}]},
    {"key": 5, "checks": [{"kind": "not_null", "column": "id"}]},
    {"checks": [{"kind": "compound_unique", "columns": [["id"], "name"]}]},
    {"checks": [{"kind": "compound_unique", "columns": 1.5}]},
    {"checks": [{"kind": "referential", "column": "id", "table": "ref"}]},
    {"checks": [{"kind": "referential", "column": "amount", "table": "ref",
                 "other_column": "day"}]},
    {"checks": [{"kind": "coverage", "column": "id", "min": None}]},
    {"checks": [{"kind": "between", "column": "id", "min": 1e30}]},
    {"checks": [{"kind": "between", "column": "id", "min": float("nan")}]},
    {"checks": [{"kind": "between", "column": "id", "max": 2**70}]},
    {"checks": [{"kind": "sql_row", "expression": "regexp_matches(name, '(')"},
                {"kind": "not_null", "column": "id"}]},
]


def _load(table_raw) -> TableSLO | None:
    try:
        return SLOSpec.from_dict({"tables": {"main": table_raw}}).tables.get("main")
    except UserError as exc:
        assert "\n" not in str(exc).strip(), exc
        return None


def _evaluate(slo: TableSLO):
    try:
        return evaluate(str(_DIR / "main.parquet"), slo, partition_column="day",
                        others=OTHERS, now=pd.Timestamp("2024-01-05"))
    except UserError as exc:
        assert "\n" not in str(exc).strip(), exc
        return None


@pytest.mark.parametrize("raw", _HOSTILE_CHECKS)
def test_the_reported_hostile_specs_give_user_errors_or_verdicts(raw):
    slo = _load(raw)
    if slo is not None:
        _evaluate(slo)


def test_a_check_failing_inside_the_engine_gets_an_error_verdict_and_the_others_run():
    slo = _load(_HOSTILE_CHECKS[-1])
    result = _evaluate(slo)
    rows = result.results
    broken = rows[rows["check"] == "sql_row"]
    assert len(broken) == 2 and broken["error"].notna().all()
    assert broken["passed"].isna().all() or not broken["passed"].any()
    others = rows[rows["check"] == "not_null_id"]
    assert len(others) == 2 and others["error"].isna().all() and others["passed"].all()


@settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
@given(tables)
def test_specs_load_or_raise_a_user_error(table_raw):
    _load(table_raw)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(tables)
@example({"checks": [{"kind": "between", "column": "id", "min": 1e30}]})
def test_loaded_specs_evaluate_without_a_traceback(table_raw):
    slo = _load(table_raw)
    if slo is None:
        return
    result = _evaluate(slo)
    if result is not None:  # every check has a verdict or an error for every partition
        counted = result.results.groupby("check").size()
        assert set(counted.index) <= {c.name for c in slo.checks}


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.fixed_dictionaries({"slos": st.fixed_dictionaries({"tables": st.fixed_dictionaries(
    {"main": tables})})}, optional={"version": values, "tables": values}))
def test_project_files_load_or_raise_a_user_error(data):
    """Through the project loader: the YAML a user writes, as it is read."""
    folder = Path(tempfile.mkdtemp(dir=_DIR))
    path = folder / "watchkeeper.yaml"
    try:
        path.write_text(yaml.safe_dump(data, allow_unicode=True))
    except yaml.YAMLError:
        return
    try:
        from watchkeeper.slo import load_spec

        load_spec(Project.load(path))
    except UserError as exc:
        assert "\n" not in str(exc).strip(), exc


triggers = st.dictionaries(
    st.one_of(st.text(max_size=5), st.integers()),
    st.one_of(values, st.fixed_dictionaries(
        {"event": st.one_of(st.sampled_from(["slo.failed", "incident.opened", "train.before"]),
                            values)},
        optional={"table": values, "column": values, "model": values, "severity": values,
                  "tags": values,
                  "actions": st.lists(st.one_of(values, st.dictionaries(
                      st.sampled_from(["webhook", "block", "python", "sql", "retrain", "clip",
                                       "quarantine_partition", "nope"]),
                      st.one_of(values, st.dictionaries(
                          st.sampled_from(["url_env", "reason", "retries", "max_attempts",
                                           "backoff_seconds", "timeout_seconds", "text",
                                           "function", "statement", "min", "column"]),
                          values, max_size=3)), max_size=1)), max_size=3)})),
    max_size=3)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(triggers)
@example({"t": {"event": "slo.failed", "tags": 5, "actions": [{"block": {}}]}})
def test_trigger_specs_load_or_raise_a_user_error(raw):
    try:
        parse_triggers(raw, "watchkeeper.yaml")
    except UserError as exc:
        assert "\n" not in str(exc).strip(), exc


def test_nan_bounds_are_refused():
    with pytest.raises(UserError, match="NaN"):
        TableSLO("t").between("id", min=math.nan)
