"""The estimator contract every detector follows, in the manner of scikit-learn.

``__init__`` only stores its arguments; ``fit(history)`` learns and returns ``self``;
learned attributes end in ``_``; ``get_params()`` fully describes how a result was
produced, so it is stored next to the verdicts.
"""

from __future__ import annotations

import inspect

from ..errors import ConfigError, WatchkeeperError


class NotFittedError(WatchkeeperError):
    """A detector was asked to score before ``fit`` (a bug in the caller, not a user error)."""


class BaseDetector:
    """Parameters introspected from ``__init__``; no mixins, no tags."""

    @classmethod
    def _param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return sorted(p.name for p in signature.parameters.values()
                      if p.name != "self" and p.kind != p.VAR_KEYWORD)

    def get_params(self, deep: bool = True) -> dict:
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params) -> "BaseDetector":
        valid = set(self._param_names())
        for name, value in params.items():
            if name not in valid:
                raise ConfigError(f"{type(self).__name__} has no parameter {name!r}: "
                                  f"use one of {', '.join(sorted(valid))}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def _check_fitted(self) -> None:
        if not any(k.endswith("_") and not k.startswith("_") for k in vars(self)):
            raise NotFittedError(f"{type(self).__name__} is not fitted: call fit(history) first")


def clone(detector: BaseDetector) -> BaseDetector:
    """A new, unfitted detector with the same parameters."""
    return type(detector)(**detector.get_params())
