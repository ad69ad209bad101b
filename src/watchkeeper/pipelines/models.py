"""Models from import paths: ``{import: PATH, params: {...}}`` to an unfitted estimator.

Only the project file (or the Python builder) names import paths; a path that does
not resolve, params the class does not take, or a class that is not an estimator is
a one-line :class:`~watchkeeper.errors.ConfigError`.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import ConfigError
from .metrics import TASKS


def check_keys(where: str, raw: Any, allowed: Sequence[str], required: Sequence[str] = ()) -> Mapping:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a mapping with keys {', '.join(allowed)}")
    unknown = sorted(set(map(str, raw)) - set(allowed))
    if unknown:
        raise ConfigError(f"{where} has unknown keys {unknown}: use {', '.join(allowed)}")
    missing = [k for k in required if raw.get(k) in (None, "", [])]
    if missing:
        raise ConfigError(f"{where} needs {', '.join(missing)}")
    return raw



def resolve(path: str, where: str):
    """The object an import path names: ``package.module.Name`` or ``package.module:Name``."""
    if not isinstance(path, str) or not path.strip():
        raise ConfigError(f"{where}: model import must be a path like "
                          "sklearn.linear_model.Ridge")
    module_name, _, attr = path.partition(":") if ":" in path else path.rpartition(".")
    if not module_name or not attr:
        raise ConfigError(f"{where}: model import {path!r} is not a path like "
                          "sklearn.linear_model.Ridge")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        top = (exc.name or module_name).split(".")[0]
        raise ConfigError(f"{where}: model import {path!r} does not resolve (no module "
                          f"{exc.name or module_name!r}): fix the path, or pip install {top}"
                          ) from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ConfigError(f"{where}: model import {path!r} does not resolve (module "
                          f"{module_name!r} has no {attr!r}): fix the path") from None


def build_estimator(raw: Mapping, where: str):
    """An estimator from ``{import: PATH, params: {...}}``; params that are themselves
    such mappings (or ``[name, mapping]`` steps of a Pipeline) are built first."""
    cls = resolve(raw["import"], where)
    if not callable(cls):
        raise ConfigError(f"{where}: model import {raw['import']!r} is not a class")
    params = {k: _nested(v, where) for k, v in dict(raw.get("params") or {}).items()}
    try:
        estimator = cls(**params)
    except TypeError as exc:
        raise ConfigError(f"{where}: {raw['import']} does not take these params "
                          f"({exc}): fix model.params") from None
    if not (hasattr(estimator, "fit") and hasattr(estimator, "get_params")):
        raise ConfigError(f"{where}: {raw['import']} is not a scikit-learn-style estimator "
                          "(it needs fit and get_params)")
    return estimator


def _nested(value, where: str):
    if isinstance(value, Mapping) and "import" in value:
        return build_estimator(check_keys(f"{where} model", value, ("import", "params")), where)
    if isinstance(value, (list, tuple)):
        return [_nested(v, where) if not isinstance(v, (list, tuple)) else
                tuple(_nested(x, where) for x in v) for v in value]
    return value


def set_params(estimator, params: Mapping, where: str, key: str) -> None:
    try:
        estimator.set_params(**params)
    except ValueError as exc:
        first = str(exc).splitlines()[0]
        raise ConfigError(f"{where}: {key} has a parameter the model does not take ({first})"
                          ) from None


def task_of(estimator, declared: str | None, where: str, path: str) -> str:
    from sklearn.base import is_classifier, is_regressor

    found = ("classification" if is_classifier(estimator) else
             "regression" if is_regressor(estimator) else None)
    if declared is not None and declared not in TASKS:
        raise ConfigError(f"{where}: task {declared!r} is not one of {', '.join(TASKS)}")
    if declared and found and declared != found:
        raise ConfigError(f"{where}: task is {declared}, but {path} does {found}: fix task, "
                          "or pick a model for the task")
    task = declared or found
    if task is None:
        raise ConfigError(f"{where}: {path} is neither a classifier nor a regressor: set "
                          "task: classification or regression")
    return task
