"""Events: validation, normalisation and deterministic ids."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pandas as pd
import pytest

from watchkeeper.errors import ConfigError
from watchkeeper.triggers import EVENT_TYPES, Event, event


class TestEvent:
    def test_every_documented_type_is_accepted(self):
        """All eleven event types construct an event (nine of triggers, two of rollout)."""
        assert len(EVENT_TYPES) == 11
        for name in EVENT_TYPES:
            assert Event(name).type == name

    def test_unknown_type_is_a_config_error(self):
        """A misspelt event type names the valid ones in one line."""
        with pytest.raises(ConfigError, match="unknown event type 'slo.fail'") as info:
            Event("slo.fail")
        assert "slo.failed" in str(info.value) and "\n" not in str(info.value)

    def test_unknown_severity_is_a_config_error(self):
        """Severity must be one of ok, info, warning, critical."""
        with pytest.raises(ConfigError, match="unknown severity 'high'"):
            Event("slo.failed", severity="high")

    def test_id_is_deterministic_and_content_based(self):
        """The same content gives the same id; any change of content changes it."""
        a = Event("slo.failed", table="orders", partition="2024-03-05", severity="critical",
                  tags=("b", "a"), context={"check": "rows"})
        b = Event("slo.failed", table="orders", partition="2024-03-05", severity="critical",
                  tags=("a", "b"), context={"check": "rows"})
        assert a.id == b.id and len(a.id) == 24
        assert Event("slo.failed", table="orders", partition="2024-03-06").id != a.id
        assert Event("slo.failed", table="orders", partition="2024-03-05", severity="critical",
                     tags=("a", "b"), context={"check": "nulls"}).id != a.id

    def test_partition_spellings_normalise(self):
        """A date, a midnight datetime, a pandas Timestamp and an ISO string are one partition."""
        spellings = [date(2024, 3, 5), datetime(2024, 3, 5), pd.Timestamp("2024-03-05"),
                     "2024-03-05", "2024-03-05T00:00:00",
                     datetime(2024, 3, 5, tzinfo=timezone.utc)]
        assert {Event("train.before", partition=p).partition for p in spellings} == {"2024-03-05"}
        assert Event("train.before", partition="2024-03-05 13:00").partition == \
            "2024-03-05T13:00:00"

    def test_context_is_copied(self):
        """Mutating the caller's dict after building the event changes neither event nor id."""
        ctx = {"k": 1}
        ev = Event("slo.failed", context=ctx)
        before = ev.id
        ctx["k"] = 2
        assert ev.context == {"k": 1} and ev.id == before

    def test_round_trip_through_dict(self):
        """from_dict(to_dict()) rebuilds an event with the same id (used by retries)."""
        ev = event("incident.opened", table="t", incident_id="I-7", severity="warning",
                   tags=["x"], score=3.5)
        again = Event.from_dict(ev.to_dict())
        assert again == ev and again.id == ev.id and again.context == {"score": 3.5}

    def test_field_values_for_sql(self):
        """event_id, tags and context.KEY are bindable; nested context becomes JSON text."""
        ev = Event("slo.failed", table="t", tags=("a", "b"), context={"n": 3, "d": {"x": 1}})
        assert ev.field_value("event_id") == ev.id
        assert ev.field_value("tags") == "a,b"
        assert ev.field_value("context.n") == 3
        assert ev.field_value("context.d") == '{"x": 1}'
        assert ev.field_value("context.missing") is None
