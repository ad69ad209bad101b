"""Rich rendering for people. Machines get ``--format json`` instead."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

if TYPE_CHECKING:
    import pandas as pd

console = Console(highlight=False)
err = Console(stderr=True, highlight=False)

_SPARK = "▁▂▃▄▅▆▇█"


@contextlib.contextmanager
def progress(enabled: bool = True) -> Iterator:
    """A progress callback ``(step, done, total)`` drawn on stderr while work runs."""
    if not enabled or not err.is_terminal:
        # Off a terminal a transient bar still leaves a blank line on stderr, which
        # would break "one line per error" for scripts reading it.
        yield None
        return
    bar = Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                   console=err, transient=True)
    tasks: dict[str, int] = {}

    def report(step: str, done: int, total: int) -> None:
        if step not in tasks:
            tasks[step] = bar.add_task(step, total=total)
        bar.update(tasks[step], completed=done, total=total)

    with bar:
        yield report


def fmt_value(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    value = float(value)
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 1e5 or abs(value) < 1e-3:
        return f"{value:.3g}"
    return f"{value:,.4g}"


def sparkline(values: list[float]) -> str:
    clean = [v for v in values if v is not None and not math.isnan(v)]
    if not clean:
        return ""
    low, high = min(clean), max(clean)
    span = (high - low) or 1.0
    return "".join(" " if v is None or math.isnan(v) else
                   _SPARK[min(7, int((v - low) / span * 7.999))] for v in values)


def tables(specs) -> None:
    if not specs:
        console.print("No tables yet: wk table add NAME --source PATH --partition-column COL")
        return
    out = Table("name", "source", "partition column", "granularity")
    for t in specs:
        out.add_row(t.name, t.source, t.partition_column, t.granularity)
    console.print(out)


_KEY_STATS = ["null_fraction", "mean", "p50", "p95", "distinct_count", "top_ratio",
              "true_fraction", "lag_seconds"]


def profile_result(result, elapsed: float) -> None:
    n_all, n_new = len(result.partitions), len(result.refreshed)
    console.print(
        f"Profiled [bold]{result.table}[/]: {n_all} partitions, {n_new} computed, "
        f"{result.skipped} unchanged ({elapsed:.2f} s)."
    )
    if not n_new:
        return
    latest = max(result.refreshed)
    stats = result.statistics[result.statistics["partition"] == latest]
    rows = stats.loc[(stats["column"] == "*") & (stats["statistic"] == "row_count"), "value"]
    stats = stats[stats["column"] != "*"]
    wide = stats.pivot_table(index="column", columns="statistic", values="value",
                             aggfunc="first", sort=False, dropna=False)
    shown = [s for s in _KEY_STATS if s in wide.columns]
    n_rows = fmt_value(rows.iloc[0]) if len(rows) else "?"
    out = Table(title=f"newest computed partition: {result.granularity.format(latest)} "
                      f"({n_rows} rows)",
                title_justify="left")
    out.add_column("column")
    for s in shown:
        out.add_column(s, justify="right")
    for column, row in wide.iterrows():
        out.add_row(str(column), *(fmt_value(row.get(s)) for s in shown))
    console.print(out)


def column_summary(name: str, column: str, stats: pd.DataFrame, top: pd.DataFrame,
                   granularity: str, last: int) -> None:
    import pandas as pd

    from ..engine import Granularity

    fmt = Granularity.parse(granularity).format
    wide = stats.pivot_table(index="partition", columns="statistic", values="value",
                             aggfunc="first", dropna=False).sort_index()
    console.print(f"[bold]{name}[/] · column [bold]{column}[/] · {len(wide)} partitions "
                  f"({fmt(wide.index[0])} → {fmt(wide.index[-1])})")
    over_time = Table("statistic", "history", "min", "max", "latest")
    for stat in wide.columns:
        series = [None if pd.isna(v) else float(v) for v in wide[stat]]
        tail = series[-60:]
        clean = [v for v in series if v is not None]
        out_min = fmt_value(min(clean)) if clean else "–"
        out_max = fmt_value(max(clean)) if clean else "–"
        over_time.add_row(stat, sparkline(tail), out_min, out_max, fmt_value(series[-1]))
    console.print(over_time)
    recent = wide.tail(last)
    shown = [s for s in (["row_count"] + _KEY_STATS) if s in recent.columns][:7]
    table = Table("partition", *shown, title=f"last {len(recent)} partitions", title_justify="left")
    for partition, row in recent.iterrows():
        table.add_row(fmt(partition), *(fmt_value(row[s]) for s in shown))
    console.print(table)
    if not top.empty:
        newest = top[top["partition"] == top["partition"].max()]
        values = ", ".join(f"{v!r} {r:.0%}" for v, r in zip(newest["value"], newest["ratio"]))
        console.print(f"top values in the newest partition: {values}")
