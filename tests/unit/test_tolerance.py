"""The tolerance table the conformance suite and the docs share."""

from __future__ import annotations

import numpy as np

from watchkeeper import Kind
from watchkeeper.summaries import STATISTIC_NAMES
from watchkeeper.summaries.tolerance import EXACT, RANK, TEMPORAL, tolerance_for, within


class TestTolerance:
    """``within`` accepts what the documented tolerance allows and nothing more."""

    def test_every_statistic_has_a_tolerance(self):
        """Each vocabulary name maps to one of the documented tolerances."""
        for name in STATISTIC_NAMES:
            assert tolerance_for(name, Kind.FLOAT).mode in {"relative", "absolute", "rank"}

    def test_exact_statistics_allow_only_rounding(self):
        """A mean off by 1e-12 relative agrees; one off by 1e-6 does not."""
        assert within("mean", Kind.FLOAT, 1.0 + 1e-12, 1.0)
        assert not within("mean", Kind.FLOAT, 1.0 + 1e-6, 1.0)
        assert tolerance_for("null_fraction", Kind.STRING) is EXACT

    def test_timestamps_are_exact_to_the_microsecond(self):
        """Temporal min/max are compared in absolute seconds, not relative to 1.7e9."""
        assert tolerance_for("max", Kind.TEMPORAL) is TEMPORAL
        assert not within("max", Kind.TEMPORAL, 1.7e9 + 1.0, 1.7e9)
        assert within("max", Kind.TEMPORAL, 1.7e9 + 1e-7, 1.7e9)

    def test_quantiles_lie_in_the_rank_band(self):
        """p50 of 0..99 may be any value ranked between q-0.02 and q+0.02."""
        values = np.arange(100, dtype=float)
        assert tolerance_for("p50", Kind.NUMERIC) is RANK
        assert within("p50", Kind.NUMERIC, 51.0, 49.5, values)
        assert not within("p50", Kind.NUMERIC, 55.0, 49.5, values)

    def test_missing_agrees_only_with_missing(self):
        """None and NaN agree with each other and with nothing else."""
        assert within("mean", Kind.FLOAT, None, float("nan"))
        assert not within("mean", Kind.FLOAT, None, 0.0)
        assert not within("mean", Kind.FLOAT, 0.0, None)
