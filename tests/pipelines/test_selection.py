"""Hyperparameters chosen on the newest eval window against the averaged rule, on a
synthetic drift where the two disagree, and the newest-window choice wins next week."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import watchkeeper as wk
from watchkeeper.pipelines import METRICS, Registry
from watchkeeper.pipelines.data import Dataset
from watchkeeper.pipelines.selection import select
from watchkeeper.pipelines.windows import plan_windows, time_folds

DAYS, SHIFT, ROWS = 59, 42, 40  # y = x + noise before day SHIFT, y = -x + noise from it
SEEN = 52  # the runs see days 0..51; days 52..58 are the next window
ALPHAS = [0.01, 100000.0]


def drift_frame(seed: int = 3) -> pd.DataFrame:
    """``ROWS`` rows a day: x ~ N(0, 1); the sign of y's dependence on x flips at day
    ``SHIFT``. x and y keep their distributions, so the gate sees nothing wrong."""
    rng = np.random.default_rng(seed)
    day = np.repeat(np.arange(DAYS), ROWS)
    x = rng.normal(size=day.size)
    y = np.where(day < SHIFT, x, -x) + rng.normal(scale=0.3, size=day.size)
    return pd.DataFrame({"id": np.arange(day.size), "x": x, "y": y,
                         "day": pd.Timestamp("2024-01-01") + pd.to_timedelta(day, unit="D")})


def dataset(frame: pd.DataFrame) -> Dataset:
    return Dataset(frame[["x"]].reset_index(drop=True), frame["y"].to_numpy(),
                   frame["day"].to_numpy(dtype="datetime64[ns]"))


def spec() -> dict:
    return {"features": [{"table": "drift", "entity": ["id"], "columns": ["x"]}],
            "label": {"table": "drift", "column": "y", "entity": ["id"]},
            "model": "sklearn.linear_model.Ridge", "windows": {"train": 30, "eval": 7},
            "metrics": ["rmse"], "search": {"params": {"alpha": ALPHAS}}, "folds": 3}


def rmse_next_window(model, frame: pd.DataFrame) -> float:
    days = frame["day"].sort_values().unique()
    nxt = frame[frame["day"].isin(days[SEEN:SEEN + 7])]
    return METRICS["rmse"].score(model, nxt[["x"]], nxt["y"])


class TestSelectionRules:
    def test_rules_disagree_and_newest_wins_on_the_next_window(self):
        """Averaged over old splits picks the small penalty (right before the drift); the
        newest window picks the large one, which is better on the window after it."""
        from sklearn.linear_model import Ridge

        frame = drift_frame()
        data = dataset(frame)
        days = sorted(frame["day"].unique())[:SEEN]
        plan = plan_windows(days, 30, 7, lambda parts: {})
        train, evaluation = data.subset(plan.train), data.subset(plan.eval)
        candidates = [{"alpha": a} for a in ALPHAS]
        build = lambda params: Ridge(**params)  # noqa: E731
        newest = select("newest", build, candidates, METRICS["rmse"], train, evaluation)
        averaged = select("averaged", build, candidates, METRICS["rmse"], train, evaluation,
                          folds=3, eval_size=7)
        assert newest.params == {"alpha": 100000.0}
        assert averaged.params == {"alpha": 0.01}
        assert [len(c.fold_scores) for c in averaged.candidates] == [3, 3]
        chosen = {rule.rule: Ridge(**rule.params).fit(train.X, train.y)
                  for rule in (newest, averaged)}
        after = {rule: rmse_next_window(model, frame) for rule, model in chosen.items()}
        assert after["newest"] < after["averaged"] - 0.5

    def test_time_folds_expand_and_end_at_the_newest(self):
        """Each fold trains on every partition before its validation block."""
        parts = list(pd.date_range("2024-01-01", periods=10))
        folds = time_folds(parts, 3, 2)
        assert [len(f) for f, _ in folds] == [4, 6, 8]
        assert [v for _, v in folds][-1] == parts[-2:]
        assert all(max(f) < min(v) for f, v in folds)


class TestSelectionEndToEnd:
    def test_wk_run_selects_by_rule_and_records_it(self, tmp_path, mlflow_template):
        """Through wk.run: the default rule picks the newest-window choice, the averaged
        option the other; both are registered, and the newest one scores better on the
        days after the eval window."""
        import shutil

        frame = drift_frame()
        seen = frame[frame["day"] < frame["day"].min() + pd.Timedelta(days=SEEN)]
        seen.to_parquet(tmp_path / "drift.parquet", index=False)
        project = wk.Project.init(tmp_path)
        project.add_table(wk.TableSpec("drift", "drift.parquet", "day"))
        project.extra["pipelines"] = {"drift": spec()}
        project.save()
        shutil.copyfile(mlflow_template, tmp_path / ".watchkeeper" / "mlflow.db")
        newest = wk.run("drift", project=tmp_path)
        averaged = wk.run("drift", project=tmp_path, selection="averaged")
        assert newest.ok and averaged.ok and not newest.skipped
        assert newest.selection.rule == "newest" and averaged.selection.rule == "averaged"
        assert newest.selection.params != averaged.selection.params
        registry = Registry(wk.Project.find(tmp_path))
        scores = {r.selection.rule: rmse_next_window(registry.load("drift", r.version), frame)
                  for r in (newest, averaged)}
        assert scores["newest"] < scores["averaged"]
        with pytest.raises(wk.ConfigError, match="selection 'oldest'"):
            wk.run("drift", project=tmp_path, selection="oldest")
