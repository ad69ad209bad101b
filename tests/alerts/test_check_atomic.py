"""A check stores its incidents and the partitions it judged in one transaction, on both
stores: a failure between the two writes stores neither, and a lost race runs it again."""

from __future__ import annotations

import pandas as pd
import pytest
from alert_histories import day, make_history, save_history, shift

from watchkeeper.alerts import check, incidents
from watchkeeper.store import _db
from watchkeeper.store.alerts import AlertLog


def _faulty_history() -> pd.DataFrame:
    return shift(make_history(90), day(89), "fare", "mean", 40.0)


def _stored(project, store) -> tuple[int, int]:
    """(incidents, checked partitions) in the store."""
    return (len(incidents(project, store=store, min_severity="info", include_closed=True)),
            len(AlertLog(store).checked("trips")))


class DiskFull(Exception):
    pass


def test_a_failure_between_the_two_writes_stores_nothing(project, store, monkeypatch):
    """The incident is written, then marking the partition checked fails: the incident is
    rolled back with it, and the next check judges the partition and opens it again."""
    save_history(store, "trips", _faulty_history())

    def fail(self, table, verdicts, detector=None):
        assert incidents(project, store=store, min_severity="info"), "incident not written yet"
        raise DiskFull("no space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(AlertLog, "mark_checked", fail)
        with pytest.raises(DiskFull):
            check("trips", project, store=store)
    assert _stored(project, store) == (0, 0)
    again = check("trips", project, store=store)
    assert again.partitions == (day(89),) and [i.change for i in again.incidents] == ["opened"]
    assert _stored(project, store) == (1, 1)


def test_a_failure_on_recheck_keeps_the_previous_incident(project, store, monkeypatch):
    """Re-checking an open incident that fails half-way leaves it as it was stored."""
    save_history(store, "trips", _faulty_history())
    [before] = check("trips", project, store=store).incidents
    with monkeypatch.context() as patched:
        patched.setattr(AlertLog, "mark_checked",
                        lambda self, table, verdicts, detector=None:
                        (_ for _ in ()).throw(DiskFull("full")))
        with pytest.raises(DiskFull):
            check("trips", project, store=store, partitions=[day(89)])
    [after] = incidents(project, store=store, min_severity="info")
    assert (after.id, after.updated_at, after.partitions) == (before.id, before.updated_at,
                                                               before.partitions)
    assert _stored(project, store) == (1, 1)


def test_a_lost_race_is_run_again_whole(project, store, monkeypatch):
    """The first attempt loses a race after writing the incident: it is rolled back and
    run again, so the store holds one incident, not two."""
    save_history(store, "trips", _faulty_history())
    real = AlertLog.mark_checked
    calls = []

    def race_once(self, table, verdicts, detector=None):
        calls.append(table)
        if len(calls) == 1:
            raise LostRace()
        return real(self, table, verdicts, detector)

    class LostRace(Exception):
        pass

    monkeypatch.setattr(_db, "is_lost_race", lambda exc: isinstance(exc, LostRace))
    monkeypatch.setattr(AlertLog, "mark_checked", race_once)
    result = check("trips", project, store=store)
    assert len(calls) == 2 and [i.change for i in result.incidents] == ["opened"]
    assert _stored(project, store) == (1, 1)
