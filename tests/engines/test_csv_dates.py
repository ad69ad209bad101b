"""CSV dates follow one rule from file to file: ISO 8601 is a date, anything else is text."""

from __future__ import annotations

import pytest

from watchkeeper.engine import open_source, staging
from watchkeeper.errors import SourceError


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
    from watchkeeper import profile
    from watchkeeper.errors import PartitionColumnError

    (tmp_path / "a.csv").write_text("d,x\n01/02/2024,1\n13/02/2024,2\n")
    with pytest.raises(PartitionColumnError, match="01/02/2024.*YYYY-MM-DD"):
        profile(str(tmp_path / "a.csv"), partition_column="d")


# -- timestamps: one reading for the whole source ----------------------------------------
DAY_FIRST = "t,x\n01/02/2024 13:00:00,1\n13/02/2024 13:00:00,2\n"  # 13/02: day-first
MONTH_FIRST = "t,x\n01/02/2024 01:00:00 PM,1\n02/15/2024 01:00:00 PM,2\n"  # 02/15: month-first
AMBIGUOUS = "t,x\n01/02/2024 13:00:00,1\n02/03/2024 14:00:00,2\n"


@pytest.fixture(params=["staged", "read in place"])
def staging_mode(request, monkeypatch):
    """Both ways a CSV source is read: staged to Parquet, or (no disk room) in place."""
    if request.param == "read in place":
        monkeypatch.setattr(staging, "STAGE_HEADROOM", 10**15)
    monkeypatch.delenv(staging.TIMESTAMP_FORMAT_VARIABLE, raising=False)
    return request.param


def _values(source) -> list:
    relation = open_source(str(source))
    try:
        return [str(v) for v in relation.table.execute()["t"]]
    finally:
        relation.close()


def test_files_whose_timestamps_read_differently_are_refused(tmp_path, staging_mode):
    """01/02/2024 13:00 would be 1 February in a.csv and 2 January in b.csv: refused in
    one line naming the column, both readings and the fix, instead of read both ways."""
    (tmp_path / "a.csv").write_text(DAY_FIRST)
    (tmp_path / "b.csv").write_text(MONTH_FIRST)
    with pytest.raises(SourceError) as raised:
        open_source(str(tmp_path / "*.csv"))
    message = str(raised.value)
    assert "\n" not in message
    assert "'t'" in message and "a.csv" in message and "b.csv" in message
    assert "%d/%m/%Y" in message and "%m/%d/%Y" in message
    assert "WK_CSV_TIMESTAMP_FORMAT=" in message and "ISO 8601" in message


def test_files_that_read_alike_keep_their_timestamps(tmp_path, staging_mode):
    (tmp_path / "a.csv").write_text(DAY_FIRST)
    (tmp_path / "c.csv").write_text(AMBIGUOUS)
    assert _values(tmp_path / "*.csv") == ["2024-02-01 13:00:00", "2024-02-13 13:00:00",
                                           "2024-02-01 13:00:00", "2024-03-02 14:00:00"]


def test_a_declared_format_reads_every_file(tmp_path, staging_mode, monkeypatch):
    """WK_CSV_TIMESTAMP_FORMAT decides for every file: the ambiguous file reads month-first
    as declared, and a file whose text does not fit stays text in every file."""
    monkeypatch.setenv(staging.TIMESTAMP_FORMAT_VARIABLE, "%m/%d/%Y %H:%M:%S")
    (tmp_path / "c.csv").write_text(AMBIGUOUS)
    assert _values(tmp_path / "c.csv") == ["2024-01-02 13:00:00", "2024-02-03 14:00:00"]
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "a.csv").write_text(DAY_FIRST)
    (tmp_path / "m" / "b.csv").write_text(MONTH_FIRST)
    assert _values(tmp_path / "m" / "*.csv") == ["01/02/2024 13:00:00", "13/02/2024 13:00:00",
                                                 "01/02/2024 01:00:00 PM",
                                                 "02/15/2024 01:00:00 PM"]


def test_a_declared_format_that_is_no_format_is_a_user_error(tmp_path, monkeypatch):
    monkeypatch.setenv(staging.TIMESTAMP_FORMAT_VARIABLE, "day-first")
    (tmp_path / "c.csv").write_text(AMBIGUOUS)
    with pytest.raises(SourceError, match="WK_CSV_TIMESTAMP_FORMAT='day-first'.*strptime"):
        open_source(str(tmp_path / "c.csv"))


