"""Guards on predictions: ``watchkeeper.guard(frame, model="churn")``.

The ``serve.before`` triggers of a model hold guard rules (clip, replace, drop,
flag, reject_batch). They are compiled once per project file (recompiled when
the file changes) and applied in file order to a shallow copy of the batch; the
caller's frame is never modified.

Logging stays off the hot path: counts per rule are added up in memory and
written to the store's ``wk_guard_log`` at most every ``flush_seconds`` (and at
exit, on a rejected batch, or by :func:`flush_guard_log`). A store that cannot
be written keeps the counts for the next flush instead of failing the batch.
"""

from __future__ import annotations

import atexit
import json
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import WatchkeeperError
from ..store.trigger_log import TriggerLog, utcnow
from .events import Event, tags_of
from .guard_rules import GuardRule, RejectBatch, Replace
from .spec import Trigger, load_triggers

FLUSH_SECONDS = 30.0


class BatchRejected(WatchkeeperError):
    """A batch-level guard check failed: none of the batch may be served."""

    def __init__(self, model: str, reasons: list[str]) -> None:
        self.model = model
        self.reasons = list(reasons)
        super().__init__(f"prediction batch for model {model!r} rejected: " + "; ".join(reasons))


@dataclass
class _Tally:
    window_start: Any
    batches: int = 0
    rows_in: int = 0
    rows_affected: int = 0
    batches_rejected: int = 0
    sample: list = field(default_factory=list)


class GuardLogBuffer:
    """Counts per (model, trigger, rule) waiting to be flushed to a store."""

    def __init__(self, store, flush_seconds: float = FLUSH_SECONDS) -> None:
        self.log = TriggerLog(store) if store is not None else None
        self.flush_seconds = flush_seconds
        self.tallies: dict[tuple, _Tally] = {}
        self._last_flush = time.monotonic()
        # Serving is often multi-threaded: adding and flushing must not interleave.
        self._lock = threading.Lock()

    def add(self, key: tuple, rows: int, affected: int, rejected: bool, sample, cap: int) -> None:
        with self._lock:
            self._add(key, rows, affected, rejected, sample, cap)

    def _add(self, key: tuple, rows: int, affected: int, rejected: bool, sample, cap: int) -> None:
        tally = self.tallies.get(key)
        if tally is None:
            tally = self.tallies[key] = _Tally(utcnow())
        tally.batches += 1
        tally.rows_in += rows
        tally.rows_affected += affected
        tally.batches_rejected += rejected
        if sample and len(tally.sample) < cap:
            tally.sample.extend(sample[:cap - len(tally.sample)])

    def maybe_flush(self) -> None:
        if time.monotonic() - self._last_flush >= self.flush_seconds:
            self.flush()

    def flush(self) -> int:
        """Write the counts; returns how many rule rows were written (0 if it failed)."""
        self._last_flush = time.monotonic()
        if self.log is None:
            return 0
        with self._lock:
            tallies, self.tallies = self.tallies, {}
        if not tallies:
            return 0
        now = utcnow()
        rows = [{"model": k[0], "trigger_name": k[1], "rule_index": k[2], "rule_kind": k[3],
                 "window_start": t.window_start, "window_end": now, "batches": t.batches,
                 "rows_in": t.rows_in, "rows_affected": t.rows_affected,
                 "batches_rejected": t.batches_rejected,
                 "sample": json.dumps(t.sample, default=str) if t.sample else None}
                for k, t in tallies.items()]
        try:
            self.log.add_guard_counts(rows)
        except Exception:  # noqa: BLE001  (logging must never fail a batch being served)
            with self._lock:  # keep the counts; the next flush tries again
                for key, tally in tallies.items():
                    self._merge(key, tally)
            return 0
        return len(rows)

    def _merge(self, key: tuple, old: _Tally) -> None:
        tally = self.tallies.setdefault(key, _Tally(old.window_start))
        tally.window_start = min(tally.window_start, old.window_start)
        tally.batches += old.batches
        tally.rows_in += old.rows_in
        tally.rows_affected += old.rows_affected
        tally.batches_rejected += old.batches_rejected
        tally.sample = old.sample + tally.sample


