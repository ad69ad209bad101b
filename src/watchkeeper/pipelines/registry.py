"""The model registry and tracking: MLflow, embedded by default.

Without settings, MLflow runs in-process on a SQLite store at
``.watchkeeper/mlflow.db`` (tracking and registry) with artifacts under
``.watchkeeper/mlartifacts``: no server. A team with a tracking server says so in
``watchkeeper.yaml``::

    registry:
      tracking_uri: http://mlflow.internal:5000

Models are logged with MLflow's scikit-learn flavour (XGBoost and LightGBM models
through their scikit-learn APIs too). Stages are registered-model aliases:
``challenger``, ``shadow``, ``champion``. Models are loaded by name and version from
this registry only, never from a URI a caller passes.

MLflow is imported lazily (it takes a second or two), so other ``wk`` commands
never pay for it; its logging is kept out of watchkeeper's output, and its usage
telemetry is off unless ``MLFLOW_DISABLE_TELEMETRY=false`` is set.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import inspect
import logging
import os
import time
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path

from ..errors import ConfigError

ALIASES = ("challenger", "shadow", "champion")
DB = Path(".watchkeeper") / "mlflow.db"
ARTIFACTS = Path(".watchkeeper") / "mlartifacts"
_QUIET = ("mlflow", "alembic", "alembic.runtime.migration", "urllib3", "git")


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """MLflow's INFO lines and warnings (pickle, pip inference) stay out of the output."""
    levels = {name: logging.getLogger(name).level for name in _QUIET}
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    # MLflow sends usage telemetry over the network unless told not to; watchkeeper
    # makes no network calls the user did not configure (set it to false to opt in).
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in _QUIET:
            logging.getLogger(name).setLevel(logging.ERROR)
        try:
            yield
        finally:
            for name, level in levels.items():
                logging.getLogger(name).setLevel(level)


