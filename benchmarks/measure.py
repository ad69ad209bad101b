"""Timing and memory helpers shared by the benchmarks.

Wall time is what users feel; CPU time (user + sys of every thread of this
process) is reported beside it because the benchmark machine is shared: when
other jobs take the cores, wall time grows but CPU time barely moves.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEERS_PYTHON = HERE / ".venv-peers" / "bin" / "python"


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float

    def as_dict(self) -> dict:
        return {"wall_s": round(self.wall, 3), "cpu_s": round(self.cpu, 3)}


def _cpu(who: int = resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def timed(fn, *, repeat: int = 1, setup=None):
    """Run ``fn`` ``repeat`` times; return the fastest run's timing and the last result.

    ``setup`` runs before each repeat, outside the clock.
    """
    best, result = None, None
    for _ in range(repeat):
        if setup is not None:
            setup()
        wall0, cpu0 = time.perf_counter(), _cpu()
        result = fn()
        t = Timing(time.perf_counter() - wall0, _cpu() - cpu0)
        best = t if best is None or t.wall < best.wall else best
    return best, result


def run_json(argv: list[str], *, timeout: float = 1800) -> dict:
    """Run a benchmark subprocess that prints one JSON object as its last stdout line."""
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"{Path(argv[1]).name} failed: " + " | ".join(tail))
    return json.loads(proc.stdout.strip().splitlines()[-1])


def peak_rss_bytes() -> int:
    """This process's peak resident set size, from ``VmHWM`` in /proc/self/status.

    Not ``getrusage().ru_maxrss``: Linux carries the parent's peak across
    fork + exec into it, so a child spawned by a large parent reports the parent.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def emit(obj: dict) -> None:
    """The last line a benchmark subprocess prints: its result as JSON."""
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()
