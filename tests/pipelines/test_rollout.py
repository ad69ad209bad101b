"""Staged rollout: challenger, shadow, champion; promotion refused on open critical
incidents; automatic promotion by margin; rollback; events fired for triggers."""

from __future__ import annotations

import pytest

import watchkeeper as wk
from watchkeeper.errors import ConfigError
from watchkeeper.pipelines import Registry, lineage, promote, rollback, shadow

import pipeline_hooks
from pizza_data import make_project, orders, revenue_pipeline

HOOKS = {f"note-{kind}": {"event": kind, "actions": [
    {"python": {"function": "pipeline_hooks:record"}}]}
    for kind in ("model.promoted", "model.rolled_back", "train.after")}


@pytest.fixture
def project(workdir, mlflow_template):
    """25 days of orders, the revenue pipeline, triggers that record model events."""
    pipeline_hooks.EVENTS.clear()
    made = make_project(workdir, days=25, mlflow_db=mlflow_template,
                        pipelines={"revenue": revenue_pipeline()})
    found = wk.Project.find(workdir)
    found.extra["triggers"] = HOOKS
    found.save()
    return made


def context():
    found = wk.Project.find()
    return Registry(found), found.store(), found


class TestStages:
    def test_shadow_promote_rollback(self, project):
        """A version goes challenger → shadow → champion; a rollback gives champion back
        to the version it replaced; each change is recorded and fires its event."""
        first, second = wk.run("revenue"), wk.run("revenue")
        registry, store, found = context()
        assert registry.aliases("revenue") == {"challenger": "2"}
        assert shadow(registry, store, found, "revenue").version == "2"
        assert promote(registry, store, found, "revenue", first.version).done
        change = promote(registry, store, found, "revenue")
        assert (change.done, change.version, change.previous) == (True, "2", "1")
        assert registry.aliases("revenue") == {"challenger": "2", "shadow": "2",
                                               "champion": "2"}
        back = rollback(registry, store, found, "revenue")
        assert (back.version, back.previous) == ("1", "2")
        assert registry.alias("revenue", "champion") == "1"
        trained = [e for e in pipeline_hooks.EVENTS if e.type == "train.after"]
        assert [(e.model, e.context["version"], e.partition) for e in trained] == [
            ("revenue", "1", first.eval[-1]), ("revenue", "2", second.eval[-1])]
        events = [(e.type, e.model, e.context["version"], e.context["previous"])
                  for e in pipeline_hooks.EVENTS if e.type != "train.after"]
        assert events == [("model.promoted", "revenue", "1", None),
                          ("model.promoted", "revenue", "2", "1"),
                          ("model.rolled_back", "revenue", "1", "2")]
        history = lineage.stages(store, "revenue")
        assert history["action"].tolist() == ["register", "register", "shadow", "promote",
                                              "promote", "rollback"]
        assert set(history["user_name"]) == {"alice"}
        with pytest.raises(ConfigError, match="replaced no earlier champion"):
            rollback(registry, store, found, "revenue")

    def test_unknown_version_is_a_config_error(self, project):
        """Naming a version the registry lacks is one line with the versions it has."""
        wk.run("revenue")
        registry, store, found = context()
        with pytest.raises(ConfigError, match=r"has no version '7' \(versions: 1\)"):
            promote(registry, store, found, "revenue", "7")
        with pytest.raises(ConfigError, match="has no champion to roll back"):
            rollback(registry, store, found, "revenue")

    def test_open_critical_incident_on_inputs_refuses_promotion(self, project):
        """A critical incident found later on a partition the version trained on refuses
        the promotion until a person closes it."""
        result = wk.run("revenue")
        day = result.train[3]
        features, _ = orders(25)
        hit = features["date"] == day
        features.loc[hit, "pizzas"] = -1
        features.to_parquet(project.root / "order_features.parquet", index=False)
        decision = wk.gate("order_features", day)
        assert not decision.allowed and decision.incidents
        registry, store, found = context()
        refused = promote(registry, store, found, "revenue")
        assert not refused.done and f"critical incident {decision.incidents[0]}" in \
            refused.reasons[0]
        assert registry.alias("revenue", "champion") is None
        assert [e.type for e in pipeline_hooks.EVENTS] == ["train.after"]
        from watchkeeper.alerts import feedback

        feedback(decision.incidents[0], "resolve", note="fixed upstream")
        assert promote(registry, store, found, "revenue").done


class TestAutomaticPromotion:
    def test_promoted_only_when_it_beats_the_champion_by_the_margin(self, project):
        """The first version becomes champion; one that scores the same does not replace
        it; a better one does, with both scores in the event."""
        def declare(**changes):
            found = wk.Project.find()
            found.extra["pipelines"] = {"revenue": revenue_pipeline(
                promotion={"auto": True, "margin": 0.02}, **changes)}
            found.save()

        declare(search={"params": {"alpha": [100000.0]}})  # a poor first champion
        first = wk.run("revenue")
        assert first.promotion.done and first.promotion.previous is None
        same = wk.run("revenue")
        assert not same.promotion.done
        assert "does not beat champion version 1" in same.promotion.reasons[0]
        declare()
        better = wk.run("revenue")
        assert better.promotion.done and better.promotion.previous == "1"
        scores = better.promotion.scores
        assert scores["challenger"] < scores["champion"] * 0.98
        registry, _, _ = context()
        assert registry.aliases("revenue") == {"challenger": "3", "champion": "3"}
        promoted = [e for e in pipeline_hooks.EVENTS if e.type == "model.promoted"]
        assert [e.context["version"] for e in promoted] == ["1", "3"]
        assert promoted[-1].context["scores"]["champion"] == pytest.approx(scores["champion"])
