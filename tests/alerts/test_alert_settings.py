"""The alerts: section and the tables' consumers: key of watchkeeper.yaml."""

from __future__ import annotations

import pytest
import yaml

from watchkeeper.alerts import AlertSettings
from watchkeeper.alerts.settings import consumers_of
from watchkeeper.config import Project
from watchkeeper.detect import thresholds
from watchkeeper.errors import ConfigError


class TestAlertSettings:
    def test_defaults(self):
        """No section means a budget of one false alarm per 90 partitions, no calendar, no
        mutes and the default chain."""
        settings = AlertSettings.from_dict(None)
        assert settings.levels() == thresholds("1 per 90") and settings.processors is None
        detector = settings.make_detector("day")
        assert detector.false_alarms == "1 per 90" and detector.calendar is None
        assert detector.mute == []

    @pytest.mark.parametrize("raw, message", [
        ({"sensitivity": "low"}, "false_alarms: 1 per 90 instead"),
        ({"false_alarms": "loud"}, "false_alarms 'loud'"),
        ({"calendar": "XX"}, "calendar 'XX'"),
        ({"mute": [["a"]]}, "mute"),
        ({"bogus": 1}, "unknown keys"),
        ({"processors": "rank"}, "must be a list"),
        ({"detector": [1]}, "must map RobustDetector"),
    ])
    def test_mistakes_are_config_errors(self, raw, message):
        """A wrong key or value is refused when the file is read, naming it."""
        with pytest.raises(ConfigError, match=message):
            AlertSettings.from_dict(raw)

    def test_unknown_detector_parameter(self):
        """A detector parameter RobustDetector does not take is a ConfigError."""
        with pytest.raises(ConfigError, match="RobustDetector"):
            AlertSettings.from_dict({"detector": {"windw": 3}}).make_detector("day")


class TestConsumers:
    def test_consumers_round_trip(self, tmp_path):
        """consumers: is read, counted, and written back; tables without it are unchanged."""
        (tmp_path / "watchkeeper.yaml").write_text(yaml.safe_dump({"version": 1, "tables": {
            "orders": {"source": "o.parquet", "partition_column": "d",
                       "consumers": ["model", "dash"]},
            "plain": {"source": "p.parquet", "partition_column": "d"}}}))
        project = Project.load(tmp_path / "watchkeeper.yaml")
        assert project.tables["orders"].consumers == ("model", "dash")
        assert consumers_of(project, "orders") == 2 and consumers_of(project, "plain") == 0
        project.save()
        saved = yaml.safe_load((tmp_path / "watchkeeper.yaml").read_text())["tables"]
        assert saved["orders"]["consumers"] == ["model", "dash"]
        assert "consumers" not in saved["plain"]

    def test_bad_consumers(self, tmp_path):
        """consumers must be a list of names."""
        (tmp_path / "watchkeeper.yaml").write_text(yaml.safe_dump({"tables": {
            "orders": {"source": "o.parquet", "partition_column": "d", "consumers": {"a": 1}}}}))
        with pytest.raises(ConfigError, match="consumers must be a list"):
            Project.load(tmp_path / "watchkeeper.yaml")
