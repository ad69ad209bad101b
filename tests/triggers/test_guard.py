"""Guards on prediction batches: every rule, nulls and NaN, rejection, logging, frame types."""

from __future__ import annotations

import importlib
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

import watchkeeper as wk
from watchkeeper.errors import ConfigError, WatchkeeperError
from watchkeeper.store.trigger_log import TriggerLog
from watchkeeper.triggers import (BatchRejected, Clip, Drop, Flag, Guard, Predicate, RejectBatch,
                                  Replace, flush_guard_log, parse_triggers, trigger)


def _guard(*rules, model="churn") -> Guard:
    return Guard(model, [trigger("g", "serve.before", rules, model=model)])


def _frame():
    return pd.DataFrame({"score": [0.2, 1.7, np.nan, -0.3, None, 0.9],
                         "segment": ["a", "b", None, "z", "a", "b"],
                         "user": [1, 2, 3, 4, 5, 6]})


def _pred(spec):
    return Predicate.parse(spec, "test")


class TestRules:
    def test_clip_keeps_nulls(self):
        """Clip bounds values, counts only the clipped ones, and leaves NaN as NaN."""
        out = _guard(Clip("score", 0.0, 1.0)).apply(_frame())
        assert out["score"].tolist()[:2] == [0.2, 1.0] and out["score"][3] == 0.0
        assert out["score"].isna().tolist() == [False, False, True, False, True, False]

    def test_clip_one_sided(self):
        """A clip with only max leaves low values alone."""
        out = _guard(Clip("score", None, 1.0)).apply(_frame())
        assert out["score"][3] == -0.3 and out["score"][1] == 1.0

    def test_replace_nulls_with_constant(self):
        """Both None and NaN count as null and get the fallback constant."""
        g = _guard(Replace("score", nulls=True, value=0.5))
        out = g.apply(_frame())
        assert out["score"].tolist() == [0.2, 1.7, 0.5, -0.3, 0.5, 0.9]
        tally = next(iter(g.buffer.tallies.values()))
        assert (tally.rows_in, tally.rows_affected) == (6, 2)

    def test_replace_out_of_range_only(self):
        """outside: [0, 1] replaces out-of-range values but not nulls."""
        out = _guard(Replace("score", outside=(0.0, 1.0), value=0.0)).apply(_frame())
        assert out["score"].tolist()[:2] == [0.2, 0.0] and out["score"][3] == 0.0
        assert out["score"].isna().sum() == 2

    def test_replace_with_fallback_model(self, tmp_path, monkeypatch):
        """A fallback model gets only the affected rows and its output replaces them."""
        (tmp_path / "wk_fallback.py").write_text(textwrap.dedent("""
            seen = []
            def predict(rows):
                seen.append(list(rows["user"]))
                return rows["user"] / 10.0
        """))
        monkeypatch.syspath_prepend(str(tmp_path))
        sys.modules.pop("wk_fallback", None)
        module = importlib.import_module("wk_fallback")
        rule = Replace("score", nulls=True, outside=(0.0, 1.0), fallback="wk_fallback:predict")
        out = _guard(rule).apply(_frame())
        assert module.seen == [[2, 3, 4, 5]]
        assert out["score"].tolist() == [0.2, 0.2, 0.3, 0.4, 0.5, 0.9]

    def test_missing_fallback_is_a_config_error(self):
        """An unimportable fallback fails when the guard compiles, with a one-line message."""
        rule = Replace("score", nulls=True, fallback="no_such_pkg.models:predict")
        with pytest.raises(ConfigError, match="cannot import 'no_such_pkg.models:predict'"):
            _guard(rule)

    def test_drop_rows(self):
        """drop removes matching rows and keeps the original index of the rest."""
        out = _guard(Drop((_pred({"column": "score", "is_null": True}),))).apply(_frame())
        assert out.index.tolist() == [0, 1, 3, 5]

    def test_flag_rows(self):
        """flag adds a boolean column; several flag rules OR into it."""
        out = _guard(Flag((_pred({"column": "score", "not_between": [0, 1]}),)),
                     Flag((_pred({"column": "segment", "in_set": ["z"]}),))).apply(_frame())
        assert out["needs_review"].tolist() == [False, True, False, True, False, False]
        assert out["needs_review"].dtype == bool

    def test_null_never_matches_range_or_set_predicates(self):
        """None and NaN match is_null only, never not_between, in_set or not_in_set."""
        frame = _frame()
        assert not _pred({"column": "score", "not_between": [0, 1]}).mask(frame)[[2, 4]].any()
        assert not _pred({"column": "segment", "not_in_set": ["a", "b"]}).mask(frame)[2]
        assert _pred({"column": "segment", "not_in_set": ["a", "b"]}).mask(frame).tolist() == \
            [False, False, False, True, False, False]
        assert _pred({"column": "score", "is_null": True}).mask(frame).tolist() == \
            [False, False, True, False, True, False]

    def test_nullable_dtypes(self):
        """pandas nullable Float64 with pd.NA behaves like NaN."""
        frame = pd.DataFrame({"score": pd.array([0.5, None, 3.0], dtype="Float64")})
        out = _guard(Flag((_pred({"column": "score", "not_between": [0, 1]}),)),
                     Replace("score", nulls=True, value=0.0)).apply(frame)
        assert out["needs_review"].tolist() == [False, False, True]
        assert out["score"].tolist() == [0.5, 0.0, 3.0]

    def test_missing_column(self):
        """A rule on a column the batch lacks raises a ConfigError naming the columns."""
        with pytest.raises(ConfigError, match="needs column 'prob'.*columns: score"):
            _guard(Clip("prob", 0.0, 1.0)).apply(_frame())

    def test_caller_frame_unchanged(self):
        """The input frame is never modified."""
        frame = _frame()
        before = frame.copy()
        _guard(Clip("score", 0.0, 1.0), Replace("score", nulls=True, value=0.0),
               Flag((_pred({"column": "user", "in_set": [1]}),))).apply(frame)
        pd.testing.assert_frame_equal(frame, before)

    def test_rules_run_in_order(self):
        """A replace after a clip sees clipped values (order is the file's order)."""
        out = _guard(Clip("score", 0.0, 1.0), Replace("score", outside=(0.0, 0.95), value=-1.0)
                     ).apply(_frame())
        assert out["score"][1] == -1.0


