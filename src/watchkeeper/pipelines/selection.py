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
from .metrics import Metric
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

    def to_dict(self) -> dict:
        return {"rule": self.rule, "params": self.params, "score": _plain(self.score),
                "candidates": [{"params": c.params, "score": _plain(c.score)}
                               for c in self.candidates]}


def select(rule: str, build: Callable[[dict], object], candidates: Sequence[dict],
           metric: Metric, train: Dataset, evaluation: Dataset, *, folds: int = 3,
           eval_size: int = 1) -> Selection:
    """Score every candidate by ``rule`` and keep the best (the first one on ties)."""
    scored = []
    for params in candidates:
        if rule == "newest":
            scored.append(Candidate(dict(params), fit_score(build(params), metric, train,
                                                            evaluation)))
        else:
            scores = tuple(fit_score(build(params), metric, train.subset(fit_parts),
                                     train.subset(check_parts))
                           for fit_parts, check_parts in time_folds(
                               sorted(set(pd.to_datetime(train.partition))), folds, eval_size))
            mean = float(np.nanmean(scores)) if scores and not all(np.isnan(scores)) \
                else float("nan")
            scored.append(Candidate(dict(params), mean, scores))
    best = scored[0]
    for c in scored[1:]:
        if metric.better(c.score, best.score):
            best = c
    return Selection(rule, best.params, best.score, tuple(scored))


def fit_score(model, metric: Metric, train: Dataset, evaluation: Dataset) -> float:
    """Fit ``model`` on ``train``; its ``metric`` on ``evaluation`` (rows pooled)."""
    model.fit(train.X, train.y)
    return metric.score(model, evaluation.X, evaluation.y)


def per_partition(model, metrics: Sequence[Metric], data: Dataset,
                  fmt: Callable[[pd.Timestamp], str]) -> list[dict]:
    """One row per partition of ``data``: its rows and every metric on them."""
    out = []
    for part in sorted(set(pd.to_datetime(data.partition))):
        rows = data.subset([part])
        out.append({"partition": fmt(part), "rows": len(rows),
                    **{m.name: _plain(m.score(model, rows.X, rows.y)) for m in metrics}})
    return out


def _plain(value: float) -> float | None:
    return None if value is None or np.isnan(value) else float(value)
