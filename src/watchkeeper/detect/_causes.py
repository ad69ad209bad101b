"""Fault or shift: the cause class of an anomalous partition.

- **fault** (a likely engineering fault) pages. Its signs: rows lost (a partial load),
  or an integrity statistic moved (nulls, duplicates, new or vanished categories,
  NaNs, empty strings, a change of format such as integral values or string lengths),
  or the anomaly sits in fewer than ``shift_columns`` columns (a unit change, pinned
  values, a swapped pair): a change nothing else explains pages.
- **shift** (a real-world shift): ``shift_columns`` or more columns moved at once with
  no sign of a fault, as a storm moves visibility, precipitation and their null
  fractions together; or more rows and nothing else (a burst of activity: a double
  load also moves the duplicate statistics). Recorded as info.
- **calendar**: a holiday or its eve, with no integrity statistic moved. Recorded as
  info.

The rules are the detector's documented parameters (``shift_columns``,
``page_shifts``), with their evidence in docs/alerts.md.
"""

from __future__ import annotations

FAULT = "fault"
SHIFT = "shift"
CALENDAR = "calendar"

# Statistics whose anomaly is a sign of an engineering fault whatever else moved. Not a
# column's uniqueness: a burst of related rows (many ratings of one film) lowers it too,
# while duplicated rows move ``duplicate_fraction``, which no natural burst does.
INTEGRITY = frozenset({
    "null_fraction", "null_gap", "duplicate_fraction", "nan_count",
    "posinf_count", "neginf_count", "new_share", "vanished_share", "empty_fraction",
    "integral_fraction", "length_min", "length_max", "length_mean",
})
TABLE = "*"


def cause_of(hot: list[tuple[str, str, int]], calendar_day: bool, shift_columns: int) -> str:
    """The cause class of a partition whose anomalous (column, statistic, direction)
    triples are ``hot`` (direction: +1 above its band, -1 below)."""
    integrity = any(s in INTEGRITY for _, s, _ in hot)
    if calendar_day:
        return FAULT if integrity else CALENDAR
    if integrity:
        return FAULT
    if any(c == TABLE and s == "row_count" and d < 0 for c, s, d in hot):
        return FAULT  # rows missing: a partial load
    others = [(c, s) for c, s, _ in hot if c != TABLE]
    if not others:
        return SHIFT  # more rows and nothing else: a burst of activity, not a double load
    return SHIFT if len({c for c, _ in others}) >= shift_columns else FAULT