class Guard:
    """The compiled guard of one model: rules in order, and the triggers they belong to."""

    def __init__(self, model: str, triggers: list[Trigger], *, store=None,
                 root: Path | None = None, table: str | None = None, tags=(),
                 buffer: GuardLogBuffer | None = None) -> None:
        self.model = model
        self.store = store
        self.root = root
        probe = Event("serve.before", model=model, table=table, tags=tags_of(tags))
        self.triggers = [t for t in triggers if t.condition.matches(probe)]
        self.rules: list[tuple[Trigger, int, GuardRule]] = []
        for trig in self.triggers:
            for index, rule in trig.of_role("guard"):
                self.rules.append((trig, index, rule.resolve() if isinstance(rule, Replace)
                                   else rule))
        self.table = table
        self.tags = tags_of(tags)
        self.buffer = buffer if buffer is not None else GuardLogBuffer(store)

    def apply(self, predictions, *, batch_id: str | None = None):
        """The servable batch (same type as given); raises :class:`BatchRejected`."""
        if not self.rules:
            return predictions
        frame, back = _to_pandas(predictions)
        out = frame.copy(deep=False)  # copy-on-write: the caller's frame stays as it was
        reasons: list[tuple[Trigger, str]] = []
        for trig, index, rule in self.rules:
            rows = len(out)
            if isinstance(rule, RejectBatch):
                why = rule.reason(out)
                if why:
                    reasons.append((trig, why))
                self._count(trig, index, rule, rows, rows if why else 0, bool(why), None)
                continue
            if reasons:
                continue  # the batch is lost; only the other batch checks still matter
            out, affected, sample = rule.apply(out)
            self._count(trig, index, rule, rows, affected, False, sample)
        if reasons:
            self._reject(reasons, len(frame), batch_id)
        self.buffer.maybe_flush()
        return back(out)

    def _count(self, trig, index, rule, rows, affected, rejected, sample) -> None:
        self.buffer.add((self.model, trig.name, index, rule.kind), rows, affected, rejected,
                        sample, getattr(rule, "log_rows", 0))

    def _reject(self, reasons: list[tuple[Trigger, str]], rows: int, batch_id) -> None:
        self.buffer.flush()
        texts = [f"{t.name}: {why}" for t, why in reasons]
        names = {t.name for t, _ in reasons}
        notify = [t for t in self.triggers if t.name in names and t.of_role("delivery")]
        if notify and self.store is not None:
            from .dispatch import Dispatcher

            event = Event("serve.before", model=self.model, table=self.table, severity="critical",
                          tags=self.tags, context={"rejected": True, "reasons": texts,
                                                   "rows": rows,
                                                   "batch_id": batch_id or uuid.uuid4().hex})
            Dispatcher(notify, self.store, root=self.root).fire(event)
        raise BatchRejected(self.model, texts)


def _to_pandas(predictions):
    """The batch as pandas, and a function turning the result back into the input's type."""
    if isinstance(predictions, pd.DataFrame):
        return predictions, lambda out: out
    module = type(predictions).__module__.split(".")[0]
    if module == "polars":
        import polars as pl

        return predictions.to_pandas(), lambda out: pl.from_pandas(out.reset_index(drop=True))
    if module == "pyarrow":
        import pyarrow as pa

        return predictions.to_pandas(), lambda out: pa.Table.from_pandas(out, preserve_index=False)
    from ..errors import ConfigError

    raise ConfigError(f"cannot guard a {type(predictions).__name__}: pass a pandas or Polars "
                      "DataFrame or an Arrow table")


# -- watchkeeper.guard(...): compiled guards cached per project file ------------------
_PROJECTS: dict[str, str] = {}  # working directory -> project file found from it
_COMPILED: dict[str, tuple[int, Any, dict]] = {}  # file -> (mtime, project, guards by key)
_BUFFERS: list[GuardLogBuffer] = []


def _project_file(project) -> str | None:
    from ..config import FILENAME, Project

    if isinstance(project, Project):
        return str(project.path)
    if project is not None:
        path = Path(project)
        return str(path if path.suffix in (".yaml", ".yml") else path / FILENAME)
    cwd = os.getcwd()
    known = _PROJECTS.get(cwd)
    if known is not None and os.path.isfile(known):
        return known
    # Only hits are cached: a project created later in this folder is still found.
    here = Path(cwd)
    for folder in (here, *here.parents):
        if (folder / FILENAME).is_file():
            _PROJECTS[cwd] = str(folder / FILENAME)
            return _PROJECTS[cwd]
    return None


def _compiled(path: str) -> tuple[Any, dict]:
    from ..config import Project

    mtime = os.stat(path).st_mtime_ns
    cached = _COMPILED.get(path)
    if cached is None or cached[0] != mtime:
        if cached is not None:  # the file changed: flush and forget the old guards
            for old in cached[2]["guards"].values():
                old.buffer.flush()
                if old.buffer in _BUFFERS:
                    _BUFFERS.remove(old.buffer)
        project = Project.load(Path(path))
        cached = _COMPILED[path] = (mtime, project, {"triggers": load_triggers(project),
                                                    "guards": {}})
    return cached[1], cached[2]


def guard(predictions, model: str, project=None, *, table: str | None = None, tags=None,
          batch_id: str | None = None):
    """Apply the ``serve.before`` triggers of ``model`` and return the servable batch.

    ``project`` is a :class:`watchkeeper.Project`, its folder or file (default: the
    nearest ``watchkeeper.yaml``). Without a project file the batch is returned as is.
    Raises :class:`BatchRejected` when a ``reject_batch`` check fails.
    """
    path = _project_file(project)
    if path is None:
        return predictions
    proj, compiled = _compiled(path)
    key = (model, table, tags_of(tags))
    found = compiled["guards"].get(key)
    if found is None:
        found = Guard(model, compiled["triggers"], root=proj.root, table=table, tags=tags)
        if found.rules:  # the store is opened only for models that have rules
            found.store = proj.store()
            found.buffer = GuardLogBuffer(found.store)
            _BUFFERS.append(found.buffer)
        compiled["guards"][key] = found
    return found.apply(predictions, batch_id=batch_id)


def flush_guard_log() -> int:
    """Write every buffered guard count to its store now; returns rule rows written."""
    return sum(buffer.flush() for buffer in _BUFFERS)


atexit.register(flush_guard_log)
