"""SLO specs as data: YAML and the Python builder agree, and bad specs fail in one line."""

from __future__ import annotations

import pytest
import yaml

from watchkeeper.config import Project
from watchkeeper.slo import KINDS, Check, SLOSpec, SLOSpecError, TableSLO, load_spec

YAML = """
slos:
  target: 0.995
  tables:
    orders:
      key: [id]
      checks:
        - {name: price_range, kind: between, column: price, min: 0, max: 100, strict_min: true,
           mostly: 0.99, severity: warning, owner: ml-team, description: prices are positive}
        - {kind: not_null, column: id}
        - {kind: compound_unique, columns: [id, day]}
        - {kind: freshness, column: ts, max_lag: 2h, deadline: 6h}
        - {kind: schema, columns: {id: integer, price: float}, exact: false}
"""


def _builder() -> TableSLO:
    return (TableSLO("orders", key=["id"])
            .between("price", min=0, max=100, strict_min=True, mostly=0.99, severity="warning",
                     owner="ml-team", description="prices are positive", name="price_range")
            .not_null("id")
            .compound_unique(["id", "day"])
            .freshness(column="ts", max_lag="2h", deadline="6h")
            .schema(columns={"id": "integer", "price": "float"}, exact=False))


class TestSpecFromYaml:
    def test_yaml_equals_builder(self):
        """The YAML section and the Python builder produce the same checks."""
        spec = SLOSpec.from_dict(yaml.safe_load(YAML)["slos"])
        assert spec.tables["orders"].to_dict() == _builder().to_dict()
        assert spec.target == 0.995 and spec.tables["orders"].key == ("id",)

    def test_round_trip(self):
        """A spec written by to_yaml reads back to the same checks."""
        text = _builder().to_yaml()
        again = SLOSpec.from_dict(yaml.safe_load(text)["slos"]).tables["orders"]
        assert again.to_dict() == _builder().to_dict()

    def test_default_names_and_severity(self):
        """Unnamed checks are named kind_column, and default to critical."""
        check = Check.from_dict({"kind": "not_null", "column": "id"})
        assert (check.name, check.severity, check.level) == ("not_null_id", "critical", "row")

    def test_project_section_and_include(self, tmp_path):
        """watchkeeper.yaml's slos: section is read, and included files add checks."""
        (tmp_path / "more.yaml").write_text(
            "tables:\n  orders:\n    checks:\n      - {kind: unique, column: id}\n")
        (tmp_path / "watchkeeper.yaml").write_text(
            "version: 1\ntables: {}\nslos:\n  include: more.yaml\n  tables:\n    orders:\n"
            "      - {kind: not_null, column: id}\n")
        spec = load_spec(Project.load(tmp_path / "watchkeeper.yaml"))
        assert [c.name for c in spec.for_table("orders").checks] == ["not_null_id", "unique_id"]
        assert spec.target_of("orders") == 0.99

    def test_every_kind_has_a_builder_method(self):
        """The builder has one method per registered kind."""
        assert all(callable(getattr(TableSLO, kind)) for kind in KINDS)


class TestSpecErrors:
    @pytest.mark.parametrize("raw, fragment", [
        ({"kind": "between", "column": "x", "min": 5, "max": 1}, "min 5 > max 1"),
        ({"kind": "nope", "column": "x"}, "unknown kind 'nope'"),
        ({"kind": "between", "column": "x", "low": 1}, "unknown parameter(s) low"),
        ({"kind": "between", "column": "x"}, "give min, max or both"),
        ({"kind": "between", "column": "x", "min": 1, "max": "a"}, "not comparable"),
        ({"kind": "between", "column": "x", "min": 1, "max": 1, "strict_max": True},
         "admits no value"),
        ({"kind": "not_null", "column": "x", "severity": "high"}, "severity 'high'"),
        ({"kind": "row_count", "min": 1, "mostly": 0.9}, "mostly applies to row-level"),
        ({"kind": "not_null", "column": "x", "mostly": 1.5}, "mostly must lie in (0, 1]"),
        ({"kind": "in_set", "column": "x", "values": []}, "non-empty list"),
        ({"kind": "regex", "column": "x", "pattern": "("}, "not a valid regular expression"),
        ({"kind": "freshness", "max_lag": "2h"}, "needs the timestamp column"),
        ({"kind": "freshness", "column": "t", "max_lag": "soon"}, "is not a duration"),
        ({"kind": "statistic", "column": "x", "statistic": "kurtosis", "max": 1},
         "unknown statistic"),
        ({"kind": "coverage", "column": "x", "min": 2}, "coverage min must lie in [0, 1]"),
        ({"kind": "not_null"}, "needs a column"),
    ])
    def test_bad_check(self, raw, fragment):
        """Each malformed check raises SLOSpecError with a one-line message naming the fix."""
        with pytest.raises(SLOSpecError) as info:
            Check.from_dict(raw)
        assert fragment in str(info.value) and "\n" not in str(info.value)

    def test_duplicate_names(self):
        """Two checks with one name in a table are refused."""
        with pytest.raises(SLOSpecError, match="two checks are named"):
            TableSLO("t").not_null("a", name="x").unique("b", name="x")

    def test_bad_target(self):
        """An attainment target outside (0, 1) is refused."""
        with pytest.raises(SLOSpecError, match="target must lie"):
            SLOSpec.from_dict({"target": 99})

    def test_missing_include(self, tmp_path):
        """An include that matches no file names the pattern."""
        with pytest.raises(SLOSpecError, match="matches no file"):
            SLOSpec.from_dict({"include": "nope/*.yaml"}, tmp_path)
