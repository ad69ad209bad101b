"""``wk triggers``: list triggers, fire a test event, read the trigger log, retry deliveries."""

from __future__ import annotations

import json
import math
import uuid
from enum import Enum
from typing import Annotated, Optional

import pandas as pd
import typer
from rich.table import Table
from rich.text import Text

from ..config import Project
from ..errors import ConfigError
from . import render

triggers_app = typer.Typer(no_args_is_help=True,
                           help="Triggers: list them, fire a test event, read their log.")


def register(app: typer.Typer) -> None:
    app.add_typer(triggers_app, name="triggers")


class Format(str, Enum):
    text = "text"
    json = "json"


FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="text for people, json for "
                                                                    "machines (JSON lines).")]


def _project() -> Project:
    project = Project.find()
    if project is None:
        raise ConfigError("no watchkeeper.yaml here or above: run wk init first")
    return project


def _say(text) -> None:
    """Print for people: no markup (names are user text), no wrapping (lines stay greppable)."""
    render.console.print(text, markup=False, soft_wrap=True)


def _plain(value):
    """JSON-safe scalars: timestamps as ISO text, NaN/NaT as null."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


@triggers_app.command("list")
def list_triggers(fmt: FormatOpt = Format.text) -> None:
    """List the triggers declared in watchkeeper.yaml."""
    from ..triggers import load_triggers

    triggers = load_triggers(_project())
    if fmt is Format.json:
        for t in triggers:
            typer.echo(json.dumps({"name": t.name, **t.to_spec()}, default=str))
        return
    table = Table("trigger", "event", "filters", "actions")
    for t in triggers:
        spec = t.condition.to_spec()
        filters = ", ".join(f"{k}={v}" for k, v in spec.items() if k != "event") or "-"
        table.add_row(*(Text(x) for x in (t.name, t.condition.event, filters,
                                          ", ".join(a.describe() for a in t.actions))))
    render.console.print(table if triggers else "No triggers in watchkeeper.yaml.")


@triggers_app.command("test")
def test_event(
    event_type: Annotated[str, typer.Argument(metavar="EVENT_TYPE",
                                              help="e.g. slo.failed, incident.opened.")],
    table: Annotated[Optional[str], typer.Option(help="Table of the event.")] = None,
    partition: Annotated[Optional[str], typer.Option(help="Partition, e.g. 2024-03-05.")] = None,
    severity: Annotated[str, typer.Option(help="ok, info, warning or critical.")] = "critical",
    column: Annotated[Optional[str], typer.Option(help="Column of the event.")] = None,
    model: Annotated[Optional[str], typer.Option(help="Model of the event.")] = None,
    incident_id: Annotated[Optional[str], typer.Option(help="Incident id.")] = None,
    tag: Annotated[Optional[list[str]], typer.Option(help="A tag (repeatable).")] = None,
    context: Annotated[Optional[list[str]], typer.Option(help="KEY=VALUE (repeatable).")] = None,
    test_id: Annotated[Optional[str], typer.Option(
        help="Reuse an id to re-fire the same test event (it is then not delivered twice).")
                       ] = None,
    fmt: FormatOpt = Format.text,
) -> None:
    """Fire a synthetic event at the project's triggers (handy to try a webhook)."""
    from ..triggers import Event, dispatcher

    extra = {}
    for item in context or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--context {item!r} is not KEY=VALUE: write e.g. --context "
                              "check=row_count")
        extra[key] = value
    test_id = test_id or uuid.uuid4().hex[:12]
    event = Event(event_type, table=table, partition=partition, severity=severity,
                  column=column, model=model, incident_id=incident_id, tags=tuple(tag or ()),
                  context={**extra, "synthetic": True, "test_id": test_id})
    result = dispatcher(_project()).fire(event)
    if fmt is Format.json:
        typer.echo(json.dumps({"event": event.to_dict(), "matched": list(result.matched),
                               "blocked": result.blocked, "reasons": list(result.reasons),
                               "results": [r.__dict__ for r in result.results]}, default=str))
        return
    _say(f"Fired {event.type} (event {event.id}, test id {test_id}); "
                         f"{len(result.matched)} trigger(s) matched.")
    for r in result.results:
        text = r.detail if r.status == "ok" else (r.error or r.status)
        _say(f"  {r.trigger} #{r.index + 1} {r.label}: {r.status} after "
                             f"{r.attempts} attempt(s): {text}")
    if result.blocked:
        _say("  blocked: " + "; ".join(result.reasons))


@triggers_app.command("log")
def log(
    limit: Annotated[int, typer.Option(min=1, help="How many recent firings.")] = 20,
    trigger: Annotated[Optional[str], typer.Option(help="Only this trigger.")] = None,
    fmt: FormatOpt = Format.text,
) -> None:
    """Show recent firings, their action results and every attempt (retries included)."""
    from ..store.trigger_log import TriggerLog

    log_ = TriggerLog(_project().store())
    firings = log_.firings(limit=limit, trigger=trigger)
    keys = list(firings["firing_key"])
    actions = log_.actions(keys) if keys else pd.DataFrame(columns=["firing_key"])
    attempts = log_.attempts(keys) if keys else pd.DataFrame(columns=["firing_key"])
    by_key = {k: g for k, g in actions.groupby("firing_key")} if keys else {}
    tries = {k: g for k, g in attempts.groupby(["firing_key", "action_index"])} if keys else {}
    if fmt is Format.json:
        for firing in _records(firings):
            acts = _records(by_key.get(firing["firing_key"], actions.iloc[:0]))
            for a in acts:
                a["attempt_log"] = _records(tries.get((firing["firing_key"], a["action_index"]),
                                                      attempts.iloc[:0]))
            typer.echo(json.dumps({**firing, "actions": acts}))
        return
    if firings.empty:
        _say("No firings yet. Try: wk triggers test slo.failed --table T")
        return
    for f in firings.itertuples(index=False):
        where = " ".join(str(x) for x in (f.table_name, f.partition_key) if _plain(x))
        _say(f"{f.trigger_name}: {f.event_type} {where} ({f.severity}), fired "
                             f"{_plain(f.fired_at)}, {f.fire_count} time(s)")
        for a in by_key.get(f.firing_key, actions.iloc[:0]).itertuples(index=False):
            text = _plain(a.detail) if a.status == "ok" else _plain(a.last_error)
            _say(f"  #{a.action_index + 1} {a.action_label}: {a.status}, "
                                 f"{a.attempts} attempt(s): {text or ''}")
            for t in tries.get((f.firing_key, a.action_index), attempts.iloc[:0]).itertuples(
                    index=False):
                outcome = "ok" if t.ok else _plain(t.error)
                _say(f"     attempt {t.attempt} at {_plain(t.attempted_at)}: "
                                     f"{outcome}")


@triggers_app.command("retry")
def retry(fmt: FormatOpt = Format.text) -> None:
    """Retry pending deliveries whose backoff has elapsed (run it from cron)."""
    from ..triggers import retry_pending

    results = retry_pending(_project())
    if fmt is Format.json:
        for r in results:
            typer.echo(json.dumps(r.__dict__, default=str))
        return
    _say(f"{len(results)} pending action(s) retried.")
    for r in results:
        _say(f"  {r.trigger} #{r.index + 1} {r.label}: {r.status} "
                             f"({r.attempts} attempts) {r.error or r.detail or ''}")
