"""``/api/tables``: profiled tables, their partitions, columns and one column's summaries.

Table and column names travel as query parameters, not path segments: they are
user text and may hold ``/`` (a table named after its file path) or anything else.
"""

from __future__ import annotations

from typing import Annotated, Any, Optional

from fastapi import APIRouter, Depends, Query, Request

from .. import records
from ..series import series
from ..security import require_read
from .pagination import ERRORS, LimitParam, OffsetParam, Page, page

router = APIRouter(prefix="/api", tags=["tables"], dependencies=[Depends(require_read)],
                   responses=ERRORS)
TableParam = Annotated[str, Query(min_length=1, description="A profiled table's name.")]
ColumnParam = Annotated[str, Query(min_length=1, description="A column; * for table level.")]


@router.get("/tables", response_model=Page)
def list_tables(request: Request, limit: LimitParam = 100, offset: OffsetParam = 0) -> Page:
    """Profiled tables, by name (the ``wk table list --format json`` shape)."""
    store = request.app.state.workspace.store
    return page([records.table(t) for t in store.tables()], limit, offset)


@router.get("/partitions", response_model=Page)
def list_partitions(request: Request, table: TableParam, limit: LimitParam = 100,
                    offset: OffsetParam = 0) -> Page:
    """A table's stored partitions with their row counts, oldest first."""
    store = request.app.state.workspace.store
    store._require(table)
    return page(records.partitions(store, table), limit, offset)


@router.get("/columns", response_model=Page)
def list_columns(request: Request, table: TableParam, limit: LimitParam = 100,
                 offset: OffsetParam = 0) -> Page:
    """A table's columns in its newest schema: ``column``, ``kind``, ``dtype``."""
    store = request.app.state.workspace.store
    store._require(table)
    return page(records.frame_records(store.columns(table)), limit, offset)


@router.get("/summaries", response_model=Page)
def list_summaries(request: Request, table: TableParam, column: ColumnParam,
                   statistic: Annotated[Optional[str], Query(
                       description="Only this statistic, e.g. mean.")] = None,
                   limit: LimitParam = 1000, offset: OffsetParam = 0) -> Page:
    """One column's statistics over time (the ``wk summary --format json`` shape)."""
    store = request.app.state.workspace.store
    return page(records.summaries(store, table, column, statistic), limit, offset)


@router.get("/top_values", response_model=Page)
def list_top_values(request: Request, table: TableParam, column: ColumnParam,
                    limit: LimitParam = 1000, offset: OffsetParam = 0) -> Page:
    """A column's most frequent values per partition with their share of rows, oldest
    partition first (strings and small integers)."""
    store = request.app.state.workspace.store
    store._require(table)
    return page(records.top_values(store, table, column), limit, offset)


@router.get("/series")
def get_series(request: Request, table: TableParam, column: ColumnParam,
               statistic: Annotated[str, Query(min_length=1)]) -> dict[str, Any]:
    """One chart: the statistic per partition, the detector's bands where it judged the
    series anomalous, the SLO limits on it, and the incidents that touch it."""
    workspace = request.app.state.workspace
    return series(workspace.store, workspace.slo_spec(), table, column, statistic)
