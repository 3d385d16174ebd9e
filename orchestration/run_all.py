"""`make run`: materialise every asset for every month present in the landing folder.

One Dagster run (in-process, recorded in DAGSTER_HOME so it shows in the UI) covers the whole
partition range: each monthly load asset loads its months one transaction at a time, and dbt
builds the incremental models once for the whole window. The console shows one line per
finished step (orchestration/lib/progress.py); the full Dagster and dbt log goes to
`<warehouse folder>/logs/`. It ends with a summary of what was built and how to open the UI.
"""

from __future__ import annotations

import sys
import time
import warnings
from datetime import UTC, date, datetime

import dagster as dg
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from orchestration.lib import landing, run_slots, settings
from orchestration.lib.progress import capture_output, progress_logger
from orchestration.lib.run_summary import print_summary


def partition_range(feeds) -> tuple[date, date]:
    """First and last month with a file for any monthly feed."""
    months = sorted(
        {m for spec in feeds if spec.cadence == "monthly" for m in landing.available_periods(spec)}
    )
    if not months:
        raise SystemExit(f"No monthly feed files under {settings.landing_dir()}: run `make sample` first.")
    return months[0], months[-1]


def main() -> int:
    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    settings.export_environment()
    log_path = settings.warehouse_path().parent / "logs" / f"run-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.log"
    print(f"Warehouse: {settings.warehouse_path()}\nLanding:   {settings.landing_dir()}")
    print(f"Full log:  {log_path}", flush=True)
    started = time.perf_counter()
    with capture_output(log_path) as terminal:
        from dagster._loggers import colored_console_logger

        from orchestration.definitions import ALL_FEEDS, defs

        first, last = partition_range(ALL_FEEDS)
        terminal.write(f"Materialising every asset for {first:%Y-%m} … {last:%Y-%m} in one run …\n")
        terminal.flush()
        instance = dg.DagsterInstance.get()
        # A run killed mid-step keeps its pool slot: free it (and say so) before this run waits on it.
        run_slots.free_stale_slots(instance, run_slots.StreamLog(terminal, sys.stdout))
        job = defs.resolve_job_def("materialise_warehouse").with_logger_defs(
            {"console": colored_console_logger, "progress": progress_logger(terminal)}
        )
        result = job.execute_in_process(
            # Dagster starts only the loggers the run config names.
            run_config={"loggers": {"console": {"config": {"log_level": "DEBUG"}}, "progress": {}}},
            instance=instance,
            tags={
                ASSET_PARTITION_RANGE_START_TAG: first.isoformat(),
                ASSET_PARTITION_RANGE_END_TAG: last.isoformat(),
                **run_slots.process_tags(),  # which process runs it, for free_stale_slots
            },
            raise_on_error=False,
        )
    elapsed = time.perf_counter() - started
    print_summary(result, elapsed, first, last)
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
