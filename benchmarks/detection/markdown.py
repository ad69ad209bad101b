"""The "Detection" results of docs/benchmarks.md, as Markdown, from a run's JSON.

    .venv/bin/python benchmarks/detection/markdown.py benchmarks/.data/detection-<time>.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import DESIGN_ALL, KEYS, fmt  # noqa: E402

from watchkeeper.datasets import FAULTS, LOCKBOX_FAULTS  # noqa: E402

BASELINES = ("avh", "gate", "deequ_online_normal", "tfdv", "ks_chi2", "coverage_drop")


def render(report: dict) -> str:
    lines = []
    tables, groups = report["tables"], report["summary"]["groups"]
    methods = report["config"]["methods"]
    shown = [m for m in BASELINES if m in methods and m not in report["notes"]]
    head = ["table", "grain", "rows/part", "faulty", "precision", "recall", "F1", "FA/30",
            "top-3", "clean FA rate", *(f"F1 {m}" for m in shown)]
    for group, summary in groups.items():
        lines += [f"\n**{group}** (watchkeeper; last columns: the baselines' F1)\n",
                  "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        if group == DESIGN_ALL:
            lines[-3] = f"\n**{group}**: median and worst over both design groups\n"
        for name, t in tables.items():
            if t["group"] != group or "watchkeeper" not in t["pooled"]:
                continue
            m = t["pooled"]["watchkeeper"]["metrics"]
            lines.append("| " + " | ".join([
                name, t["grain"], f"{t['median_rows']:.0f}", str(m["faulty"]),
                *(fmt(m[k]) for k in KEYS), fmt(t["clean_run"]["watchkeeper"]["rate"], 3),
                *(fmt(t["pooled"][b]["metrics"]["f1"]) if b in t["pooled"] else "-"
                  for b in shown)]) + " |")
        for label in ("median", "worst"):
            s = summary.get("watchkeeper", {}).get(label)
            if s:
                lines.append("| " + " | ".join([
                    f"**{label}**", "", "", "", *(fmt(s[k]) for k in KEYS), "",
                    *(fmt(summary[b][label]["f1"]) if b in summary else "-" for b in shown)])
                    + " |")
    gap = report["summary"]["gap_lockbox_minus_design_real"]
    if gap:
        lines += ["\n**Lockbox gap** (median over lockbox tables minus median over design real "
                  "tables)\n", "| method | " + " | ".join(KEYS) + " |", "|" + "---|" * 6]
        for m, g in gap.items():
            lines.append(f"| {m} | " + " | ".join(
                "n/a" if g[k] is None else f"{g[k]:+.2f}" for k in KEYS) + " |")
    faults = report["by_fault"]
    cols = [(g, m) for g in faults for m in ("watchkeeper", "avh") if m in faults[g]]
    lines += ["\n**Recall by fault type** (detected/injected, pooled over tables and seeds)\n",
              "| fault | " + " | ".join(f"{m} {g}" for g, m in cols) + " |",
              "|" + "---|" * (len(cols) + 1)]
    for f in [*[f for f in FAULTS if f not in LOCKBOX_FAULTS], *LOCKBOX_FAULTS]:
        cells = []
        for g, m in cols:
            v = faults[g][m].get(f)
            cells.append(f"{v[0]}/{v[1]}" if v else "-")
        label = f"{f} (lockbox)" if f in LOCKBOX_FAULTS else f
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(json.loads(Path(sys.argv[1]).read_text())))
