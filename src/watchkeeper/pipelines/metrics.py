"""The metrics a pipeline may name, each with its task and direction (scikit-learn computes them).

A metric belongs to one task: ``rmse``, ``mae`` and ``r2`` score regressors;
``accuracy``, ``f1``, ``roc_auc`` and ``log_loss`` score classifiers (the last two
from predicted probabilities). The first metric a pipeline lists chooses its
hyperparameters and decides promotion.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TASKS = ("classification", "regression")


@dataclass(frozen=True)
class Metric:
    name: str
    task: str
    greater_is_better: bool
    needs_proba: bool = False

    def score(self, model, X, y) -> float:
        """The metric of ``model`` on ``(X, y)``; NaN where it is undefined (one class only)."""
        if len(y) == 0:
            return float("nan")
        return self.score_outputs(Outputs.of(model, X, [self]), y)

    def score_outputs(self, outputs: "Outputs", y) -> float:
        """The metric of predictions already made (:class:`Outputs`) against labels ``y``."""
        from sklearn import metrics as m

        if len(y) == 0:
            return float("nan")
        if self.needs_proba:
            proba, classes = outputs.proba, outputs.classes
            if self.name == "roc_auc":
                if len(np.unique(y)) < 2:
                    return float("nan")
                if proba.shape[1] == 2:
                    return float(m.roc_auc_score(y, proba[:, 1]))
                return float(m.roc_auc_score(y, proba, multi_class="ovr", labels=classes))
            return float(m.log_loss(y, proba, labels=classes))
        predicted = outputs.predicted
        if self.name == "rmse":
            return float(np.sqrt(m.mean_squared_error(y, predicted)))
        if self.name == "mae":
            return float(m.mean_absolute_error(y, predicted))
        if self.name == "r2":
            return float(m.r2_score(y, predicted)) if len(y) > 1 else float("nan")
        if self.name == "accuracy":
            return float(m.accuracy_score(y, predicted))
        return float(m.f1_score(y, predicted, average="binary" if len(np.unique(y)) <= 2
                                else "macro", zero_division=0.0))

    def better(self, a: float, b: float) -> bool:
        """Whether score ``a`` is strictly better than ``b`` (NaN is never better)."""
        if np.isnan(a):
            return False
        if np.isnan(b):
            return True
        return a > b if self.greater_is_better else a < b

    def beats(self, challenger: float, champion: float, margin: float) -> bool:
        """``challenger`` better than ``champion`` by at least ``margin`` (a share of the
        champion's score: 0.02 asks for 2% better)."""
        if np.isnan(challenger):
            return False
        if np.isnan(champion):
            return True
        step = abs(champion) * margin
        if self.greater_is_better:
            return challenger >= champion + step and challenger > champion
        return challenger <= champion - step and challenger < champion


@dataclass(frozen=True)
class Outputs:
    """A model's predictions on some rows, made once for every metric (and, by
    :meth:`take`, for every subset of those rows): labels or values, and the class
    probabilities where a metric needs them."""

    predicted: np.ndarray | None
    proba: np.ndarray | None
    classes: list | None

    @classmethod
    def of(cls, model, X, metrics) -> "Outputs":
        predicted = model.predict(X) if any(not m.needs_proba for m in metrics) else None
        proba = classes = None
        if any(m.needs_proba for m in metrics):
            proba = model.predict_proba(X)
            classes = list(getattr(model, "classes_", range(proba.shape[1])))
        return cls(predicted, proba, classes)

    def take(self, mask) -> "Outputs":
        return Outputs(None if self.predicted is None else self.predicted[mask],
                       None if self.proba is None else self.proba[mask], self.classes)


METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("rmse", "regression", False),
    Metric("mae", "regression", False),
    Metric("r2", "regression", True),
    Metric("accuracy", "classification", True),
    Metric("f1", "classification", True),
    Metric("roc_auc", "classification", True, needs_proba=True),
    Metric("log_loss", "classification", False, needs_proba=True),
)}

DEFAULT_METRICS = {"regression": ("rmse", "mae"), "classification": ("roc_auc", "accuracy")}
