"""Small jobs in the `duckdb_writer` pool, each run in its own process by the pool tests.

    python -m tests.integration.slot_jobs hold  WORK RUN_ID MODE
    python -m tests.integration.slot_jobs write WORK RUN_ID MODE

DAGSTER_HOME and WAREHOUSE_PATH come from the environment. MODE is how the run starts:
- `make-run`: as `make run` does (orchestration/run_all.py): free stale slots, then
  execute_in_process with this process's tags;
- `plain`: execute_in_process with no tags and no explicit call, as a run the UI launches
  looks to this code: only the warehouse resource frees stale slots, and only Dagster's own
  "Executing steps in process (pid: N)" event says which process runs it.

`hold`: one asset that takes the pool's slot, writes WORK/held, then waits while WORK/hold
exists (at most a minute) and writes a row. `write`: three assets in a chain, each writing rows
while it sleeps, each recording when it started and ended in WORK/intervals.jsonl.
"""

import json
import logging
import os
import sys
import time
from pathlib import Path

import dagster as dg

from orchestration.lib import run_slots
from orchestration.lib.warehouse import WRITER_POOL
from orchestration.lib.warehouse_resource import WarehouseResource

WORK = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(".")
STEP_SECONDS = 0.4


@dg.asset(pool=WRITER_POOL)
def held(duckdb: WarehouseResource) -> None:
    (WORK / "held").write_text(str(os.getpid()))
    deadline = time.monotonic() + 60
    while (WORK / "hold").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    with duckdb.get_connection() as conn:
        conn.execute("create table if not exists held (pid integer)")
        conn.execute("insert into held values (?)", [os.getpid()])


def _write(context: dg.AssetExecutionContext, duckdb: WarehouseResource) -> None:
    started = time.time()
    with duckdb.get_connection() as conn:
        conn.execute("create table if not exists writes (run_id varchar, step varchar, i integer)")
        for i in range(4):
            conn.execute("insert into writes values (?, ?, ?)", [context.run_id, context.op.name, i])
            time.sleep(STEP_SECONDS / 4)
    ended = time.time()
    with (WORK / "intervals.jsonl").open("a") as out:
        line = {"run_id": context.run_id, "step": context.op.name, "start": started, "end": ended}
        out.write(json.dumps(line) + "\n")


@dg.asset(pool=WRITER_POOL)
def first(context: dg.AssetExecutionContext, duckdb: WarehouseResource) -> None:
    _write(context, duckdb)


@dg.asset(pool=WRITER_POOL, deps=[first])
def second(context: dg.AssetExecutionContext, duckdb: WarehouseResource) -> None:
    _write(context, duckdb)


@dg.asset(pool=WRITER_POOL, deps=[second])
def third(context: dg.AssetExecutionContext, duckdb: WarehouseResource) -> None:
    _write(context, duckdb)


defs = dg.Definitions(
    assets=[held, first, second, third],
    jobs=[
        dg.define_asset_job("hold", selection=[held]),
        dg.define_asset_job("write", selection=[first, second, third]),
    ],
    resources={"duckdb": WarehouseResource(database=os.environ.get("WAREHOUSE_PATH", ":memory:"))},
)


def main(job_name: str, run_id: str, mode: str) -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s: %(message)s")
    logging.getLogger("run_slots").setLevel(logging.INFO)
    instance = dg.DagsterInstance.get()
    tags = {}
    if mode == "make-run":
        run_slots.free_stale_slots(instance, logging.getLogger("run_slots"))
        tags = run_slots.process_tags()
    result = defs.resolve_job_def(job_name).execute_in_process(
        instance=instance, run_id=run_id, tags=tags, raise_on_error=False
    )
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[3], sys.argv[4]))
