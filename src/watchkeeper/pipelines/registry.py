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
import importlib.metadata
import logging
import os
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
                client = MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)
                # The first call creates (or migrates) the embedded store, and MLflow logs
                # that at INFO: make it here, while its logging is quiet.
                client.search_experiments(max_results=1)
                self._client = client
        return self._client

    # -- writing ----------------------------------------------------------------
    def log_and_register(self, name: str, model, *, model_import: str, params: Mapping,
                         metrics: Mapping[str, float], tags: Mapping[str, str]) -> tuple[str, str]:
        """Log ``model`` in a new MLflow run and register it as a new version of ``name``.

        Returns ``(version, mlflow_run_id)``. If anything fails, the run is marked
        FAILED and no version exists.
        """
        with self._mlflow() as mlflow:
            experiment = self._experiment(mlflow, name)
            client = self.client
            run = client.create_run(experiment, tags=dict(tags))
            run_id = run.info.run_id
            try:
                with mlflow.start_run(run_id=run_id):
                    mlflow.log_params({k: str(v)[:500] for k, v in params.items()})
                    mlflow.log_metrics({k: float(v) for k, v in metrics.items()
                                        if v is not None})
                    info = mlflow.sklearn.log_model(
                        model, name="model", pip_requirements=_requirements(model_import),
                        skops_trusted_types=_own_types(model))
                if not client.search_registered_models(filter_string=f"name = '{name}'"):
                    client.create_registered_model(name, tags={"watchkeeper.pipeline": name})
                version = client.create_model_version(name, info.model_uri, run_id,
                                                      tags=dict(tags))
            except BaseException:
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
        with quiet():
            from mlflow.exceptions import MlflowException

            try:
                model = self.client.get_registered_model(name)
            except MlflowException:
                return {}
        return {a: str(v) for a, v in (model.aliases or {}).items()}

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

    def _experiment(self, mlflow, name: str) -> str:
        title = f"watchkeeper/{name}"
        found = self.client.get_experiment_by_name(title)
        if found is not None:
            return found.experiment_id
        location = (self.root / ARTIFACTS).resolve().as_uri() if self.embedded else None
        return self.client.create_experiment(title, artifact_location=location)


def _own_types(model) -> list[str] | None:
    """The types of a model this project's run just trained that skops does not trust by
    default (the node storage of tree ensembles, for one). The run built the model from an
    import path of the project file, so its types are the project's own; MLflow stores
    the list with the model and loads it back only from this registry."""
    try:
        import skops.io
    except ImportError:  # MLflow then pickles the model
        return None
    found = skops.io.get_untrusted_types(data=skops.io.dumps(model))
    return list(found) or None


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
