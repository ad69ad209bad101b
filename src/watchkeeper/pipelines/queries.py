"""Questions about registered models: which data trained this version, and what it did."""

from __future__ import annotations

import pandas as pd

from ..errors import ConfigError
from .spec import project_for
from . import lineage
from .registry import Registry
from .rollout import parse_ref, resolve_version


def model_lineage(ref: str, project=None, *, store=None,
                  registry: Registry | None = None) -> dict:
    """``MODEL[@VERSION|@ALIAS]`` (default: the champion, else the challenger): its run,
    its aliases, every partition it read (by table and role), and the incidents
    recorded on those partitions (open or closed)."""
    project = project_for(project, "run wk lineage in a project")
    store = store if store is not None else project.store()
    registry = registry if registry is not None else Registry(project)
    name, wanted = parse_ref(ref)
    if wanted is None:
        wanted = "champion" if registry.alias(name, "champion") else "challenger"
    version = resolve_version(registry, name, wanted)
    reads = lineage.reads(store, name, version)
    runs = lineage.runs(store, name)
    run = runs[runs["model_version"] == version]
    record = run.iloc[-1] if len(run) else None
    tables = []
    for table, group in reads.groupby("table_name", sort=True):
        touched = _incidents_on(project, store, table, group["partition_start"])
        tables.append({
            "table": table,
            "partitions": [{"partition": pd.Timestamp(r.partition_start).isoformat(),
                            "role": r.role, "rows": None if pd.isna(r.row_count)
                            else int(r.row_count),
                            "fingerprint": r.fingerprint, "snapshot_id": r.snapshot_id}
                           for r in group.itertuples(index=False)],
            "incidents": touched})
    aliases = sorted(a for a, v in registry.aliases(name).items() if v == version)
    return {"model": name, "version": version, "aliases": aliases,
            "run_id": None if record is None else record["run_id"],
            "mlflow_run_id": None if record is None else record["mlflow_run_id"],
            "params": {} if record is None else record["params"],
            "metrics": {} if record is None else record["metrics"],
            "selection": None if record is None else record["selection"].get("rule"),
            "skipped": {} if record is None else record["skipped"],
            "tables": tables}


def trace(batch_id: str, project=None, *, store=None, registry: Registry | None = None) -> dict:
    """A prediction batch: the model version that produced it (and the shadow beside it),
    the partitions it scored with their incidents, and that version's lineage."""
    project = project_for(project, "run wk trace in a project")
    store = store if store is not None else project.store()
    found = lineage.batch(store, batch_id)
    if found is None:
        raise ConfigError(f"no prediction batch {batch_id!r} in the store: check the id "
                          "(wk predict prints it)")
    inputs = [{"table": table, "partition": partition,
               "incidents": _incidents_on(project, store, table, [partition])}
              for table, partition in found["inputs"].items()]
    model = model_lineage(f"{found['pipeline']}@{found['model_version']}", project,
                          store=store, registry=registry)
    return {"batch_id": batch_id, "pipeline": found["pipeline"],
            "partition": found["partition_start"].isoformat(),
            "model_version": found["model_version"], "shadow_version": found["shadow_version"],
            "rows": int(found["rows_in"]), "served": int(found["rows_served"]),
            "table": found["table_name"], "inputs": inputs, "model": model}


def _incidents_on(project, store, table: str, partitions) -> list[dict]:
    """Incidents (open or closed, any severity) with a partition among ``partitions``."""
    from ..alerts import incidents

    parts = {pd.Timestamp(p) for p in partitions}
    return [{"id": i.id, "severity": i.severity.value, "status": i.status.value,
             "partitions": [pd.Timestamp(p).isoformat() for p in i.partitions]}
            for i in incidents(project, table=table, include_closed=True, min_severity="info",
                               store=store)
            if any(pd.Timestamp(p) in parts for p in i.partitions)]
