"""``wk schedule``: the pipelines' declared schedules, run in-process by APScheduler.

A schedule is a cron line (``"0 6 * * *"``, in the machine's local time zone) or an
interval (``"every 30m"``; units ``s m h d``). :func:`serve` starts an APScheduler
``BackgroundScheduler`` with one job per scheduled pipeline; each job calls
:func:`watchkeeper.run` and reports its result. A job never runs twice at once
(``max_instances=1``), and a run missed while another was running is merged into
one (``coalesce``). SIGINT or SIGTERM stops the scheduler cleanly: no new run
starts, and a run under way finishes first.
"""

from __future__ import annotations

import re
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..errors import ConfigError

_EVERY = re.compile(r"^every\s+([0-9]+)\s*(s|m|h|d)$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def check_schedule(text, where: str) -> None:
    """A one-line :class:`ConfigError` unless ``text`` is a cron line or ``every N unit``."""
    value = str(text).strip()
    every = _EVERY.match(value)
    if every:
        if int(every.group(1)) < 1:
            raise ConfigError(f"{where}: schedule {text!r} must be at least every 1s")
        return
    if len(value.split()) != 5:
        raise ConfigError(f"{where}: schedule {text!r} is neither a cron line of five fields "
                          "(e.g. '0 6 * * *') nor an interval (e.g. 'every 30m')")
    try:
        trigger(value)
    except ImportError:
        return  # checked again when wk schedule starts
    except ValueError as exc:
        raise ConfigError(f"{where}: schedule {text!r} is not a valid cron line ({exc})"
                          ) from None


def trigger(text: str):
    """The APScheduler trigger of a schedule."""
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    every = _EVERY.match(str(text).strip())
    if every:
        return IntervalTrigger(**{_UNITS[every.group(2)]: int(every.group(1))})
    return CronTrigger.from_crontab(str(text).strip())


@dataclass(frozen=True)
class Job:
    pipeline: str
    schedule: str
    next_run: str | None

    def to_dict(self) -> dict:
        return {"pipeline": self.pipeline, "schedule": self.schedule, "next_run": self.next_run}


def scheduled(project, names: Sequence[str] = ()) -> dict[str, str]:
    """``pipeline -> schedule`` of the project's scheduled pipelines (or of ``names``)."""
    from .spec import load_pipeline, load_pipelines

    if names:
        specs = {n: load_pipeline(project, n) for n in names}
        missing = [n for n, s in specs.items() if not s.schedule]
        if missing:
            raise ConfigError(f"pipeline {missing[0]!r} has no schedule: add schedule: "
                              "(a cron line or 'every 30m') to it")
    else:
        specs = load_pipelines(project)
    found = {n: s.schedule for n, s in specs.items() if s.schedule}
    if not found:
        raise ConfigError("no pipeline declares a schedule: add schedule: '0 6 * * *' (or "
                          "'every 30m') to one under pipelines:")
    return found


def _require_apscheduler() -> None:
    try:
        import apscheduler  # noqa: F401
    except ImportError:
        raise ConfigError("wk schedule needs APScheduler: pip install 'watchkeeper[pipelines]'"
                          ) from None


def plan(project, names: Sequence[str] = ()) -> list[Job]:
    """The jobs :func:`serve` would run, with their next fire time (ISO, local time)."""
    import datetime as dt

    _require_apscheduler()
    now = dt.datetime.now().astimezone()
    out = []
    for name, schedule in scheduled(project, names).items():
        fire = trigger(schedule).get_next_fire_time(None, now)
        out.append(Job(name, schedule, fire.isoformat() if fire else None))
    return out


def serve(project, names: Sequence[str] = (), *, on_start: Callable | None = None,
          on_result: Callable | None = None, on_error: Callable | None = None,
          stop: threading.Event | None = None, handle_signals: bool = True) -> str:
    """Run the schedules until SIGINT / SIGTERM (or ``stop`` is set); returns the name of
    the signal that stopped it (``"SIGINT"``, ``"SIGTERM"``) or ``"stopped"``.

    ``on_start(jobs)`` gets the :class:`Job` list once the scheduler runs and the
    signals are handled; ``on_result(RunResult)`` each finished run; ``on_error(name,
    exc)`` each run that raised (the scheduler carries on).
    """
    from apscheduler.schedulers.background import BackgroundScheduler

    from .run import run

    _require_apscheduler()
    jobs = scheduled(project, names)
    stop = stop or threading.Event()
    why = {"signal": "stopped"}

    def job(name: str) -> None:
        try:
            result = run(name, project)
        except Exception as exc:  # noqa: BLE001  (one failed run must not stop the others)
            if on_error is not None:
                on_error(name, exc)
            return
        if on_result is not None:
            on_result(result)

    scheduler = BackgroundScheduler(job_defaults={"max_instances": 1, "coalesce": True,
                                                  "misfire_grace_time": None})
    for name, schedule in jobs.items():
        scheduler.add_job(job, trigger(schedule), args=[name], id=name, name=name)
    previous = {}
    if handle_signals:
        def handler(signum, _frame) -> None:
            why["signal"] = signal.Signals(signum).name
            stop.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, handler)
    try:
        scheduler.start()
        if on_start is not None:
            on_start([Job(j.id, jobs[j.id], j.next_run_time.isoformat()
                          if j.next_run_time else None) for j in scheduler.get_jobs()])
        while not stop.wait(0.2):
            pass
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=True)
        for sig, old in previous.items():
            signal.signal(sig, old)
    return why["signal"]
