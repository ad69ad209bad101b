"""Choosing hyperparameters: on the newest eval window, or averaged over old time splits.

``newest`` (the default) fits every candidate on the train window and scores it on
the eval window, the partitions closest to the data the model will serve. The
``averaged`` rule (the usual time-series cross-validation: expanding splits of the
train window, scores averaged) is available for comparison only: after drift it
prefers what was true in the past.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .data import Dataset
from .metrics import Metric, Outputs
from .windows import time_folds


@dataclass(frozen=True)
class Candidate:
    params: dict
    score: float
    fold_scores: tuple[float, ...] = ()


@dataclass(frozen=True)
class Selection:
    """The chosen params, the rule that chose them, and every candidate's score."""

    rule: str
    params: dict
    score: float
    candidates: tuple[Candidate, ...] = field(default_factory=tuple)
    #: under ``newest``, the chosen candidate as fitted on the train window: the model a
    #: run registers (fitting it again would give the same model at the same cost)
    model: object = field(default=None, repr=False, compare=False)
    #: with ``model``, its predictions on the eval window (for the metrics ``select`` was
    #: asked to ``report``)
    outputs: Outputs | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict:
        return {"rule": self.rule, "params": self.params, "score": _plain(self.score),
                "candidates": [{"params": c.params, "score": _plain(c.score)}
                               for c in self.candidates]}


def select(rule: str, build: Callable[[dict], object], candidates: Sequence[dict],
           metric: Metric, train: Dataset, evaluation: Dataset, *, folds: int = 3,
           eval_size: int = 1, report: Sequence[Metric] = ()) -> Selection:
    """Score every candidate by ``rule`` and keep the best (the first one on ties).

    Under ``newest`` each candidate is fitted on the whole train window, so the best
    one's fitted model comes back as ``Selection.model`` (only the best is kept), with
    its predictions on the eval window as ``Selection.outputs``, made once for ``metric``
    and the metrics to ``report``."""
    best, fitted, predicted = None, None, None
    scored = []
    for params in candidates:
        if rule == "newest":
            model = build(params)
            model.fit(train.X, train.y)
            outputs = Outputs.of(model, evaluation.X, [metric, *report]) if len(evaluation) \
                else None
            candidate = Candidate(dict(params), metric.score_outputs(outputs, evaluation.y))
        else:
            model = outputs = None
            scores = tuple(fit_score(build(params), metric, train.subset(fit_parts),
                                     train.subset(check_parts))
                           for fit_parts, check_parts in time_folds(
                               sorted(set(pd.to_datetime(train.partition))), folds, eval_size))
            mean = float(np.nanmean(scores)) if scores and not all(np.isnan(scores)) \
                else float("nan")
            candidate = Candidate(dict(params), mean, scores)
        scored.append(candidate)
        if best is None or metric.better(candidate.score, best.score):
            best, fitted, predicted = candidate, model, outputs
    return Selection(rule, best.params, best.score, tuple(scored), fitted, predicted)


def fit_score(model, metric: Metric, train: Dataset, evaluation: Dataset) -> float:
    """Fit ``model`` on ``train``; its ``metric`` on ``evaluation`` (rows pooled)."""
    model.fit(train.X, train.y)
    return metric.score(model, evaluation.X, evaluation.y)


def per_partition(model, metrics: Sequence[Metric], data: Dataset,
                  fmt: Callable[[pd.Timestamp], str], outputs: Outputs | None = None
                  ) -> list[dict]:
    """One row per partition of ``data``: its rows and every metric on them.

    ``outputs``: the model's predictions on all of ``data`` if already made (they are
    sliced per partition, not made again)."""
    if outputs is None:
        outputs = Outputs.of(model, data.X, metrics) if len(data) else None
    out = []
    for part in sorted(set(pd.to_datetime(data.partition))):
        mask = np.isin(data.partition, np.array([part], dtype="datetime64[ns]"))
        here, y = outputs.take(mask), data.y[mask]
        out.append({"partition": fmt(part), "rows": int(mask.sum()),
                    **{m.name: _plain(m.score_outputs(here, y)) for m in metrics}})
    return out


def _plain(value: float) -> float | None:
    return None if value is None or np.isnan(value) else float(value)
