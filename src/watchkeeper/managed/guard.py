"""Guarded reads: which partitions a version holds, whether each is valid, and what a read
of invalid ones does.

A partition at version V is the one its newest committed ingest (at or before V)
wrote. It is *invalid* when that ingest failed a critical SLO check, or when a
``quarantine_partition`` trigger action asked, after that ingest, to quarantine
it. Invalid partitions raise :class:`InvalidPartitionError` (or warn, with
``on_invalid="warn"``) unless the read passes ``allow_invalid=True`` or
``exclude_invalid=True``.

With ``for_`` (``"train"`` or ``"serve"``), :meth:`ManagedTable.read` first asks
the gate (``watchkeeper.gate``) about each chosen partition and adds its reasons
to the partition's ``failed`` list; this module then applies the same rules.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from ..engine import Granularity
from ..errors import ConfigError
from .errors import InvalidPartitionError, InvalidPartitionWarning
from .spec import ON_INVALID, parse_partition

PURPOSES = ("train", "serve")


@dataclass(frozen=True)
class PartitionState:
    """One partition as a version holds it."""

    partition: pd.Timestamp
    key: str
    ingest_id: str
    version: int
    rows: int
    quarantined: int
    failed: tuple[str, ...]  # failed critical checks, and trigger quarantine requests

    @property
    def valid(self) -> bool:
        return not self.failed


def partition_states(ingests: pd.DataFrame, requests: pd.DataFrame, version: int,
                     grain: Granularity) -> list[PartitionState]:
    """Every partition at ``version``, oldest first."""
    committed = ingests[ingests["status"] == "committed"]
    current = committed[committed["data_version"] <= version]
    current = current.sort_values("data_version").groupby("partition_start").tail(1)
    out = []
    for rec in current.sort_values("partition_start").to_dict("records"):
        held = _holds(rec, committed, requests, grain)
        out.append(PartitionState(rec["partition_start"], grain.format(rec["partition_start"]),
                                  rec["ingest_id"], int(rec["data_version"]),
                                  int(rec["rows_valid"]), int(rec["rows_quarantined"]),
                                  tuple(rec["failed_critical"]) + held))
    return out


def _holds(rec: dict, committed: pd.DataFrame, requests: pd.DataFrame,
           grain: Granularity) -> tuple[str, ...]:
    """Trigger requests made while this ingest was the partition's newest."""
    if requests.empty:
        return ()
    same = committed[committed["partition_start"] == rec["partition_start"]]
    later = same[same["committed_at"] > rec["committed_at"]]["committed_at"]
    until = later.min() if not later.empty else None
    out = []
    for req in requests.to_dict("records"):
        try:
            start = parse_partition(req["partition_key"], grain)
        except ConfigError:
            continue  # a request for something that is not one of our partitions
        if start != rec["partition_start"] or req["requested_at"] < rec["committed_at"]:
            continue
        if until is None or req["requested_at"] < until:
            out.append(f"quarantine_partition ({req['trigger_name']})")
    return tuple(dict.fromkeys(out))


def select(states: Sequence[PartitionState], grain: Granularity, *, table: str,
           partitions=None, since=None) -> list[PartitionState]:
    """The states of the requested partitions (all, a list, or from ``since`` on)."""
    if partitions is not None and since is not None:
        raise ConfigError("pass partitions= or since=, not both")
    if since is not None:
        start = parse_partition(since, grain)
        return [s for s in states if s.partition >= start]
    if partitions is None:
        return list(states)
    if isinstance(partitions, (str, pd.Timestamp)) or not hasattr(partitions, "__iter__"):
        partitions = [partitions]
    by_start = {s.partition: s for s in states}
    wanted = [parse_partition(p, grain) for p in partitions]
    missing = [grain.format(p) for p in wanted if p not in by_start]
    if missing:
        known = ", ".join(s.key for s in states[-5:]) or "none"
        raise ConfigError(f"managed table {table!r} has no partition {', '.join(missing)} at "
                          f"this version (newest: {known}): ingest it first")
    return [by_start[p] for p in sorted(set(wanted))]


def guard(states: Sequence[PartitionState], *, table: str, allow_invalid: bool = False,
          exclude_invalid: bool = False, on_invalid: str = "raise", for_: str | None = None
          ) -> list[PartitionState]:
    """Apply the guard: the states to read, or raise / warn about invalid ones."""
    if allow_invalid and exclude_invalid:
        raise ConfigError("pass allow_invalid=True or exclude_invalid=True, not both")
    if on_invalid not in ON_INVALID:
        raise ConfigError(f"on_invalid {on_invalid!r} is not one of {', '.join(ON_INVALID)}")
    if for_ is not None and for_ not in PURPOSES:
        raise ConfigError(f"for_={for_!r} is not one of {', '.join(PURPOSES)} (or None)")
    invalid = [s for s in states if not s.valid]
    if not invalid or allow_invalid:
        return list(states)
    if exclude_invalid:
        return [s for s in states if s.valid]
    message = describe(table, invalid, for_)
    if on_invalid == "warn":
        warnings.warn(message, InvalidPartitionWarning, stacklevel=3)
        return list(states)
    raise InvalidPartitionError(message, {s.key: s.failed for s in invalid})


def describe(table: str, invalid: Sequence[PartitionState], for_: str | None = None) -> str:
    shown = "; ".join(f"{s.key} ({', '.join(s.failed)})" for s in invalid[:10])
    more = f" and {len(invalid) - 10} more" if len(invalid) > 10 else ""
    what = f"may not be used for {for_}" if for_ else "failed critical SLO checks"
    return (f"managed table {table!r}: partition(s) {shown}{more} {what}: "
            "pass allow_invalid=True to read them anyway or exclude_invalid=True to skip them "
            "(wk read --allow-invalid / --exclude-invalid)")
