"""The estimator contract every detector follows, in the manner of scikit-learn.

``__init__`` only stores its arguments; ``fit(history)`` learns and returns ``self``;
learned attributes end in ``_``; ``get_params()`` fully describes how a result was
produced, so it is stored next to the verdicts.
"""

from __future__ import annotations

import hashlib
import inspect
import json

from ..errors import ConfigError, WatchkeeperError

DETECTOR_VERSION = 1
"""The version of the detectors' judging: bump it with any change to a detector that can
move a verdict (a new feature, a changed band or default). Stored verdicts judged by an
older version are judged again (see :func:`detector_key`)."""


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


def detector_key(detector: BaseDetector) -> str:
    """What a verdict was judged by: :data:`DETECTOR_VERSION`, the detector's class and
    its parameters, as a short hash. A stored verdict stands only under the same key, so
    an upgrade of the detector, or other parameters, judges its partitions again."""
    kind = type(detector)
    what = {"version": DETECTOR_VERSION, "class": f"{kind.__module__}.{kind.__qualname__}",
            "params": detector.get_params()}
    text = json.dumps(what, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
