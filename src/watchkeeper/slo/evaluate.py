"""Evaluate a table's checks: one fused scan, a few targeted queries, one result per
(check, partition).

Each result says whether the check passed, the observed value, the unexpected
count and fraction, and a bounded sample of violating rows with their row key.
A check whose query the engine rejects gets an ``error`` instead of a verdict;
the other checks still run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from .._util import first_line
from ..engine import Granularity, QueryFailed, Relation, open_source, parse_source
from ..engine import checks as engine
from .bind import Bound, bind
from .partition_level import check_failure, judge_partition_level, row_verdict, verdict
from .spec import TableSLO
from .._display import repr_html

RESULT_COLUMNS = ["check", "kind", "column", "severity", "partition", "passed", "observed",
                  "unexpected_count", "element_count", "unexpected_fraction", "sample", "error"]


@dataclass
class ValidationResult:
    """Every (check, partition) verdict of one evaluation; ``results`` is a long frame."""

    table: str
    granularity: Granularity
    results: pd.DataFrame

    def failed(self, severity: str | None = None) -> pd.DataFrame:
        if self.results.empty:  # a table without checks: nothing to filter
            return self.results
        bad = self.results[self.results["passed"].eq(False) | self.results["error"].notna()]
        return bad if severity is None else bad[bad["severity"] == severity]

    @property
    def ok(self) -> bool:
        """No critical check failed (warnings and info do not count)."""
        return self.failed("critical").empty

    _repr_html_ = repr_html  # Jupyter: tables and charts (watchkeeper.server.notebook)

    def records(self):
        fmt = self.granularity.format
        for row in self.results.to_dict("records"):
            row["partition"] = fmt(row["partition"])
            row["sample"] = json.loads(row["sample"]) if row["sample"] else []
            yield {k: (None if _isnan(v) else v) for k, v in row.items()}


def evaluate(source, slo: TableSLO, *, partition_column: str, granularity="day",
             partitions: Sequence | None = None, store=None, name: str | None = None,
             others: Mapping | None = None, root=None, now=None,
             sample_size: int = 5) -> ValidationResult:
    """Evaluate ``slo`` on ``source``: all partitions, the given ones, or ``"latest"``.

    ``others`` maps table names to objects with ``source``, ``partition_column``
    and ``granularity`` (e.g. :class:`watchkeeper.TableSpec`), for cross-table
    checks. With a ``store``, the results are saved there.
    """
    grain = Granularity.parse(granularity)
    name = name or slo.table
    now = pd.Timestamp.utcnow().tz_localize(None) if now is None else pd.Timestamp(now)
    relation = open_source(source, root=root, label=name)
    try:
        columns = relation.columns()
        wanted = _wanted(relation, partition_column, grain, partitions)
        bound = bind(slo.checks, columns, name)
        _check_key(slo, columns, name)
        ctx = _Context(relation, partition_column, grain, wanted, others or {}, root, now)
        base = _fused(ctx, bound)
        frames = [_row_results(ctx, bound, base, slo.key or (partition_column,), sample_size),
                  judge_partition_level(ctx, bound, base, columns)]
    finally:
        relation.close()
    results = pd.concat([f for f in frames if not f.empty] or [_empty()], ignore_index=True)
    results = results.sort_values(["partition", "check"], ignore_index=True)[RESULT_COLUMNS]
    for text in ("column", "sample", "error"):  # missing text is None, never NaN
        results[text] = results[text].astype(object).where(results[text].notna(), None)
    if store is not None:
        from ..store.slo_results import save_results

        save_results(store, name, results)
    return ValidationResult(name, grain, results)


@dataclass
class _Context:
    relation: Relation
    partition_column: str
    grain: Granularity
    partitions: list[pd.Timestamp] | None
    others: Mapping
    root: object
    now: pd.Timestamp

    def other(self, table: str):
        """The registered spec of another table (for cross-table checks)."""
        from .kinds import SLOSpecError

        if table not in self.others:
            known = ", ".join(sorted(self.others)) or "none"
            raise SLOSpecError(f"cross-table check names table {table!r}, which is not "
                               f"registered (registered: {known}): register it first")
        return self.others[table]

    def open_other(self, table: str) -> Relation:
        spec = self.other(table)
        return open_source(parse_source(spec.source, self.root), label=table)


def _fused(ctx: _Context, bound: list[Bound]) -> dict:
    """The one scan; if the engine rejects it, each probe is retried alone to isolate it."""
    row = [b.row for b in bound if b.row is not None]
    metrics = [b.metric for b in bound if b.metric is not None and b.metric.kind != "sql_aggregate"]
    errors: dict[str, str] = {}
    try:
        records = engine.fused_counts(ctx.relation, ctx.partition_column, ctx.grain, row, metrics,
                                      ctx.partitions)
    except Exception as exc:  # noqa: BLE001  (any check the engine rejects: isolate it)
        check_failure(exc)
        records = engine.fused_counts(ctx.relation, ctx.partition_column, ctx.grain, [], [],
                                      ctx.partitions)
        by_part = {r["partition"]: r for r in records}
        for probe in row + metrics:
            alone = ([probe], []) if probe in row else ([], [probe])
            try:
                for r in engine.fused_counts(ctx.relation, ctx.partition_column, ctx.grain,
                                             *alone, ctx.partitions):
                    by_part[r["partition"]]["row"].update(r["row"])
                    by_part[r["partition"]]["metric"].update(r["metric"])
            except Exception as exc:  # noqa: BLE001  (this check gets the error verdict)
                errors[probe.key] = check_failure(exc)
    found = {r["partition"]: r for r in records}
    for p in ctx.partitions or ():
        found.setdefault(p, {"partition": p, "row_count": 0, "row": {}, "metric": {}})
    return {"partitions": dict(sorted(found.items())), "errors": errors}


def _row_results(ctx: _Context, bound: list[Bound], base: dict, key: Sequence[str],
                 sample_size: int) -> pd.DataFrame:
    rows = []
    failing = []
    for b in bound:
        if b.row is None:
            continue
        for part, rec in base["partitions"].items():
            if b.row.key in base["errors"]:
                rows.append(verdict(b, part, error=base["errors"][b.row.key]))
                continue
            bad, n = rec["row"].get(b.row.key, (0, 0))
            rows.append(row_verdict(b, part, bad, n))
            if bad and b not in failing:
                failing.append(b)
    samples = _samples(ctx, failing, key, sample_size)
    frame = pd.DataFrame(rows)
    if not frame.empty:
        keys = [(r["check"], r["partition"]) for r in rows]
        frame["sample"] = [samples.get(k) for k in keys]
    return frame


def _samples(ctx: _Context, failing: list[Bound], key: Sequence[str], limit: int) -> dict:
    if not failing:
        return {}
    probes = [b.row for b in failing]
    try:
        frame = engine.violation_samples(ctx.relation, ctx.partition_column, ctx.grain, probes,
                                         list(key), limit, ctx.partitions)
    except QueryFailed:
        return {}  # samples are a courtesy: the counts above are the verdict
    names = {b.row.key: b.check.name for b in failing}
    out: dict = {}
    for rec in frame.to_dict("records"):
        entry = {"row_key": json.loads(rec["row_key"]), "values": json.loads(rec["values"])}
        out.setdefault((names[rec["probe"]], rec["partition"]), []).append(entry)
    return {k: json.dumps(v) for k, v in out.items()}


def _check_key(slo: TableSLO, columns, table: str) -> None:
    names = {c.name for c in columns}
    missing = [k for k in slo.key if k not in names]
    if missing:
        from .kinds import SLOSpecError

        raise SLOSpecError(f"table {table!r}: key column(s) {', '.join(map(repr, missing))} "
                           f"not in the table (columns: {', '.join(list(names)[:15])}): fix key")


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=RESULT_COLUMNS)


def _wanted(relation: Relation, column: str, grain: Granularity, partitions):
    if partitions is None:
        return None
    if isinstance(partitions, str) and partitions == "latest":
        counts = relation.partition_counts(column, grain)
        return list(counts["partition"].tail(1))
    if isinstance(partitions, str):
        partitions = [partitions]
    return sorted({_as_partition(p) for p in partitions})


def _as_partition(value) -> pd.Timestamp:
    return pd.Timestamp(value).tz_localize(None) if pd.Timestamp(value).tzinfo is None \
        else pd.Timestamp(value).tz_convert("UTC").tz_localize(None)


def _isnan(value) -> bool:
    return isinstance(value, float) and value != value