class TestRejectBatch:
    def test_positive_share_out_of_bounds(self):
        """A batch with too many positives raises BatchRejected with the reason."""
        g = _guard(RejectBatch("positive_share", (0.0, 0.3), "score", threshold=0.5))
        with pytest.raises(BatchRejected) as info:
            g.apply(_frame())
        assert isinstance(info.value, WatchkeeperError)
        assert info.value.reasons == ["g: positive_share of score is 0.5, outside [0, 0.3]"]

    def test_within_bounds_passes(self):
        """Within bounds, the batch is served unchanged."""
        out = _guard(RejectBatch("mean", (0.0, 1.0), "score")).apply(_frame())
        assert len(out) == 6

    def test_all_null_is_rejected(self):
        """A statistic that cannot be computed (all nulls) rejects the batch."""
        frame = pd.DataFrame({"score": [np.nan, None]})
        with pytest.raises(BatchRejected, match="not computable"):
            _guard(RejectBatch("mean", (0.0, 1.0), "score")).apply(frame)

    def test_rows_and_null_share(self):
        """rows and null_share are batch statistics too; every failing check is reported."""
        g = _guard(RejectBatch("rows", (10, 1e9)), RejectBatch("null_share", (0, 0.1), "score"))
        with pytest.raises(BatchRejected) as info:
            g.apply(_frame())
        assert len(info.value.reasons) == 2

    def test_rejection_fires_and_logs(self, make_project, hook, monkeypatch):
        """A rejection flushes the counts and fires the trigger's webhook before raising."""
        monkeypatch.setenv("WK_GUARD_HOOK", hook.url())
        project = make_project({"churn-guard": {"event": "serve.before", "model": "churn",
                                                "actions": [
            {"reject_batch": {"statistic": "positive_share", "column": "score",
                              "between": [0, 0.2]}},
            {"webhook": {"url_env": "WK_GUARD_HOOK"}}]}})
        with pytest.raises(BatchRejected):
            wk.guard(_frame(), model="churn", project=project, batch_id="b-1")
        assert len(hook.delivered) == 1
        body = hook.delivered[0]
        assert body["event"]["context"]["reasons"] == [
            "churn-guard: positive_share of score is 0.5, outside [0, 0.2]"]
        assert body["event"]["severity"] == "critical"
        counts = TriggerLog(project.store()).guard_counts("churn")
        assert counts["batches_rejected"].tolist() == [1]


