"""The curated public API (structlog style): a change to it must be deliberate.

Adding or removing a public name means editing EXPECTED here in the same commit.
"""

from __future__ import annotations

import watchkeeper

EXPECTED = [
    # engines, summaries, store, configuration, errors
    "ConfigError", "EmptySourceError", "EngineUnavailableError", "Granularity", "Kind",
    "Notice", "PartitionColumnError", "ProfileResult", "Project", "STATISTIC_NAMES",
    "SourceError", "Store", "StoreError", "StoreLockedError", "TableSpec", "UnknownTableError",
    "UserError", "WatchkeeperError", "__version__", "open_source", "profile",
    # triggers
    "BatchRejected", "Event", "FireResult", "Trigger", "fire", "guard",
    # alerts
    "Incident", "UnknownIncidentError", "check",
    # gates
    "GateDecision", "gate",
    # managed tables
    "IngestResult", "InvalidPartitionError", "InvalidPartitionWarning", "ManagedTable",
    "SnapshotId", "managed_table",
    # pipelines
    "RunResult", "log", "run",
]


class TestPublicAPI:
    """``watchkeeper.__all__`` is the whole, importable, public surface."""

    def test_all_is_the_expected_list(self):
        """``__all__`` holds exactly the expected names, sorted, without duplicates."""
        assert sorted(watchkeeper.__all__) == sorted(EXPECTED)
        assert len(set(watchkeeper.__all__)) == len(watchkeeper.__all__)

    def test_every_name_imports(self):
        """Each name in ``__all__`` resolves with ``from watchkeeper import name``."""
        module = watchkeeper
        for name in module.__all__:
            namespace: dict = {}
            exec(f"from watchkeeper import {name}", namespace)  # noqa: S102
            assert namespace[name] is getattr(module, name)

    def test_user_errors_share_one_base(self):
        """Every public error a user can fix is a UserError, so the CLI exits 2 for it."""
        errors = [getattr(watchkeeper, n) for n in watchkeeper.__all__ if n.endswith("Error")]
        fixable = [e for e in errors if e not in (watchkeeper.WatchkeeperError,
                                                  watchkeeper.UserError)]
        assert fixable and all(issubclass(e, watchkeeper.UserError) for e in fixable)

    def test_version_is_a_string(self):
        """``__version__`` is the installed package's version string."""
        from importlib.metadata import version

        assert watchkeeper.__version__ == version("watchkeeper")

    def test_dir_lists_the_public_names(self):
        """``dir(watchkeeper)`` shows every public name, loaded or not yet."""
        assert set(watchkeeper.__all__) <= set(dir(watchkeeper))

    def test_unknown_name_is_an_attribute_error(self):
        """A name outside the API raises AttributeError, as for any module."""
        import pytest

        with pytest.raises(AttributeError, match="no_such_name"):
            watchkeeper.no_such_name  # noqa: B018
