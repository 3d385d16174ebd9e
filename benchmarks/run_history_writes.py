"""What one Dagster run event costs to store: Dagster's SQLite event log against ours
(orchestration/lib/run_history.py), on this machine's disk.

Stores `--events` asset materialisations (each also mirrored to the index shard, as Dagster does)
into a fresh Dagster home with each storage class, interleaved `--repeat` times, and prints the
median milliseconds per event. Not a test: the figures go in the README.

    .venv/bin/python benchmarks/run_history_writes.py --events 300 --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import dagster as dg
from dagster._core.events import DagsterEvent, DagsterEventType, StepMaterializationData
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from orchestration.lib.run_history import UnsyncedSqliteEventLogStorage


def _materialisation(run_id: str, index: int) -> EventLogEntry:
    event = DagsterEvent(
        event_type_value=DagsterEventType.ASSET_MATERIALIZATION.value,
        job_name="materialise_warehouse",
        event_specific_data=StepMaterializationData(
            dg.AssetMaterialization(asset_key=["raw", "hes_apc"], partition=f"p{index}")
        ),
    )
    return EventLogEntry(
        error_info=None,
        level="DEBUG",
        user_message="",
        run_id=run_id,
        timestamp=time.time(),
        dagster_event=event,
    )


def per_event_ms(storage_class: type[SqliteEventLogStorage], events: int) -> float:
    with tempfile.TemporaryDirectory(prefix="run-history-") as base:
        storage = storage_class(base_dir=str(Path(base) / "runs"))
        entries = [_materialisation("bench", i) for i in range(events)]
        started = time.perf_counter()
        for entry in entries:
            storage.store_event(entry)
        return (time.perf_counter() - started) / events * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    times: dict[str, list[float]] = {"dagster": [], "unsynced": []}
    for _ in range(args.repeat):
        times["dagster"].append(per_event_ms(SqliteEventLogStorage, args.events))
        times["unsynced"].append(per_event_ms(UnsyncedSqliteEventLogStorage, args.events))
    for name, values in times.items():
        print(f"{name:9s} {statistics.median(values):7.2f} ms per event (median of {args.repeat})")


if __name__ == "__main__":
    main()