class Registry:
    """The project's MLflow tracking and registry store."""

    def __init__(self, project) -> None:
        settings = project.extra.get("registry") or {}
        if not isinstance(settings, Mapping) or set(settings) - {"tracking_uri"}:
            raise ConfigError("registry: takes one key, tracking_uri (an MLflow tracking URL)")
        self.root = Path(project.root)
        self.embedded = not settings.get("tracking_uri")
        self.uri = (str(settings["tracking_uri"]) if not self.embedded
                    else f"sqlite:///{(self.root / DB).as_posix()}")
        self._client = None
        self._known: set[str] = set()  # registered models seen to exist

    def __repr__(self) -> str:
        return f"Registry({self.uri!r})"

    @contextlib.contextmanager
    def _mlflow(self) -> Iterator[object]:
        with quiet():
            import mlflow

            before = (mlflow.get_tracking_uri(), mlflow.get_registry_uri())
            if self.embedded:
                (self.root / DB).parent.mkdir(parents=True, exist_ok=True)
            mlflow.set_tracking_uri(self.uri)
            mlflow.set_registry_uri(self.uri)
            try:
                yield mlflow
            finally:
                mlflow.set_tracking_uri(before[0])
                mlflow.set_registry_uri(before[1])

    @property
    def client(self):
        if self._client is None:
            with quiet():
                from mlflow import MlflowClient

                if self.embedded:
                    (self.root / DB).parent.mkdir(parents=True, exist_ok=True)
                # The first call creates (or migrates) the embedded store, and MLflow logs
                # that at INFO: every call of the client is made while its logging is quiet.
                self._client = MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)
        return self._client

    # -- writing ----------------------------------------------------------------
    def log_and_register(self, name: str, model, *, model_import: str, params: Mapping,
                         metrics: Mapping[str, float], tags: Mapping[str, str]) -> tuple[str, str]:
        """Log ``model`` in a new MLflow run and register it as a new version of ``name``.

        Returns ``(version, mlflow_run_id)``. If anything fails, the run is marked
        FAILED and no version exists.
        """
        with self._mlflow() as mlflow:
            from mlflow.entities import Metric, Param

            client = self.client
            exists = name in self._known or self._registered(name) is not None
            run = mlflow.start_run(experiment_id=self._experiment(name), tags=dict(tags))
            run_id = run.info.run_id
            try:
                stamp = int(time.time() * 1000)
                # Params and metrics in one batch: one transaction of the tracking store.
                client.log_batch(run_id, metrics=[
                    Metric(k, float(v), stamp, 0) for k, v in metrics.items() if v is not None
                ], params=[Param(k, str(v)[:500]) for k, v in params.items()])
                info = _log_model(mlflow, model, model_import)
                mlflow.end_run()
                if not exists:
                    client.create_registered_model(name, tags={"watchkeeper.pipeline": name})
                    self._known.add(name)
                version = client.create_model_version(name, info.model_uri, run_id,
                                                      tags=dict(tags))
            except BaseException:
                self._known.discard(name)  # asked again next time
                if mlflow.active_run() is not None:
                    mlflow.end_run("FAILED")
                else:
                    client.set_terminated(run_id, "FAILED")
                raise
        return str(version.version), run_id

    def delete_version(self, name: str, version: str) -> None:
        with quiet():
            self.client.delete_model_version(name, str(version))

    def set_alias(self, name: str, alias: str, version: str | None) -> None:
        """Point ``alias`` at ``version`` (None removes the alias)."""
        if alias not in ALIASES:
            raise ConfigError(f"unknown stage {alias!r}: use one of {', '.join(ALIASES)}")
        with quiet():
            if version is None:
                if self.alias(name, alias) is not None:
                    self.client.delete_registered_model_alias(name, alias)
            else:
                self.client.set_registered_model_alias(name, alias, str(version))

    # -- reading ------------------------------------------------------------------
    def alias(self, name: str, alias: str) -> str | None:
        """The version ``alias`` points at, or None."""
        return self.aliases(name).get(alias)

    def aliases(self, name: str) -> dict[str, str]:
        model = self._registered(name)
        return {} if model is None else {a: str(v) for a, v in (model.aliases or {}).items()}

    def _registered(self, name: str):
        """The registered model ``name``, or None."""
        with quiet():
            from mlflow.exceptions import MlflowException

            try:
                model = self.client.get_registered_model(name)
            except MlflowException:
                return None
        self._known.add(name)
        return model

    def versions(self, name: str) -> list[dict]:
        """Every version of ``name``, newest first, with its aliases and metrics."""
        aliases = self.aliases(name)
        by_version: dict[str, list[str]] = {}
        for a, v in aliases.items():
            by_version.setdefault(v, []).append(a)
        with quiet():
            found = self.client.search_model_versions(f"name = '{name}'")
            out = []
            for mv in sorted(found, key=lambda m: -int(m.version)):
                metrics = self.client.get_run(mv.run_id).data.metrics if mv.run_id else {}
                out.append({"version": str(mv.version), "aliases": sorted(by_version.get(
                    str(mv.version), [])), "run_id": mv.run_id, "metrics": dict(metrics),
                    "created": int(mv.creation_timestamp)})
        return out

    def has_version(self, name: str, version: str) -> bool:
        return any(v["version"] == str(version) for v in self.versions(name))

    def load(self, name: str, version: str):
        """The scikit-learn model of ``name`` version ``version``, from this registry."""
        with self._mlflow() as mlflow:
            return mlflow.sklearn.load_model(f"models:/{name}/{int(version)}")

    def _experiment(self, name: str) -> str:
        title = f"watchkeeper/{name}"
        found = self.client.get_experiment_by_name(title)
        if found is not None:
            return found.experiment_id
        location = (self.root / ARTIFACTS).resolve().as_uri() if self.embedded else None
        return self.client.create_experiment(title, artifact_location=location)


def _log_model(mlflow, model, model_import: str):
    """Log ``model`` with MLflow's scikit-learn flavour (skops format), trusting the types
    of its own object graph (:func:`_graph_types`): MLflow serialises it once and loads
    it back with that list, so a list that misses a type fails there, and the model is
    logged again with the list skops finds in a dump of it (:func:`_dumped_types`)."""
    from mlflow.exceptions import MlflowException

    requirements = _requirements(model_import)
    try:
        return mlflow.sklearn.log_model(model, name="model", pip_requirements=requirements,
                                        skops_trusted_types=_graph_types(model))
    except MlflowException as exc:
        if "untrusted types" not in str(exc):
            raise
    return mlflow.sklearn.log_model(model, name="model", pip_requirements=requirements,
                                    skops_trusted_types=_dumped_types(model))


def _dumped_types(model) -> list[str] | None:
    """The types in a skops dump of ``model`` that skops does not trust by default."""
    try:
        import skops.io
    except ImportError:  # MLflow then pickles the model
        return None
    return list(skops.io.get_untrusted_types(data=skops.io.dumps(model))) or None


