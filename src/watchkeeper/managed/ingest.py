"""One ingest: evaluate the batch, quarantine violating rows, commit the rest atomically.

Steps, under a per-table lock:

1. undo leftovers of a killed ingest (Delta commits and quarantine files the
   store never recorded);
2. load the batch once, in the table's column types when no value changes
   (``engine/conform.py``, ``on_type_change``); evaluate the table's SLOs on it (results as for
   ``wk validate``); find rows violating a *critical* row-level check, or lying
   outside the partition (built-in check ``partition_key``), in one query;
3. write the quarantined rows (one Parquet file), then the valid rows (one Delta
   commit replacing the partition) -- or, when a critical partition-level check
   failed and the table says ``on_partition_failure: reject``, send every row
   to quarantine and keep the previous version. A batch with no row in the
   partition is refused (nothing written), and zero valid rows never replace a
   partition that has rows unless ``allow_empty`` (the batch is rejected instead);
4. commit: one store transaction records the ingest. Before it, readers see the
   old version; after it, the new one. Then the SLO results are saved,
   ``slo.failed`` is fired per failed check and ``ingest.quarantined`` if rows
   were quarantined.

``WK_TEST_INGEST_PAUSE=STEP[:SECONDS]`` (tests only) stops at a step
(``loaded``, ``flagged``, ``quarantine_written``, ``data_written``,
``committed``) so that a test can kill the process there.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import time
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow.compute as pc

from ..engine import delta
from ..engine import managed_batch as batches
from ..engine.conform import conform
from ..engine.checks import Probe
from ..engine.sources import parse_source
from ..errors import ConfigError, UserError
from ..slo import ValidationResult, evaluate
from ..slo.bind import bind
from ..store import managed as catalog
from ..store.slo_results import save_results
from .spec import parse_partition

STEPS = ("loaded", "flagged", "quarantine_written", "data_written", "committed")
_ROW_FLAGGED = {"unique", "compound_unique", "referential"}  # flagged without a fused probe


@dataclass(frozen=True)
class IngestResult:
    """What one ingest did. ``ok`` is False when a critical check failed."""

    ingest_id: str
    table: str
    partition: pd.Timestamp
    partition_key: str
    status: str  # "committed" or "rejected" (previous version kept)
    version: int | None
    rows_in: int
    rows_valid: int
    rows_quarantined: int
    failed_critical: tuple[str, ...]
    failed_other: tuple[str, ...]
    validation: ValidationResult = field(repr=False)
    note: str | None = None  # why a batch was rejected, when no partition-level check says

    @property
    def ok(self) -> bool:
        return not self.failed_critical

    def to_dict(self) -> dict:
        return {"ingest_id": self.ingest_id, "table": self.table,
                "partition": self.partition_key, "status": self.status,
                "version": self.version, "rows_in": self.rows_in, "rows_valid": self.rows_valid,
                "rows_quarantined": self.rows_quarantined,
                "failed_critical": list(self.failed_critical),
                "failed_other": list(self.failed_other), "ok": self.ok, "note": self.note}


def run_ingest(table, data, partition, *, source: str | None = None,
               allow_empty: bool = False) -> IngestResult:
    spec = table.spec
    grain = spec.grain
    start = parse_partition(partition, grain)
    key = grain.format(start)
    ingest_id = f"{pd.Timestamp.utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:10]}"
    started = pd.Timestamp.utcnow().tz_localize(None)
    # One store connection for the ingest's reads and its one commit (opening DuckDB costs
    # milliseconds each time), held only while this table's ingest lock is.
    with _locked(table.path), table.store.session():
        # One handle on the Delta table for the recovery, the schema and the write.
        handle, committed = recover(table)
        batch = batches.load_batch(data, root=table.root)
        # Checks judge the values that will be stored: the batch in the table's types.
        schema = delta.schema_of(table.data_path, committed, handle)
        batch = conform(batch, schema, policy=spec.on_type_change, table=spec.name)
        _pause("loaded")
        validation = _validate(table, batch, start)
        violations = _violations(table, batch, start)
        _refuse_misaddressed(table, batch, violations, key)
        failed = validation.failed()
        critical = failed[failed["severity"] == "critical"]
        failed_critical = list(dict.fromkeys(critical["check"]))
        if violations.rows.size and _has(violations, batches.PARTITION_CHECK):
            failed_critical.append(batches.PARTITION_CHECK)
        failed_other = list(dict.fromkeys(failed[failed["severity"] != "critical"]["check"]))
        level = {c.name: c.level for c in table.slo.checks}
        partition_failures = [c for c in failed_critical if level.get(c) == "partition"]
        rejected = spec.on_partition_failure == "reject" and bool(partition_failures)
        note = None
        if not rejected and not allow_empty and violations.rows.size == batch.num_rows:
            note = _emptying(table, start, key, batch.num_rows)
            rejected = note is not None
        if rejected:
            valid = None
            quarantined = batches.reject_all(batch, violations, partition_failures, ingest_id)
        else:
            valid, quarantined = batches.split(batch, violations, ingest_id)
        _pause("flagged")
        qinfo = None
        if quarantined.num_rows:
            relative = f"quarantine/{ingest_id}.parquet"
            delta.write_quarantine(table.path / relative, quarantined)
            qinfo = {"file": relative, "row_count": quarantined.num_rows, "rejected": rejected}
        _pause("quarantine_written")
        version = None if rejected else delta.write_partition(table.data_path, valid, key,
                                                              ingest_id, handle)
        _pause("data_written")
        # The ingest and its verdicts (wk slo status) commit in one store transaction: a
        # failure reported (a store locked past WK_LOCK_TIMEOUT) has recorded nothing,
        # and the next ingest's recover() rolls the Delta table back to the last commit.
        with table.store.atomic():
            catalog.record_ingest(table.store, {
                "ingest_id": ingest_id, "table_name": spec.name, "partition_start": start,
                "status": "rejected" if rejected else "committed", "data_version": version,
                "rows_in": batch.num_rows, "rows_valid": 0 if rejected else valid.num_rows,
                "rows_quarantined": quarantined.num_rows, "failed_critical": failed_critical,
                "failed_other": failed_other, "source": source, "started_at": started}, qinfo)
            save_results(table.store, spec.name, validation.results)
        _pause("committed")
    result = IngestResult(ingest_id, spec.name, start, key, "rejected" if rejected else
                          "committed", version, batch.num_rows,
                          0 if rejected else valid.num_rows, quarantined.num_rows,
                          tuple(failed_critical), tuple(failed_other), validation, note)
    _fire(table, result)
    return result


def _validate(table, batch, start) -> ValidationResult:
    """The table's SLO checks on the batch; a table without checks has nothing to scan."""
    spec = table.spec
    if not table.slo.checks and not table.slo.key:
        from ..slo.evaluate import RESULT_COLUMNS

        return ValidationResult(spec.name, spec.grain, pd.DataFrame(columns=RESULT_COLUMNS))
    return evaluate(batch, table.slo, partition_column=spec.partition_column,
                    granularity=spec.grain, partitions=[start], name=spec.name,
                    others=table.others, root=table.root)


