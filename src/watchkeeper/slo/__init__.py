"""Data SLOs: checks declared as data, evaluated inside the engine, attainment over time."""

from .evaluate import RESULT_COLUMNS, ValidationResult, evaluate
from .kinds import KINDS, SLOSpecError
from .spec import DEFAULT_TARGET, SEVERITIES, Check, SLOSpec, TableSLO, load_spec

__all__ = ["Check", "DEFAULT_TARGET", "KINDS", "RESULT_COLUMNS", "SEVERITIES", "SLOSpec",
           "SLOSpecError", "TableSLO", "ValidationResult", "evaluate", "load_spec"]
