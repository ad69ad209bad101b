"""The engine layer: the only code that knows Ibis backends and SQL dialects."""

from .relation import QueryFailed, Relation
from .sources import SourceSpec, open_source, parse_source, spark_session
from .types import ColumnInfo, Granularity, Kind

__all__ = ["ColumnInfo", "Granularity", "Kind", "QueryFailed", "Relation", "SourceSpec",
           "open_source", "parse_source", "spark_session"]
