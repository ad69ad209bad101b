"""Per-partition profiles by other tools, timed on the same Parquet file.

Run as a subprocess, each in the interpreter that has the tool:

    benchmarks/.venv-peers/bin/python benchmarks/peers.py whylogs FILE event_time
    benchmarks/.venv-peers/bin/python benchmarks/peers.py evidently FILE event_time
    .venv/bin/python benchmarks/peers.py pandas FILE event_time

Every tool gets the same work as watchkeeper: read the file, split it into
daily partitions, summarize each. Timing starts after the imports (watchkeeper
is timed in a process that has already imported it, too) and covers the
Parquet read. The last stdout line is JSON: seconds, partitions, rows, peak RSS.
"""

from __future__ import annotations

import resource
import sys
import time
import warnings

from measure import emit, peak_rss_bytes


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def partitions(path: str, partition_column: str):
    import pandas as pd

    frame = pd.read_parquet(path)
    days = frame[partition_column].dt.floor("D")
    return [g for _, g in frame.groupby(days, sort=True)]


def pandas_describe(parts) -> int:
    """``describe()`` + ``isna().mean()`` per partition: fewer statistics than watchkeeper."""
    for part in parts:
        part.describe()
        part.isna().mean()
    return len(parts)


QUANTILES = [0.01, 0.05, 0.25, 0.50, 0.75, 0.95, 0.99]


def pandas_same_statistics(parts) -> int:
    """watchkeeper's statistics, per partition, the way a pandas user would write them.

    Not a target: it shows what ``describe()`` leaves out costs in pandas (quantiles,
    zero/negative/NaN/±inf/integral counts, distinct counts, top 10 values, string
    lengths and empty values, true fractions, timestamp ranges, duplicate rows: 0
    when a string or integer column is unique, as watchkeeper decides it).
    """
    import numpy as np
    import pandas as pd

    for part in parts:
        part.isna().mean()
        numbers = part.select_dtypes("number")
        floats = part.select_dtypes("floating")
        finite = numbers.where(np.isfinite(numbers))
        finite.describe(percentiles=QUANTILES)
        (numbers == 0).mean(), (numbers < 0).mean(), numbers.nunique()
        np.isnan(floats).sum(), (floats == np.inf).sum(), (floats == -np.inf).sum()
        (floats == np.trunc(floats)).mean()
        strings = [c for c in part.columns if pd.api.types.is_string_dtype(part[c])]
        for name in strings:
            values = part[name]
            values.value_counts().head(10), values.nunique(), (values == "").mean()
            lengths = values.str.len()
            lengths.min(), lengths.max(), lengths.mean()
        part.select_dtypes("bool").mean()
        part.select_dtypes("datetime").agg(["min", "max"])
        keys = strings + list(part.select_dtypes("integer").columns)
        if not any(part[name].is_unique for name in keys):
            part.duplicated().mean()
    return len(parts)


def whylogs_profile(parts) -> int:
    import whylogs as why

    for part in parts:
        why.log(pandas=part).view().to_pandas()
    return len(parts)


def evidently_summary(parts) -> int:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataSummaryPreset

    for part in parts:
        # Evidently 0.7 rejects numpy int8 labels when it infers a small-int column
        # as categorical; widening the type is the documented user workaround.
        part = part.astype({c: "int64" for c, t in part.dtypes.items() if str(t) == "int8"})
        data = Dataset.from_pandas(part, data_definition=DataDefinition())
        Report([DataSummaryPreset()]).run(current_data=data).dict()
    return len(parts)


TOOLS = {"pandas": pandas_describe, "pandas-same": pandas_same_statistics,
         "whylogs": whylogs_profile, "evidently": evidently_summary}


def main() -> None:
    tool, path, partition_column = sys.argv[1:4]
    warnings.simplefilter("ignore")
    run = TOOLS[tool]
    if tool == "whylogs":
        import whylogs  # noqa: F401  (imported before the clock starts)
    elif tool == "evidently":
        import evidently.presets  # noqa: F401
    wall0, cpu0 = time.perf_counter(), _cpu()
    parts = partitions(path, partition_column)
    n = run(parts)
    emit({"tool": tool, "wall_s": round(time.perf_counter() - wall0, 3),
          "cpu_s": round(_cpu() - cpu0, 3), "partitions": n,
          "rows": int(sum(len(p) for p in parts)), "peak_rss": peak_rss_bytes()})


if __name__ == "__main__":
    main()
