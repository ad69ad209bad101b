"""Train and eval windows, built anew from the data on every run.

The eval window is the newest ``eval`` VALID partitions; the train window is the
``train`` valid partitions just before it. Partitions are gated newest first, and
only as far back as needed: each invalid partition found pulls in one older
candidate. So the windows move with the data, and a broken partition is replaced
by an older valid one instead of being trained on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from ..errors import ConfigError

Gate = Callable[[list[pd.Timestamp]], dict[pd.Timestamp, list[str]]]
"""Gates partitions; returns the reasons that block each one (no entry: valid)."""


@dataclass(frozen=True)
class WindowPlan:
    """The partitions a run trains and evaluates on, and those the gate turned away."""

    train: tuple[pd.Timestamp, ...]
    eval: tuple[pd.Timestamp, ...]
    skipped: dict[pd.Timestamp, list[str]] = field(default_factory=dict)
    gated: tuple[pd.Timestamp, ...] = ()
    wanted: tuple[int, int] = (0, 0)

    @property
    def complete(self) -> bool:
        """Whether enough valid partitions were found for both windows."""
        return (len(self.train), len(self.eval)) == self.wanted

    @property
    def partitions(self) -> tuple[pd.Timestamp, ...]:
        return self.train + self.eval


def plan_windows(available: Sequence[pd.Timestamp], train: int, eval: int,  # noqa: A002
                 gate: Gate, *, where: str = "pipeline") -> WindowPlan:
    """Choose the windows among ``available`` partitions (any order), gating as it goes.

    Raises :class:`ConfigError` when the history is shorter than the two windows
    (a spec mistake); returns an incomplete plan when the gate left too few valid
    partitions (the run is then blocked).
    """
    history = sorted(set(pd.Timestamp(p) for p in available))
    need = train + eval
    if len(history) < need:
        raise ConfigError(f"{where}: windows need {need} partitions (train {train} + eval "
                          f"{eval}) but the data has {len(history)}: shorten the windows")
    candidates = list(reversed(history))  # newest first
    valid: list[pd.Timestamp] = []
    skipped: dict[pd.Timestamp, list[str]] = {}
    gated: list[pd.Timestamp] = []
    position = 0
    while len(valid) < need and position < len(candidates):
        batch = candidates[position:position + need - len(valid)]
        position += len(batch)
        blocked = gate(sorted(batch))
        gated.extend(batch)
        for p in batch:  # newest first
            if blocked.get(p):
                skipped[p] = list(blocked[p])
            else:
                valid.append(p)
    valid = sorted(valid)
    eval_parts = valid[-eval:] if len(valid) >= eval else valid
    train_parts = valid[:-eval][-train:] if len(valid) > eval else []
    return WindowPlan(tuple(train_parts), tuple(eval_parts), dict(sorted(skipped.items())),
                      tuple(sorted(gated)), (train, eval))


def time_folds(partitions: Sequence[pd.Timestamp], folds: int, size: int
               ) -> list[tuple[list[pd.Timestamp], list[pd.Timestamp]]]:
    """Expanding-window splits over ``partitions`` (oldest first): each fold validates
    on ``size`` partitions and trains on every partition before them. The newest fold
    comes last. Folds with no training partition are dropped."""
    parts = sorted(partitions)
    out = []
    for k in range(folds, 0, -1):
        end = len(parts) - (k - 1) * size
        start = end - size
        if start < 1:
            continue
        out.append((parts[:start], parts[start:end]))
    return out