def _violations(table, batch, start) -> batches.Violations:
    """Rows failing a critical row-level check (``mostly`` decides the verdict, not this)."""
    bound = (bind(table.slo.checks, batches.batch_columns(batch), table.spec.name)
             if table.slo.checks else [])
    probes, names, references = [], {}, {}
    for b in bound:
        check = b.check
        if check.severity != "critical" or check.level != "row":
            continue
        if b.row is not None:
            probe = b.row
        elif check.kind in _ROW_FLAGGED:
            probe = Probe(f"r{len(probes)}", check.kind, check.targets, dict(check.params))
        else:
            continue
        if check.kind == "referential":
            other = table.others_spec(str(check.params["table"]))
            references[probe.key] = parse_source(other.source, table.root)
            probe = Probe(probe.key, probe.kind, probe.columns, {
                "other_column": str(check.params.get("other_column", check.column))})
        probes.append(probe)
        names[probe.key] = check.name
    return batches.find_violations(batch, probes, names, partition_column=table.spec
                                   .partition_column, grain=table.spec.grain, partition=start,
                                   references=references)


def _refuse_misaddressed(table, batch, violations: batches.Violations, key: str) -> None:
    """A batch none of whose rows lies in the partition was sent to the wrong one."""
    n = batch.num_rows
    if not n or violations.rows.size < n or _count(violations, batches.PARTITION_CHECK) < n:
        return
    spec = table.spec
    found = batches.partitions_of(batch, spec.partition_column, spec.grain)
    where = (f"they lie in {', '.join(found[:5])}{' ...' if len(found) > 5 else ''}"
             if found else f"their {spec.partition_column} is NULL")
    hint = f"pass --partition {found[0]}" if len(found) == 1 else "split the batch by partition"
    raise ConfigError(f"none of the batch's {n:,} rows lies in partition {key} of "
                      f"{spec.name!r}: {where}: {hint}; partition {key} keeps its rows")


