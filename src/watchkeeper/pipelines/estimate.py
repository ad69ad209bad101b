"""Performance before labels land: confidence-based performance estimation (CBPE).

The idea (NannyML's CBPE): if a binary classifier's probabilities are calibrated,
a row scored ``p`` is positive with probability ``p``. So without any label, each
row counts as ``p`` of a positive and ``1 - p`` of a negative, and every metric
has an expected value:

- **accuracy**: a row predicted positive is right with probability ``p``, one
  predicted negative with ``1 - p``; expected accuracy is their mean;
- **ROC AUC**: the AUC of the scores against the fractional labels (each row once
  as a positive of weight ``p``, once as a negative of weight ``1 - p``): the
  expected true- and false-positive rates at every threshold;
- **log loss**: ``-(p log s + (1 - p) log(1 - s))`` per row, ``s`` the model's own
  probability (the one its log loss is scored on).

Raw scores are rarely calibrated, so a run learns the map from score to
probability on its eval window (whose labels it has) and stores it with the
version; predictions are estimated through it. The map is Platt's sigmoid on the
score's logit: two parameters, so a few hundred eval rows are enough, where an
isotonic fit (``method="isotonic"``) overfits steps and overstates the AUC. When
labels land the realised values replace the estimates, and the gap is reported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

_EPS = 1e-15


@dataclass(frozen=True)
class Calibration:
    """A monotone map from a model's score to the probability of the positive class."""

    positive: str
    thresholds: tuple[float, ...]
    probabilities: tuple[float, ...]
    rows: int

    def __call__(self, score) -> np.ndarray:
        s = np.asarray(score, dtype=float)
        return np.clip(np.interp(s, self.thresholds, self.probabilities), 0.0, 1.0)


def fit_calibration(model, X, y, method: str = "sigmoid", proba=None) -> Calibration | None:
    """The score-to-probability map of a binary classifier on labelled rows ``(X, y)``;
    None for other models or when ``y`` holds one class only. ``proba``: the model's
    ``predict_proba(X)`` if already made."""
    from sklearn.isotonic import IsotonicRegression

    classes = getattr(model, "classes_", None)
    if classes is None or len(classes) != 2 or not hasattr(model, "predict_proba"):
        return None
    positive = np.asarray(y) == classes[1]
    if len(positive) < 2 or positive.all() or not positive.any():
        return None
    score = np.asarray(model.predict_proba(X) if proba is None else proba)[:, 1]
    grid = np.linspace(0.0, 1.0, 201)
    if method == "isotonic":
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(score,
                                                                                 positive)
        probabilities = iso.predict(grid)
    else:
        from sklearn.linear_model import LogisticRegression

        logit = _logit(score).reshape(-1, 1)
        platt = LogisticRegression(C=1e6).fit(logit, positive)
        probabilities = platt.predict_proba(_logit(grid).reshape(-1, 1))[:, 1]
    return Calibration(str(classes[1]), tuple(map(float, grid)),
                       tuple(map(float, probabilities)), int(len(positive)))


def _logit(p) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def expected(score, predicted_positive, calibration: Calibration) -> dict[str, float | None]:
    """Expected ``roc_auc``, ``log_loss`` and ``accuracy`` of rows scored ``score`` (the
    positive class's probability) whose served prediction is positive where
    ``predicted_positive``."""
    from sklearn.metrics import roc_auc_score

    s = np.asarray(score, dtype=float)
    if len(s) == 0:
        return {"roc_auc": None, "log_loss": None, "accuracy": None}
    p = calibration(s)
    hit = np.where(np.asarray(predicted_positive, dtype=bool), p, 1.0 - p)
    clipped = np.clip(s, _EPS, 1 - _EPS)
    loss = -(p * np.log(clipped) + (1 - p) * np.log(1 - clipped))
    weights = np.concatenate([p, 1.0 - p])
    auc = None
    if p.sum() > 0 and (1 - p).sum() > 0:
        auc = float(roc_auc_score(np.r_[np.ones(len(s)), np.zeros(len(s))], np.r_[s, s],
                                  sample_weight=weights))
    return {"roc_auc": auc, "log_loss": float(loss.mean()), "accuracy": float(hit.mean())}


# -- the store --------------------------------------------------------------------------
def record(db, model: str, version: str, calibration: Calibration) -> None:
    """Store a version's calibration (inside the caller's transaction)."""
    db.execute("INSERT INTO wk_model_calibration (model_name, model_version, positive_class,"
               " thresholds, probabilities, row_count) VALUES (?, ?, ?, ?, ?, ?)",
               [model, str(version), calibration.positive, json.dumps(calibration.thresholds),
                json.dumps(calibration.probabilities), int(calibration.rows)])


def load(store, model: str, version: str) -> Calibration | None:
    with store._connect() as db:
        rows = db.execute("SELECT positive_class, thresholds, probabilities, row_count FROM"
                          " wk_model_calibration WHERE model_name = ? AND model_version = ?",
                          [model, str(version)])
    if not rows:
        return None
    positive, thresholds, probabilities, count = rows[0]
    return Calibration(str(positive), tuple(json.loads(thresholds)),
                       tuple(json.loads(probabilities)), int(count))
