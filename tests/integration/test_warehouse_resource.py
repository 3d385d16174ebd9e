"""Inside a Dagster run, a locked warehouse is reported in the run's own log, and the step fails
with WarehouseLocked naming the holder, not after DuckDB's silent 100 s of retries."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.lib import warehouse
from orchestration.lib.warehouse import LOCK_WAIT_ENV, WRITER_POOL
from orchestration.lib.warehouse_resource import WarehouseResource
from tests.integration.slot_jobs import environment

HOLDER = (
    "import sys, time, duckdb; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); time.sleep(60)"
)


@dg.asset(pool=WRITER_POOL)
def through_the_resource(duckdb: WarehouseResource) -> None:
    with duckdb.get_connection() as conn:
        conn.execute("select 1")


@dg.asset(pool=WRITER_POOL)
def through_connect(duckdb: WarehouseResource) -> None:
    """As the load assets' checks do: `warehouse.connect` with no log, so its module's logger,
    which dagster.yaml hands to Dagster."""
    with warehouse.connect(Path(duckdb.database), read_only=True):
        pass


@pytest.fixture
def locked(tmp_path, monkeypatch):
    """(instance on the project's dagster.yaml, warehouse path, holder's pid)."""
    env = environment(tmp_path)
    target = env["WAREHOUSE_PATH"]
    duckdb.connect(target).close()
    monkeypatch.setenv("WAREHOUSE_PATH", target)
    monkeypatch.setenv(LOCK_WAIT_ENV, "0.8")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, target], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
            yield instance, target, holder.pid
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("asset", [through_the_resource, through_connect], ids=lambda a: a.key.path[-1])
def test_a_locked_warehouse_is_named_in_the_run_log_and_fails_the_step(locked, asset):
    instance, target, pid = locked
    resources = {"duckdb": WarehouseResource(database=target)}
    result = dg.materialize([asset], instance=instance, resources=resources, raise_on_error=False)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    error = failure.event_specific_data.error.cause  # Dagster wraps what the asset raised
    assert error.cls_name == "WarehouseLocked"
    assert f"WarehouseLocked: The warehouse {target} is locked by another process" in error.message
    assert f"PID {pid} (" in error.message
    lines = [
        entry.user_message
        for entry in instance.all_logs(result.run_id)
        if entry.dagster_event is None and "is locked by" in entry.user_message
    ]
    assert len(lines) >= 2 and all(f"locked by PID {pid} (" in line for line in lines)