# Types skops's own nodes restore without a trusted list (random states and generators,
# slices), though they are in none of its lists of type names.
_SKOPS_NODE_TRUSTED = ("numpy.random.", "builtins.slice")
_PLAIN = (str, bytes, bytearray, int, float, complex, bool, type(None))
_MAX_OBJECTS = 1_000_000


def _graph_types(model) -> list[str] | None:
    """The types a model this project's run just trained is made of (the node storage of
    tree ensembles, for one), less those skops trusts by default, found by walking the
    model's object graph the way skops persists it (``__getstate__`` or ``__dict__``,
    ``__reduce__`` arguments, containers, object arrays) instead of serialising it.

    The run built the model from an import path of the project file, so its types are
    the project's own; MLflow stores the list with the model and loads it back only from
    this registry. A list that misses a type fails MLflow's load-back check, never
    silently (see :func:`_log_model`)."""
    try:
        import numpy as np
        import skops.io  # noqa: F401  (no skops: MLflow pickles the model)
    except ImportError:
        return None
    found: set[str] = set()
    seen: set[int] = set()
    held: list = []
    todo = [model]
    while todo:
        obj = todo.pop()
        if isinstance(obj, _PLAIN) or id(obj) in seen:
            continue
        seen.add(id(obj))
        held.append(obj)  # a state made on the way keeps its id while the walk runs
        if len(seen) > _MAX_OBJECTS:  # not worth walking: MLflow's check decides
            return _dumped_types(model)
        if isinstance(obj, np.ndarray):
            if obj.dtype == object:
                todo.extend(obj.ravel().tolist())
            continue
        if isinstance(obj, (np.generic, np.dtype)):
            continue
        if isinstance(obj, dict):
            if type(obj) is not dict:
                found.add(_name(type(obj)))
            todo.extend(obj.keys())
            todo.extend(obj.values())
            continue
        if isinstance(obj, (list, tuple, set, frozenset)):
            if type(obj) not in (list, tuple, set, frozenset):
                found.add(_name(type(obj)))
            todo.extend(obj)
            continue
        if isinstance(obj, functools.partial):
            found.add("functools.partial")
            todo.extend((obj.func, obj.args, obj.keywords))
            continue
        if isinstance(obj, (type, np.ufunc)) or inspect.isroutine(obj):
            found.add(_name(obj))  # a type, function or ufunc held as a value
            if inspect.ismethod(obj):
                todo.append(obj.__self__)
            continue
        found.add(_name(type(obj)))
        if hasattr(obj, "__dict__"):
            todo.append(obj.__getstate__() if hasattr(obj, "__getstate__") else obj.__dict__)
            continue
        try:  # a C type (scikit-learn's Tree): its constructor arguments and state
            reduced = obj.__reduce__()
        except Exception:  # noqa: BLE001  (not reducible: skops cannot store it either)
            continue
        if isinstance(reduced, tuple):
            todo.extend(reduced[1:3])
    return sorted(t for t in found - _skops_default_trusted()
                  if not t.startswith(_SKOPS_NODE_TRUSTED)) or None


def _name(thing) -> str:
    module = getattr(thing, "__module__", None) or "builtins"
    return f"{module}.{thing.__name__}"


@functools.cache
def _skops_default_trusted() -> frozenset[str]:
    """Types skops trusts without being told (scikit-learn's estimators, NumPy's and
    SciPy's types and ufuncs); an older skops without these lists: none."""
    try:
        from skops.io import _trusted_types as trusted
    except ImportError:
        return frozenset()
    names = [getattr(trusted, n) for n in dir(trusted) if n.endswith("_TYPE_NAMES")]
    return frozenset(x for group in names if isinstance(group, (list, tuple, set))
                     for x in group if isinstance(x, str))


def _requirements(model_import: str) -> list[str]:
    """Pinned requirements of the model: scikit-learn, and the model's own package.

    Given explicitly, so MLflow does not load the model in a subprocess to infer them.
    """
    packages = {"scikit-learn"}
    top = model_import.replace(":", ".").split(".")[0]
    if top != "sklearn":
        packages.add(top)
    out = []
    for package in sorted(packages):
        try:
            out.append(f"{package}=={importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            out.append(package)
    return out
