"""The built-in partition check finds the rows outside the partition, whatever the column's
type: computed in Arrow for DATE and zoneless TIMESTAMP columns when no other check runs,
by the engine otherwise, with the same answer."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pytest

from watchkeeper.engine.checks import Probe
from watchkeeper.engine.managed_batch import PARTITION_CHECK, find_violations
from watchkeeper.engine.types import Granularity

DAY = pd.Timestamp("2024-03-01")
STAMPS = [dt.datetime(2024, 3, 1, 0, 0), dt.datetime(2024, 2, 29, 23, 59, 59),
          dt.datetime(2024, 3, 1, 23, 59, 59, 999000), None, dt.datetime(2024, 3, 2, 0, 0),
          dt.datetime(2024, 3, 1, 12, 0)]
OUTSIDE = [1, 3, 4]  # the day before, NULL, the day after


def _batch(values: pa.Array) -> pa.Table:
    return pa.table({"id": list(range(len(values))), "at": values})


def _outside(batch: pa.Table, probes=(), names=None, grain=Granularity.DAY, day=DAY):
    found = find_violations(batch, list(probes), names or {}, partition_column="at",
                            grain=grain, partition=day)
    rows = found.rows.tolist()
    return [r for r, names in zip(rows, found.failed.to_pylist()) if PARTITION_CHECK in names]


@pytest.mark.parametrize("kind", [pa.timestamp("us"), pa.timestamp("ns"), pa.timestamp("ms"),
                                  pa.timestamp("s")])
def test_zoneless_timestamps(kind):
    values = pa.array([None if v is None else v.replace(microsecond=0) if kind.unit == "s"
                       else v for v in STAMPS], type=kind)
    assert _outside(_batch(values)) == OUTSIDE


def test_dates():
    values = pa.array([None if v is None else v.date() for v in STAMPS], type=pa.date32())
    # as dates, 2024-03-01 23:59 and 2024-03-01 12:00 are the day itself
    assert _outside(_batch(values)) == OUTSIDE


def test_same_answer_as_the_engine():
    """With a check beside it the engine computes the partition key; the rows outside are
    the same ones (a check that passes everywhere adds no row)."""
    batch = _batch(pa.array(STAMPS, type=pa.timestamp("us")))
    probe = Probe("r0", "not_null", ("id",), {})
    assert _outside(batch, [probe], {"r0": "id_present"}) == _outside(batch) == OUTSIDE


def test_zoned_timestamps_and_hours_go_through_the_engine():
    zoned = pa.array(STAMPS, type=pa.timestamp("us", tz="UTC"))
    assert _outside(_batch(zoned)) == OUTSIDE
    hour = pd.Timestamp("2024-03-01 12:00")
    assert _outside(_batch(pa.array(STAMPS, type=pa.timestamp("us"))),
                    grain=Granularity.HOUR, day=hour) == [0, 1, 2, 3, 4]
