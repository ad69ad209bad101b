"""Real data for the pipeline tests: gt::pizzaplace orders as a feature and a label table.

One row per order (about 60 a day): ``order_features`` holds what is known when the
order is placed (hour, pizzas, the share of large and veggie pizzas), and
``order_labels`` what the till says after it (``revenue``, and ``big``: revenue above
40). Both are partitioned by ``date`` and keyed by ``order_id``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

CHECKS = [{"name": "pizzas_positive", "kind": "between", "column": "pizzas", "min": 1,
           "severity": "critical"}]


@dataclass(frozen=True)
class PizzaProject:
    root: Path
    days: list[str]


def orders(days: int = 45) -> tuple[pd.DataFrame, pd.DataFrame]:
    from watchkeeper.datasets import load

    raw = load("pizzaplace").frame
    first = sorted(raw["date"].unique())[:days]
    raw = raw[raw["date"].isin(first)]
    grouped = raw.groupby(["order_id", "date"], as_index=False)
    features = grouped.agg(ordered_at=("ordered_at", "min"), pizzas=("price", "size"),
                           large_share=("size", lambda s: float((s == "L").mean())),
                           veggie_share=("type", lambda s: float((s == "veggie").mean())))
    features["hour"] = features["ordered_at"].dt.hour.astype(float)
    features = features.drop(columns=["ordered_at"])
    labels = grouped.agg(revenue=("price", "sum"))
    labels["big"] = labels["revenue"] > 40
    return features, labels


def make_project(root: Path, *, days: int = 45, corrupt: int | None = None,
                 pipelines: dict | None = None, mlflow_db: Path | None = None) -> PizzaProject:
    """``root`` with both tables as Parquet, registered, with the SLO check; with
    ``corrupt=i``, a tenth of day ``i``'s orders have pizzas = -1 (a critical SLO fails).
    ``mlflow_db`` is an empty MLflow store to start from (see conftest)."""
    import shutil

    import watchkeeper as wk

    features, labels = orders(days)
    day_list = sorted(features["date"].unique())
    if corrupt is not None:
        hit = (features["date"] == day_list[corrupt]) & (np.arange(len(features)) % 10 == 0)
        features.loc[hit, "pizzas"] = -1
    features.to_parquet(root / "order_features.parquet", index=False)
    labels.to_parquet(root / "order_labels.parquet", index=False)
    project = wk.Project.init(root)
    project.add_table(wk.TableSpec("order_features", "order_features.parquet", "date"))
    project.add_table(wk.TableSpec("order_labels", "order_labels.parquet", "date"))
    project.extra["slos"] = {"tables": {"order_features": {"checks": CHECKS}}}
    if pipelines:
        project.extra["pipelines"] = pipelines
    project.save()
    if mlflow_db is not None:
        shutil.copyfile(mlflow_db, root / ".watchkeeper" / "mlflow.db")
    return PizzaProject(root, [pd.Timestamp(d).date().isoformat() for d in day_list])


def revenue_pipeline(**changes) -> dict:
    """A small regression pipeline over the two tables."""
    spec = {
        "features": [{"table": "order_features", "entity": ["order_id"]}],
        "label": {"table": "order_labels", "column": "revenue", "entity": ["order_id"]},
        "model": {"import": "sklearn.linear_model.Ridge", "params": {"alpha": 1.0}},
        "windows": {"train": 14, "eval": 5},
        "metrics": ["rmse", "mae"],
        "search": {"kind": "grid", "params": {"alpha": [0.1, 10.0]}},
    }
    spec.update(changes)
    return spec