def test_wk_profile_and_ingest_refuse_the_mixed_files_with_exit_2(tmp_path, monkeypatch,
                                                                 capsys):
    from cli_helpers import run

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WK_STORE_URL", raising=False)
    monkeypatch.delenv(staging.TIMESTAMP_FORMAT_VARIABLE, raising=False)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_text(DAY_FIRST)
    (tmp_path / "in" / "b.csv").write_text(MONTH_FIRST)
    code, _, err = run(["profile", "in/*.csv", "--partition-column", "t"], capsys)
    assert code == 2 and "WK_CSV_TIMESTAMP_FORMAT" in err and "Traceback" not in err
    (tmp_path / "watchkeeper.yaml").write_text(
        "version: 1\nmanaged:\n  events:\n    partition_column: t\n")
    code, _, err = run(["ingest", "events", "in/*.csv", "--partition", "2024-02-01"], capsys)
    assert code == 2 and "column 't'" in err and "Traceback" not in err


# -- one file at a time: a format its values do not decide is refused --------------------
def test_a_file_whose_days_never_pass_12_is_refused(tmp_path, staging_mode):
    """01/02/2024 and 02/03/2024 alone read as day-first or month-first alike; read alone
    (one `wk ingest` per file) the next file could be read the other way, so it is refused
    in one line naming the file, the column and the fix."""
    (tmp_path / "c.csv").write_text(AMBIGUOUS)
    with pytest.raises(SourceError) as raised:
        open_source(str(tmp_path / "c.csv"))
    message = str(raised.value)
    assert "\n" not in message
    assert "'t'" in message and "c.csv" in message
    assert "%d/%m/%Y" in message and "%m/%d/%Y" in message
    assert "WK_CSV_TIMESTAMP_FORMAT=" in message and "ISO 8601" in message


def test_files_the_values_decide_keep_working_one_at_a_time(tmp_path, staging_mode):
    """A day above 12 decides the format (here only in the last row); ISO 8601 never needs
    deciding; a column with no value at all has nothing to decide."""
    (tmp_path / "a.csv").write_text("t,x\n01/02/2024 13:00:00,1\n02/03/2024 13:00:00,2\n"
                                    "13/02/2024 13:00:00,3\n")
    assert _values(tmp_path / "a.csv") == ["2024-02-01 13:00:00", "2024-03-02 13:00:00",
                                           "2024-02-13 13:00:00"]
    (tmp_path / "i.csv").write_text("t,x\n2024-01-02 13:00:00,1\n2024-02-03 14:00:00,2\n")
    assert _values(tmp_path / "i.csv") == ["2024-01-02 13:00:00", "2024-02-03 14:00:00"]


def test_a_declared_format_reads_an_undecided_file(tmp_path, staging_mode, monkeypatch):
    (tmp_path / "c.csv").write_text(AMBIGUOUS)
    monkeypatch.setenv(staging.TIMESTAMP_FORMAT_VARIABLE, "%d/%m/%Y %H:%M:%S")
    assert _values(tmp_path / "c.csv") == ["2024-02-01 13:00:00", "2024-03-02 14:00:00"]


def test_wk_profile_and_ingest_refuse_an_undecided_file_with_exit_2(tmp_path, monkeypatch,
                                                                    capsys):
    from cli_helpers import run

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WK_STORE_URL", raising=False)
    monkeypatch.delenv(staging.TIMESTAMP_FORMAT_VARIABLE, raising=False)
    (tmp_path / "c.csv").write_text(AMBIGUOUS)
    code, _, err = run(["profile", "c.csv", "--partition-column", "t"], capsys)
    assert code == 2 and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert "'t'" in err and "c.csv" in err and "WK_CSV_TIMESTAMP_FORMAT" in err
    (tmp_path / "watchkeeper.yaml").write_text(
        "version: 1\nmanaged:\n  events:\n    partition_column: t\n")
    code, _, err = run(["ingest", "events", "c.csv", "--partition", "2024-02-01"], capsys)
    assert code == 2 and "column 't'" in err and "Traceback" not in err
    monkeypatch.setenv(staging.TIMESTAMP_FORMAT_VARIABLE, "%d/%m/%Y %H:%M:%S")
    code, _, err = run(["profile", "c.csv", "--partition-column", "t"], capsys)
    assert code == 0, err


def test_an_undecided_reference_file_is_refused_by_name_not_as_another_engine(tmp_path,
                                                                              staging_mode):
    """A referential check re-reads the other CSV file beside the checked one: the same
    refusal, not "cannot be read beside it"."""
    from watchkeeper.engine.checks import open_beside
    from watchkeeper.engine.sources import parse_source

    (tmp_path / "a.csv").write_text(DAY_FIRST)
    (tmp_path / "c.csv").write_text(AMBIGUOUS)
    relation = open_source(str(tmp_path / "a.csv"))
    try:
        with pytest.raises(SourceError, match="'t' in c.csv"):
            open_beside(relation, parse_source(str(tmp_path / "c.csv")))
        assert open_beside(relation, parse_source(str(tmp_path / "a.csv"))) is not None
    finally:
        relation.close()
