"""Verdicts of the checks that are not a plain FILTER-count: partition metrics,
schema, freshness, uniqueness, custom aggregate SQL and cross-table checks."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence

import pandas as pd

from .._util import first_line
from ..engine.duck import is_interrupt
from ..errors import UserError
from ..engine import ColumnInfo, QueryFailed
from ..engine import checks as engine
from .bind import Bound, schema_problems
from .kinds import SLOSpecError, duration


def verdict(b: Bound, part, *, passed=None, observed=None, unexpected=None, n=None,
            fraction=None, sample=None, error=None) -> dict:
    return {"check": b.check.name, "kind": b.check.kind,
            "column": ",".join(b.check.targets) or None, "severity": b.check.severity,
            "partition": part, "passed": passed if error is None else None,
            "observed": observed, "unexpected_count": unexpected, "element_count": n,
            "unexpected_fraction": fraction, "sample": sample, "error": error}


def row_verdict(b: Bound, part, bad: int, n: int, sample=None) -> dict:
    """Row-level: ``mostly`` is the share of judged (non-NULL) rows that must pass.

    No judged rows (an empty partition, an all-NULL column) is a vacuous pass.
    """
    fraction = bad / n if n else None
    passed = n == 0 or (n - bad) >= b.check.mostly * n - 1e-9
    observed = None if fraction is None else 1.0 - fraction
    return verdict(b, part, passed=passed, observed=observed, unexpected=bad, n=n,
                   fraction=fraction, sample=sample)


def _within(value, lo, hi) -> bool:
    if value is None:
        return False  # a statistic that cannot be computed is not "in range"
    return (lo is None or value >= lo) and (hi is None or value <= hi)


def check_failure(exc: BaseException) -> str:
    """The one-line error of a check the engine could not build or run, for its ``error``
    verdict (the other checks still run). A user error or an interrupt is no check's
    failure: it propagates."""
    if isinstance(exc, UserError) or is_interrupt(exc):
        raise exc
    if isinstance(exc, QueryFailed):
        return first_line(exc)
    return f"{type(exc).__name__}: {first_line(exc)}"[:500]


def judge_partition_level(ctx, bound: list[Bound], base: dict,
                          columns: Sequence[ColumnInfo]) -> pd.DataFrame:
    parts = base["partitions"]
    rows: list[dict] = []
    sql_aggs = [b for b in bound if b.check.kind == "sql_aggregate"]
    agg_values, agg_errors = _sql_aggregate_values(ctx, sql_aggs)
    for b in bound:
        judge = _JUDGES.get(b.check.kind)
        if judge is None:
            continue
        try:
            rows.extend(judge(ctx, b, parts, base, columns, agg_values, agg_errors))
        except Exception as exc:  # noqa: BLE001  (this check errs; the others still run)
            error = check_failure(exc)
            rows.extend(verdict(b, p, error=error) for p in parts)
    return pd.DataFrame(rows)


def _metric_error(b: Bound, parts, base):
    err = base["errors"].get(b.metric.key) if b.metric else None
    return [verdict(b, p, error=err) for p in parts] if err else None


def _coverage(ctx, b, parts, base, columns, *_):
    failed = _metric_error(b, parts, base)
    if failed:
        return failed
    out = []
    for p, rec in parts.items():
        rows, non_null = rec["row_count"], rec["metric"].get(b.metric.key) or 0
        share = non_null / rows if rows else None
        out.append(verdict(b, p, passed=share is None or share >= b.params["min"] - 1e-12,
                           observed=share, unexpected=rows - non_null, n=rows,
                           fraction=None if share is None else 1 - share))
    return out


def _row_count(ctx, b, parts, base, columns, *_):
    lo, hi = b.params.get("min"), b.params.get("max")
    return [verdict(b, p, passed=_within(rec["row_count"], lo, hi), observed=rec["row_count"])
            for p, rec in parts.items()]


def _statistic(ctx, b, parts, base, columns, *_):
    failed = _metric_error(b, parts, base)
    if failed:
        return failed
    lo, hi = b.params.get("min"), b.params.get("max")
    return [verdict(b, p, passed=_within(value := rec["metric"].get(b.metric.key), lo, hi),
                    observed=value) for p, rec in parts.items()]


def _schema(ctx, b, parts, base, columns, *_):
    problems = schema_problems(b.params, columns)
    sample = json.dumps([{"problem": text} for text in problems]) if problems else None
    return [verdict(b, p, passed=not problems, observed=len(problems), sample=sample)
            for p in parts]


def _freshness(ctx, b, parts, base, columns, *_):
    """One verdict per partition: on time (deadline) and fresh enough (max_lag).

    The observed value is the lag in seconds when max_lag is set, else the row count.
    """
    failed = _metric_error(b, parts, base)
    if failed:
        return failed
    step = ctx.grain.offset
    verdicts: dict = {}
    if "deadline" in b.params:
        for p, ok, rows in _deadline(ctx, parts, duration(b.params["deadline"], b.check.name)):
            verdicts[p] = (ok, float(rows))
    if "max_lag" in b.params:
        limit = duration(b.params["max_lag"], b.check.name).total_seconds()
        for p, rec in parts.items():
            if not rec["row_count"]:
                continue  # a missing partition is the deadline's business
            newest = rec["metric"].get(b.metric.key)
            lag = None
            if newest is not None:
                lag = (min(p + step, ctx.now) - pd.Timestamp(newest)).total_seconds()
            on_time = verdicts.get(p, (True, 0))[0]
            verdicts[p] = (on_time and lag is not None and lag <= limit, lag)
    return [verdict(b, p, passed=ok, observed=value)
            for p, (ok, value) in sorted(verdicts.items())]


CALENDAR_LIMIT = 1000
"""The most periods a freshness deadline expects when every partition is evaluated
(the latest due ones; earlier gaps are not judged)."""


def _deadline(ctx, parts, deadline: pd.Timedelta):
    """Each partition must exist once ``deadline`` has passed after its end.

    Without explicit partitions, every period from the first partition up to the
    last one that is due is expected, but never more than ``CALENDAR_LIMIT`` of the
    latest ones: one row dated year 1 must not make a calendar of 740,000 days.
    Missing ones fail with 0 rows observed. Yields ``(partition, on_time, row_count)``.
    """
    step = ctx.grain.offset
    present = {p for p, rec in parts.items() if rec["row_count"]}
    expected = set(parts)
    if ctx.partitions is None and present:
        first = min(present)
        # Python datetimes: a span of centuries overflows pandas' nanosecond Timedelta.
        span = (ctx.now - deadline - step).to_pydatetime() - first.to_pydatetime()
        due = math.floor(span / step.to_pytimedelta()) + 1  # periods due since the first
        for i in range(max(0, due - CALENDAR_LIMIT), max(due, 0)):
            expected.add(pd.Timestamp(first.to_pydatetime() + i * step.to_pytimedelta()))
    for p in sorted(expected):
        if p in present:
            yield p, True, parts[p]["row_count"]
        elif p + step + deadline <= ctx.now:
            yield p, False, 0


def _unique(ctx, b, parts, base, columns, *_):
    frame = engine.duplicate_counts(ctx.relation, ctx.partition_column, ctx.grain,
                                    list(b.check.targets), ctx.partitions)
    found = {p: (int(j), int(d)) for p, j, d in frame.itertuples(index=False, name=None)}
    return [row_verdict(b, p, found.get(p, (0, 0))[1], found.get(p, (0, 0))[0]) for p in parts]


def _sql_aggregate_values(ctx, probes: list[Bound]) -> tuple[dict, dict[str, str]]:
    """Every aggregate SQL predicate per partition, in one query; when that query fails,
    each predicate alone, so only the ones the engine refuses get the error verdict."""
    values: dict = {}
    errors: dict[str, str] = {}
    if not probes:  # no query: without a predicate it would fetch every row, ungrouped
        return values, errors
    batches = [probes] + ([[b] for b in probes] if len(probes) > 1 else [])
    for batch in batches:
        try:
            found = engine.sql_aggregates(ctx.relation, ctx.partition_column, ctx.grain,
                                          [b.metric for b in batch], ctx.partitions)
        except Exception as exc:  # noqa: BLE001
            if len(batch) == 1:
                errors[batch[0].metric.key] = check_failure(exc)
            continue
        for p, by_key in found.items():
            values.setdefault(p, {}).update(by_key)
        if batch is probes:
            break
    return values, errors


def _sql_aggregate(ctx, b, parts, base, columns, values, errors):
    if b.metric.key in errors:
        return [verdict(b, p, error=errors[b.metric.key]) for p in parts]
    out = []
    for p, rec in parts.items():
        if not rec["row_count"]:
            continue  # an aggregate over no rows says nothing about the partition
        value = values.get(p, {}).get(b.metric.key)
        out.append(verdict(b, p, passed=bool(value), observed=None if value is None
                           else float(bool(value))))
    return out


def _referential(ctx, b, parts, base, columns, *_):
    failed = _metric_error(b, parts, base)
    if failed:
        return failed
    other_name = str(b.params["table"])
    other = ctx.open_other(other_name)
    try:
        other_table = engine.open_beside(ctx.relation, _spec_of(ctx, other_name))
        if other_table is None:
            raise SLOSpecError(f"check {b.check.name!r}: table {other_name!r} is in another "
                               f"engine than {ctx.relation.label!r}: a referential check "
                               "needs both tables in one engine")
        other_col = str(b.params.get("other_column", b.check.column))
        if other_col not in other_table.columns:
            raise SLOSpecError(f"check {b.check.name!r}: table {other_name!r} has no column "
                               f"{other_col!r}: set other_column")
        probe = engine.Probe(b.metric.key, "referential", (b.check.column,),
                             {"other_column": other_col})
        frame = engine.missing_references(ctx.relation, ctx.partition_column, ctx.grain, probe,
                                          other_table, ctx.partitions)
    finally:
        other.close()
    missing = dict(zip(frame["partition"], frame["missing"]))
    return [row_verdict(b, p, int(missing.get(p, 0)), int(rec["metric"].get(b.metric.key) or 0))
            for p, rec in parts.items()]


def _row_count_match(ctx, b, parts, base, columns, *_):
    other_name = str(b.params["table"])
    spec = ctx.other(other_name)
    other = ctx.open_other(other_name)
    try:
        counts = other.partition_counts(spec.partition_column, ctx.grain)
    finally:
        other.close()
    theirs = dict(zip(counts["partition"], counts["row_count"]))
    lo, hi = b.params.get("min_ratio", 1.0), b.params.get("max_ratio", 1.0)
    out = []
    for p, rec in parts.items():
        other_rows = int(theirs.get(p, 0))
        ratio = rec["row_count"] / other_rows if other_rows else None
        out.append(verdict(b, p, passed=_within(ratio, lo - 1e-12, hi + 1e-12), observed=ratio,
                           n=other_rows))
    return out


def _spec_of(ctx, name: str):
    from ..engine import parse_source

    return parse_source(ctx.other(name).source, ctx.root)


_JUDGES: dict[str, Callable] = {
    "coverage": _coverage, "row_count": _row_count, "statistic": _statistic,
    "schema": _schema, "freshness": _freshness, "unique": _unique, "compound_unique": _unique,
    "sql_aggregate": _sql_aggregate, "referential": _referential,
    "row_count_match": _row_count_match,
}

__all__ = ["judge_partition_level", "row_verdict", "verdict"]
