"""The `duckdb` resource every warehouse asset and check asks for.

Dagster's `DuckDBResource` retries a locked warehouse ten times with backoff (about 100 s) and
says nothing while it waits. This one keeps its fields and `get_connection()` and connects
through `warehouse.connect`: a bounded wait, one line per attempt in the run's log naming the
process that holds the lock, then `WarehouseLocked`. As a run sets it up, it also frees the pool
slots of runs whose process is gone (`run_slots.free_stale_slots`), so a run launched from the UI
or a schedule is not blocked by a killed one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster._check import CheckError
from dagster_duckdb import DuckDBResource

from orchestration.lib import run_slots, warehouse


class WarehouseResource(DuckDBResource):
    """DuckDB connections to the warehouse (`database`), waiting a bounded, logged while for a lock."""

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        if context.instance is None or context.dagster_run is None or context.log is None:
            return
        try:
            run_slots.free_stale_slots(context.instance, context.log)
        except Exception as exc:  # housekeeping for other runs must never fail this one
            context.log.warning(f"Could not check the pools for slots held by dead runs: {exc!r}")

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        log = _RunLog(self)
        with warehouse.connect(Path(self.database), config=self.connection_config, log=log) as conn:
            yield conn


class _RunLog:
    """The log of the run the resource serves (this module's logger outside a run), looked up only
    when a wait has something to say."""

    def __init__(self, resource: WarehouseResource) -> None:
        self.resource = resource

    def warning(self, msg: str) -> None:
        try:
            log = self.resource.get_resource_context().log or warehouse.logger
        except CheckError:  # used outside a run (a script, a test)
            log = warehouse.logger
        log.warning(msg)