def _emptying(table, start, key: str, rows_in: int) -> str | None:
    """Why zero valid rows may not replace the partition (None if it may: it has none)."""
    ingests = catalog.ingests(table.store, table.spec.name)
    mine = ingests[(ingests["status"] == "committed") & (ingests["partition_start"] == start)]
    held = int(mine.sort_values("data_version")["rows_valid"].iloc[-1]) if len(mine) else 0
    if not held:
        return None
    if not rows_in:
        raise ConfigError(f"the batch has no rows, and partition {key} of {table.spec.name!r} "
                          f"has {held:,}: pass --allow-empty (allow_empty=True) to empty it")
    return (f"every row failed a critical check: partition {key} keeps its {held:,} rows "
            "(pass --allow-empty / allow_empty=True to replace them with none)")


def _count(violations: batches.Violations, name: str) -> int:
    """Rows whose failed checks include ``name``."""
    flat = pc.list_flatten(violations.failed)
    if not len(flat):
        return 0
    parents = pc.list_parent_indices(violations.failed)
    return len(pc.unique(pc.filter(parents, pc.equal(flat, name))))


def _has(violations: batches.Violations, name: str) -> bool:
    flat = pc.list_flatten(violations.failed)
    return bool(pc.any(pc.equal(flat, name)).as_py()) if len(flat) else False


def recover(table) -> tuple:
    """Undo what a killed ingest left: Delta commits and quarantine files never recorded.
    Returns the Delta table, open at its newest version (None: there is none), and the
    version of the last recorded commit (None: no commit)."""
    committed = catalog.committed_version(table.store, table.spec.name)
    handle = delta.open_table(table.data_path)
    latest = None if handle is None else handle.version()
    if latest is not None and (committed is None or latest > committed):
        delta.restore(table.data_path, committed)
        handle = delta.open_table(table.data_path)
    known = catalog.recorded_files(table.store, table.spec.name)
    folder = table.path / "quarantine"
    if folder.is_dir():
        for path in folder.iterdir():
            if f"quarantine/{path.name}" not in known:
                path.unlink(missing_ok=True)
    return handle, committed


@contextlib.contextmanager
def _locked(folder: Path):
    """One ingest per table at a time; the OS releases the lock if the process dies."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _pause(step: str) -> None:
    wanted = os.environ.get("WK_TEST_INGEST_PAUSE")
    if not wanted:
        return
    name, _, seconds = wanted.partition(":")
    if name == step:
        print(f"wk-ingest-paused {step}", file=sys.stderr, flush=True)
        time.sleep(float(seconds or 60))


def _fire(table, result: IngestResult) -> None:
    """``slo.failed`` per failed check, and ``ingest.quarantined`` if rows were quarantined."""
    if table.project is None:
        return
    from ..triggers import announce_slo_failed, event, fire

    try:
        announce_slo_failed(result.validation, table.project)
        if result.rows_quarantined:
            fire(event("ingest.quarantined", table=result.table, partition=result.partition_key,
                       severity="critical" if result.failed_critical else "warning",
                       ingest_id=result.ingest_id, rows_in=result.rows_in,
                       rows_quarantined=result.rows_quarantined,
                       rejected=result.status == "rejected",
                       failed_checks=list(result.failed_critical)), table.project)
    except UserError as exc:  # the ingest is committed: a broken trigger file must not undo it
        warnings.warn(f"ingest {result.ingest_id} committed, but firing its events failed: "
                      f"{exc}", stacklevel=3)