class TestGuardApi:
    RULES = {"churn-guard": {"event": "serve.before", "model": "churn", "actions": [
        {"clip": {"column": "score", "min": 0, "max": 1, "log_rows": 1}},
        {"replace": {"column": "score", "nulls": True, "value": 0.5}},
        {"flag": {"when": {"column": "segment", "is_null": True}}}]}}

    def test_guard_from_project_and_log_counts(self, make_project):
        """wk.guard applies the project's rules; flushed counts per rule land in the store."""
        flush_guard_log()  # counts buffered by earlier tests go to their own stores
        project = make_project(self.RULES)
        for _ in range(3):
            out = wk.guard(_frame(), model="churn", project=project.root)
        assert out["score"].tolist() == [0.2, 1.0, 0.5, 0.0, 0.5, 0.9]
        assert flush_guard_log() == 3
        counts = TriggerLog(project.store()).guard_counts("churn")
        assert counts[["rule_kind", "batches", "rows_in", "rows_affected"]].values.tolist() == [
            ["clip", 3, 18, 6], ["replace", 3, 18, 6], ["flag", 3, 18, 3]]
        samples = TriggerLog(project.store()).guard_samples("churn")
        assert samples == [{"trigger": "churn-guard", "rule_index": 0,
                            "rows": [{"score": 1.7, "segment": "b", "user": 2}]}]

    def test_rows_are_not_logged_by_default(self, make_project):
        """Without log_rows, only counts are stored, never the rows."""
        rules = {"g": {"event": "serve.before", "model": "m",
                       "actions": [{"clip": {"column": "score", "max": 1}}]}}
        project = make_project(rules)
        wk.guard(_frame(), model="m", project=project)
        flush_guard_log()
        with project.store()._connect() as db:
            assert db.execute("SELECT sample FROM wk_guard_log") == [(None,)]

    def test_other_models_and_no_project_pass_through(self, make_project, tmp_path,
                                                      monkeypatch):
        """A model without rules, or no project at all, gets its batch back untouched."""
        project = make_project(self.RULES)
        frame = _frame()
        assert wk.guard(frame, model="other", project=project) is frame
        empty = tmp_path / "nowhere"
        empty.mkdir()
        monkeypatch.chdir(empty)
        assert wk.guard(frame, model="churn") is frame

    def test_recompiles_when_the_file_changes(self, make_project):
        """Editing watchkeeper.yaml takes effect on the next batch."""
        project = make_project(self.RULES)
        assert wk.guard(_frame(), model="churn", project=project)["score"][1] == 1.0
        rules = {"churn-guard": {"event": "serve.before", "model": "churn",
                                 "actions": [{"clip": {"column": "score", "max": 0.5}}]}}
        import os
        import time

        make_project(rules)
        later = time.time_ns() + 10_000_000
        os.utime(project.path, ns=(later, later))
        assert wk.guard(_frame(), model="churn", project=project)["score"][1] == 0.5

    @pytest.mark.parametrize("kind", ["polars", "pyarrow"])
    def test_polars_and_arrow(self, kind):
        """Polars and Arrow batches are guarded and returned in their own type."""
        g = _guard(Clip("score", 0.0, 1.0), Drop((_pred({"column": "score", "is_null": True}),)))
        frame = _frame()
        if kind == "polars":
            import polars as pl

            batch = pl.from_pandas(frame)
        else:
            import pyarrow as pa

            batch = pa.Table.from_pandas(frame, preserve_index=False)
        out = g.apply(batch)
        assert type(out) is type(batch)
        assert list(out.to_pandas()["score"]) == [0.2, 1.0, 0.0, 0.9]

    def test_parsed_rules_equal_built_rules(self):
        """The YAML form and the Python builder give the same guard rules."""
        parsed = parse_triggers(self.RULES)[0]
        built = trigger("churn-guard", "serve.before", [
            Clip("score", 0.0, 1.0, log_rows=1), Replace("score", nulls=True, value=0.5),
            Flag((Predicate("segment", "is_null", True),))], model="churn")
        assert parsed == built


class TestHotPath:
    def test_no_store_write_per_batch(self, make_project, monkeypatch):
        """Many batches cause no store write until a flush, which writes once per rule."""
        writes = []
        original = TriggerLog.add_guard_counts
        monkeypatch.setattr(TriggerLog, "add_guard_counts",
                            lambda self, rows: (writes.append(len(rows)), original(self, rows)))
        flush_guard_log()
        writes.clear()
        project = make_project(TestGuardApi.RULES)
        for _ in range(50):
            wk.guard(_frame(), model="churn", project=project)
        assert writes == []
        flush_guard_log()
        assert writes == [3]

    def test_unwritable_store_keeps_counts(self, duck_store, monkeypatch):
        """A flush that fails keeps the counts, and the next flush writes them all."""
        from watchkeeper.errors import StoreLockedError
        from watchkeeper.triggers.guard import GuardLogBuffer

        buffer = GuardLogBuffer(duck_store)
        g = Guard("churn", [trigger("g", "serve.before", [Clip("score", 0.0, 1.0)])],
                  buffer=buffer)
        g.apply(_frame())

        def locked(self, rows):
            raise StoreLockedError("store is locked")

        with monkeypatch.context() as m:
            m.setattr(TriggerLog, "add_guard_counts", locked)
            assert buffer.flush() == 0
        g.apply(_frame())
        assert buffer.flush() == 1
        counts = TriggerLog(duck_store).guard_counts("churn")
        assert counts[["batches", "rows_affected"]].values.tolist() == [[2, 4]]
