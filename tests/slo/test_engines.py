"""The shared case table (``cases.py``) on DuckDB, Postgres and Spark.

Per engine, every valid case is evaluated in ONE call (so the fused query is
what is tested), then each case checks its own verdicts.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pandas as pd
import pytest

from watchkeeper.slo import Check, SLOSpecError, TableSLO, evaluate

from .cases import CASES, ERROR_CASES, NOW, TABLES


@dataclass(frozen=True)
class Registered:
    source: str
    partition_column: str = "day"
    granularity: str = "day"


def _duckdb_tables(tmp_path_factory) -> dict[str, Registered]:
    import pyarrow.parquet as pq

    folder = tmp_path_factory.mktemp("slo_cases")
    out = {}
    for name, table in TABLES.items():
        pq.write_table(table, folder / f"{name}.parquet")
        out[name] = Registered(str(folder / f"{name}.parquet"))
    return out


@pytest.fixture(scope="module")
def pg_tables(pg_dsn):
    """The case tables in a fresh Postgres schema (module-wide: created once, dropped after)."""
    import ibis
    import psycopg
    from psycopg import sql

    schema = f"wk_slo_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_dsn, autocommit=True) as con:
        con.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    backend = ibis.connect(pg_dsn)
    for name, table in TABLES.items():
        backend.create_table(name, table, database=schema)
    backend.disconnect()
    yield {name: Registered(f"{pg_dsn}#{schema}.{name}") for name in TABLES}
    with psycopg.connect(pg_dsn, autocommit=True) as con:
        con.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture(scope="module")
def spark_tables(spark):
    suffix = uuid.uuid4().hex[:8]
    out = {}
    for name, table in TABLES.items():
        view = f"wk_{name}_{suffix}"
        spark.createDataFrame(table).createOrReplaceTempView(view)
        out[name] = Registered(f"spark:{view}")
    yield out
    for registered in out.values():
        spark.catalog.dropTempView(registered.source.removeprefix("spark:"))


@pytest.fixture(scope="module", params=["duckdb", "postgres", "spark"])
def engine_tables(request, tmp_path_factory):
    if request.param == "duckdb":
        return _duckdb_tables(tmp_path_factory)
    return request.getfixturevalue("pg_tables" if request.param == "postgres" else "spark_tables")


@pytest.fixture(scope="module")
def fused_results(engine_tables) -> pd.DataFrame:
    slo = TableSLO("orders", [Check.from_dict(c.check) for c in CASES])
    result = evaluate(engine_tables["orders"].source, slo, partition_column="day",
                      others=engine_tables, now=NOW)
    return result.results


class TestCaseTable:
    @pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
    def test_verdicts(self, fused_results, case):
        """Each check gives the expected verdict, counts and observed value per partition."""
        mine = fused_results[fused_results["check"] == case.id]
        assert mine["error"].isna().all(), mine["error"].dropna().tolist()
        got = {p.date().isoformat(): row for p, row in zip(mine["partition"],
                                                           mine.to_dict("records"))}
        assert sorted(got) == sorted(case.expect)
        for partition, want in case.expect.items():
            row = got[partition]
            assert bool(row["passed"]) is want.passed, (partition, row)
            if want.unexpected is not None:
                assert row["unexpected_count"] == want.unexpected, (partition, row)
            if want.n is not None:
                assert row["element_count"] == want.n, (partition, row)
            if want.observed is not None:
                assert row["observed"] == pytest.approx(want.observed), (partition, row)

    @pytest.mark.parametrize("case", ERROR_CASES, ids=[c.id for c in ERROR_CASES])
    def test_spec_errors(self, engine_tables, case):
        """A spec that does not fit the table's types or columns is a one-line SLOSpecError."""
        slo = TableSLO("orders", [Check.from_dict(case.check)])
        with pytest.raises(SLOSpecError) as info:
            evaluate(engine_tables["orders"].source, slo, partition_column="day",
                     others=engine_tables, now=NOW)
        assert "\n" not in str(info.value) and case.id in str(info.value)

    def test_samples_name_violating_rows(self, fused_results):
        """Violating rows come back as a bounded sample with their key and values."""
        row = fused_results[(fused_results["check"] == "between_inclusive")
                            & (fused_results["partition"] == pd.Timestamp("2024-01-02"))].iloc[0]
        import json

        sample = json.loads(row["sample"])
        assert len(sample) == 2
        assert {s["row_key"]["day"][:10] for s in sample} == {"2024-01-02"}
        assert any(s["values"]["amount"].startswith("-1") for s in sample)
