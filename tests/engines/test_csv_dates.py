"""CSV dates follow one rule from file to file: ISO 8601 is a date, anything else is text."""

from __future__ import annotations

from watchkeeper.engine import open_source


def _first(path) -> tuple[str, object]:
    relation = open_source(str(path))
    try:
        kind = {c.name: c.kind.value for c in relation.columns()}["d"]
        return kind, relation.table.execute()["d"].iloc[0]
    finally:
        relation.close()


def test_ambiguous_dates_read_the_same_in_every_file(tmp_path):
    """01/02/2024 next to 13/02/2024 (day-first) and next to 02/15/2024 (month-first):
    the same text must never mean two dates."""
    (tmp_path / "a.csv").write_text("d,x\n01/02/2024,1\n13/02/2024,2\n")
    (tmp_path / "b.csv").write_text("d,x\n01/02/2024,1\n02/15/2024,2\n")
    assert _first(tmp_path / "a.csv") == _first(tmp_path / "b.csv") == ("string", "01/02/2024")


def test_iso_dates_are_dates(tmp_path):
    (tmp_path / "c.csv").write_text("d,x\n2024-01-02,1\n2024-02-13,2\n")
    kind, value = _first(tmp_path / "c.csv")
    assert kind == "temporal" and str(value)[:10] == "2024-01-02"


def test_a_text_partition_column_that_is_not_iso_is_refused_clearly(tmp_path):
    import pytest

    from watchkeeper import profile
    from watchkeeper.errors import PartitionColumnError

    (tmp_path / "a.csv").write_text("d,x\n01/02/2024,1\n13/02/2024,2\n")
    with pytest.raises(PartitionColumnError, match="01/02/2024.*YYYY-MM-DD"):
        profile(str(tmp_path / "a.csv"), partition_column="d")
