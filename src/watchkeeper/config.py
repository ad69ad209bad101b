"""The project file, ``watchkeeper.yaml``, as typed objects.

```yaml
version: 1
store: .watchkeeper/store.duckdb      # optional; WK_STORE_URL overrides it
tables:
  pizza:
    source: data/pizza.parquet
    partition_column: date
    granularity: day
```

Sections this version does not know are kept as they are when the file is saved.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .engine.sources import missing_files, parse_source
from .engine.types import Granularity
from .errors import ConfigError, SourceError, UnknownTableError
from .store import DEFAULT_STORE, Store

FILENAME = "watchkeeper.yaml"
SUPPORTED_VERSION = 1
"""The only ``version:`` of watchkeeper.yaml this watchkeeper reads (and writes)."""


def _check_version(path: Path, version: Any) -> None:
    if isinstance(version, bool) or version != SUPPORTED_VERSION:
        raise ConfigError(f"{path}: unsupported version: {version!r}; this watchkeeper reads "
                          f"version: {SUPPORTED_VERSION} (fix the file, or upgrade with "
                          "pip install -U watchkeeper if a newer one wrote it)")


@dataclass(frozen=True)
class TableSpec:
    """A registered table: where it lives and how it is partitioned."""

    name: str
    source: str
    partition_column: str
    granularity: str = "day"
    # Who reads the table (models, dashboards): ranks its incidents. Optional.
    consumers: tuple[str, ...] = ()
    # The table's own alert settings (false_alarms, calendar, mute), over the project's.
    alerts: dict | None = None

    def __post_init__(self) -> None:
        if not self.name or not self.name.strip():
            raise ConfigError("a table needs a non-empty name")
        if not self.partition_column:
            raise ConfigError(f"table {self.name!r} needs a partition_column")
        Granularity.parse(self.granularity)
        object.__setattr__(self, "consumers", _names(self.consumers, self.name))

    def to_yaml(self) -> dict:
        out: dict = {"source": self.source, "partition_column": self.partition_column,
                     "granularity": self.granularity}
        if self.consumers:
            out["consumers"] = list(self.consumers)
        if self.alerts:
            out["alerts"] = dict(self.alerts)
        return out


def _names(value, table: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, (list, tuple)):
        raise ConfigError(f"table {table!r}: consumers must be a list of names")
    return tuple(str(v) for v in value)


@dataclass
class Project:
    """A folder with a ``watchkeeper.yaml``; relative paths in it are relative to ``root``."""

    root: Path
    tables: dict[str, TableSpec] = field(default_factory=dict)
    store_url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return self.root / FILENAME

    # -- finding and loading ------------------------------------------------
    @classmethod
    def find(cls, start: Path | None = None) -> "Project | None":
        """The project whose file is in ``start`` or the nearest parent, if any."""
        here = (start or Path.cwd()).resolve()
        for folder in (here, *here.parents):
            if (folder / FILENAME).is_file():
                return cls.load(folder / FILENAME)
        return None

    @classmethod
    def load(cls, path: Path) -> "Project":
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" line {mark.line + 1}" if mark else ""
            raise ConfigError(f"{path}{where} is not valid YAML: fix the file or run wk init "
                              "in a new folder") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path} must hold a mapping with a 'tables:' section")
        tables_raw = data.pop("tables", None) or {}
        if not isinstance(tables_raw, dict):
            raise ConfigError(f"{path}: 'tables' must map table names to their settings")
        tables = {}
        for name, spec in tables_raw.items():
            if not isinstance(spec, dict) or "source" not in spec:
                raise ConfigError(f"{path}: table {name!r} needs at least 'source' and "
                                  "'partition_column'")
            unknown = set(spec) - {"source", "partition_column", "granularity", "consumers",
                                   "alerts"}
            if unknown:
                raise ConfigError(f"{path}: table {name!r} has unknown keys "
                                  f"{sorted(unknown)}: remove them")
            tables[str(name)] = TableSpec(str(name), str(spec["source"]),
                                          str(spec.get("partition_column") or ""),
                                          str(spec.get("granularity", "day")),
                                          spec.get("consumers") or (), spec.get("alerts"))
        _check_version(path, data.pop("version", SUPPORTED_VERSION))
        store = data.pop("store", None)
        return cls(path.parent.resolve(), tables, str(store) if store else None, data)

    @classmethod
    def init(cls, root: Path) -> "Project":
        root = root.resolve()
        if root.exists() and not root.is_dir():
            raise ConfigError(f"{root} is a file, not a folder: wk init takes the project's "
                              "folder, e.g. wk init . (then wk table add NAME --source FILE)")
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create the folder {root} ({exc.strerror}): "
                              "pick a folder you can write to") from None
        if (root / FILENAME).exists():
            raise ConfigError(f"{root / FILENAME} already exists: edit it, or run wk init "
                              "in another folder")
        project = cls(root, store_url=str(DEFAULT_STORE))
        project.save()
        project.store()
        return project

    # -- writing ------------------------------------------------------------
    def save(self) -> None:
        data: dict[str, Any] = {"version": SUPPORTED_VERSION}
        if self.store_url:
            data["store"] = self.store_url
        data["tables"] = {name: spec.to_yaml() for name, spec in self.tables.items()}
        data.update(self.extra)
        tmp = self.path.with_suffix(".yaml.tmp")
        tmp.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
        os.replace(tmp, self.path)  # atomic: a crash never leaves half a file

    def add_table(self, spec: TableSpec, *, replace: bool = False) -> str | None:
        """Register ``spec`` and save; a source path that does not exist is refused, a glob
        that matches no file yet is registered and the returned warning says so."""
        if spec.name in self.tables and not replace:
            raise ConfigError(f"table {spec.name!r} is already registered: pass --replace "
                              "to change it")
        missing = missing_files(parse_source(spec.source, self.root))  # fail now, not
        if missing and not missing.endswith(" yet"):                    # at the first profile
            raise SourceError(f"table {spec.name!r}: {missing}: check the path (a glob such "
                              "as data/*.parquet may match no file yet)")
        self.tables[spec.name] = spec
        self.save()
        return missing

    def table(self, name: str) -> TableSpec:
        try:
            return self.tables[name]
        except KeyError:
            known = ", ".join(sorted(self.tables)) or "none"
            raise UnknownTableError(f"no table named {name!r} in {self.path} (registered: "
                                    f"{known}): register it with wk table add") from None

    def store(self, *, lazy: bool = False) -> Store:
        """The project's store (``lazy``: connected by its first use, see ``Store.open``)."""
        url = self.store_url
        if url and not url.startswith(("postgresql://", "postgres://")):
            url = str(self.root / url)
        return Store.open(url if not os.environ.get("WK_STORE_URL") else None, root=self.root,
                          lazy=lazy)
