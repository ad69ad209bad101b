"""Performance per partition of each model version: realised from labels, or estimated.

The metrics depend on the task: ``roc_auc``, ``log_loss`` and ``accuracy`` for a
classifier (the first two need the logged ``score``, a binary classifier's
probability); ``rmse`` and ``mae`` for a regressor. They are computed from what was
logged (the served predictions), not by scoring again.

Rows of ``wk_model_performance`` are ``(pipeline, version, stage, partition, kind,
metric) -> value, rows``; ``kind`` is ``realised`` or ``estimated``. A report
(:func:`performance`) shows, per partition, the realised value when labels have
landed, else the estimate, and the gap between the two where both exist.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import ConfigError
from .spec import project_for
from .slos import PERFORMANCE_METRICS


def _now():
    return pd.Timestamp.utcnow().tz_localize(None).to_pydatetime()


# -- computing ---------------------------------------------------------------------------
def realised(task: str, y, prediction, score=None, positive: str | None = None
             ) -> dict[str, float | None]:
    """The task's metrics of served ``prediction`` (and ``score``) against labels ``y``."""
    from sklearn import metrics as m

    y = np.asarray(y)
    if len(y) == 0:
        return {name: None for name in PERFORMANCE_METRICS[task]}
    if task == "regression":
        truth, guess = y.astype(float), np.asarray(prediction, dtype=float)
        return {"rmse": float(np.sqrt(np.mean((truth - guess) ** 2))),
                "mae": float(np.mean(np.abs(truth - guess)))}
    truth, guess = as_labels(y), as_labels(prediction)
    out: dict[str, float | None] = {"roc_auc": None, "log_loss": None,
                                    "accuracy": float(np.mean(truth == guess))}
    if score is not None and positive is not None:
        s = np.asarray(score, dtype=float)
        keep = ~np.isnan(s)
        hit = (truth == str(positive))[keep]
        if keep.any():
            out["log_loss"] = float(m.log_loss(hit, np.clip(s[keep], 1e-15, 1 - 1e-15),
                                               labels=[False, True]))
        if hit.any() and not hit.all():
            out["roc_auc"] = float(m.roc_auc_score(hit, s[keep]))
    return out


def as_labels(values) -> np.ndarray:
    """Class labels as text, so that a label read from CSV matches a logged prediction
    (``1.0`` and ``1`` are one class; so are ``True`` and ``"True"``)."""
    series = pd.Series(values)
    if series.dtype.kind == "f" and series.dropna().apply(float.is_integer).all():
        series = series.astype("Int64")
    return series.astype(str).to_numpy()


# -- the store ---------------------------------------------------------------------------
def save(store, rows: Sequence[dict]) -> None:
    """Replace the stored values of ``rows`` (pipeline, model_version, stage, partition,
    kind, metric, value, row_count), in one transaction."""
    if not rows:
        return
    now = _now()
    with store._connect() as db, db.transaction():
        for r in rows:
            key = [r["pipeline"], str(r["model_version"]), r["stage"],
                   pd.Timestamp(r["partition"]).to_pydatetime(), r["kind"], r["metric"]]
            db.execute("DELETE FROM wk_model_performance WHERE pipeline = ? AND model_version"
                       " = ? AND stage = ? AND partition_start = ? AND kind = ? AND metric = ?",
                       key)
            db.execute("INSERT INTO wk_model_performance (pipeline, model_version, stage,"
                       " partition_start, kind, metric, value, row_count, computed_at)"
                       " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       [*key, None if r["value"] is None else float(r["value"]),
                        int(r["row_count"]), now])


def rows_of(pipeline: str, version: str, stage: str, partition, kind: str,
            values: dict, count: int) -> list[dict]:
    return [{"pipeline": pipeline, "model_version": str(version), "stage": stage,
             "partition": partition, "kind": kind, "metric": metric, "value": value,
             "row_count": int(count)} for metric, value in values.items()]


def load(store, pipeline: str) -> pd.DataFrame:
    """Every stored value of ``pipeline``: partition, model_version, stage, kind, metric,
    value, row_count; oldest partition first."""
    with store._connect() as db:
        frame = db.fetch_frame("SELECT partition_start AS partition, model_version, stage,"
                               " kind, metric, value, row_count, computed_at FROM"
                               " wk_model_performance WHERE pipeline = ?"
                               " ORDER BY partition_start, stage, model_version", [pipeline])
    frame["partition"] = pd.to_datetime(frame["partition"])
    return frame


# -- the report --------------------------------------------------------------------------
def performance(pipeline, project=None, *, store=None, stage: str | None = "champion"
                ) -> dict:
    """Per partition and model version (of ``stage``; None: every stage): each metric's
    ``realised`` and ``estimated`` value, ``value`` (realised if labels landed, else the
    estimate), ``source``, ``gap`` (realised - estimated), and the champion's SLOs."""
    from .spec import PipelineSpec, load_pipeline
    from .data import Inputs

    project = project_for(project, "run wk performance in a project")
    spec = pipeline if isinstance(pipeline, PipelineSpec) else load_pipeline(project, pipeline)
    if stage not in (None, "champion", "shadow"):
        raise ConfigError(f"stage {stage!r} is not champion or shadow (or every stage)")
    store = store if store is not None else project.store()
    frame = load(store, spec.name)
    if stage is not None:
        frame = frame[frame["stage"] == stage]
    inputs = Inputs(spec, project, store)
    try:
        fmt = inputs.grain.format
    finally:
        inputs.close()
    names = PERFORMANCE_METRICS[spec.task]
    partitions = []
    for (partition, version, st), group in frame.groupby(["partition", "model_version",
                                                          "stage"], sort=True):
        metrics, counts = {}, {}
        for name in names:
            found = {k: group[(group["metric"] == name) & (group["kind"] == k)]
                     for k in ("realised", "estimated")}
            values = {k: _value(f) for k, f in found.items()}
            for k, f in found.items():
                if len(f):
                    counts[k] = int(f["row_count"].max())
            real, est = values["realised"], values["estimated"]
            metrics[name] = {"realised": real, "estimated": est,
                             "value": real if real is not None else est,
                             "source": "realised" if real is not None else
                             "estimated" if est is not None else None,
                             "gap": None if real is None or est is None else real - est}
        entry = {"partition": fmt(pd.Timestamp(partition)), "model_version": str(version),
                 "stage": st, "rows": counts.get("estimated", counts.get("realised", 0)),
                 "labelled": counts.get("realised", 0), "metrics": metrics}
        if st == "champion" and spec.performance.slos:
            entry["slos"] = [{"slo": s.name, "value": metrics[s.metric]["value"],
                              "source": metrics[s.metric]["source"],
                              "passed": s.passed(metrics[s.metric]["value"])}
                             for s in spec.performance.slos]
        partitions.append(entry)
    return {"pipeline": spec.name, "task": spec.task, "metrics": list(names),
            "slos": [s.name for s in spec.performance.slos], "partitions": partitions,
            "gap": _mean_gaps(partitions, names)}


def _value(found: pd.DataFrame) -> float | None:
    if found.empty or pd.isna(found["value"].iloc[-1]):
        return None
    return float(found["value"].iloc[-1])


def _mean_gaps(partitions: list[dict], names) -> dict:
    """Per metric: the mean absolute gap between estimate and realised value, and over
    how many partitions (those with both)."""
    out = {}
    for name in names:
        gaps = [p["metrics"][name]["gap"] for p in partitions
                if p["metrics"][name]["gap"] is not None]
        out[name] = {"mean_abs_gap": float(np.mean(np.abs(gaps))) if gaps else None,
                     "partitions": len(gaps)}
    return out
