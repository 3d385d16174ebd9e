"""Small jobs in the `duckdb_writer` pool, each run in its own process by the pool tests.

    python -m tests.integration.slot_jobs hold  WORK RUN_ID MODE
    python -m tests.integration.slot_jobs write WORK RUN_ID MODE

DAGSTER_HOME and WAREHOUSE_PATH come from the environment. MODE is how the run starts:
- `make-run`: as `make run` does (orchestration/run_all.py): free stale slots, then
  execute_in_process with this process's tags;
- `plain`: execute_in_process with no tags and no explicit call, as a run the UI launches
  looks to this code: only the warehouse resource frees stale slots, and only Dagster's own
  "Executing steps in process (pid: N)" event says which process runs it.

Before it runs, each writes WORK/ready.<run id> and waits while WORK/gate.<run id> exists (at
most a minute), so a test can have a child start up (import Dagster) ahead of the moment it
lets it run, and start two runs at the same moment.

`hold`: one asset that takes the pool's slot, writes WORK/held, then waits while WORK/hold
exists (at most a minute) and writes a row. `write`: two assets in a chain, each writing rows
while it sleeps, each recording when it started and ended in WORK/intervals.jsonl.
"""

import json
import logging
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import dagster as dg

from orchestration.lib import run_slots
from orchestration.lib.warehouse import WRITER_POOL
from orchestration.lib.warehouse_resource import WarehouseResource

WORK = Path(".")  # the child's WORK folder (set by main)
STEP_SECONDS = 0.3


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


defs = dg.Definitions(
    assets=[held, first, second],
    jobs=[
        dg.define_asset_job("hold", selection=[held]),
        dg.define_asset_job("write", selection=[first, second]),
    ],
    resources={"duckdb": WarehouseResource(database=os.environ.get("WAREHOUSE_PATH", ":memory:"))},
)


# For the tests: a Dagster home of their own, and the child processes.

REPO_ROOT = Path(__file__).resolve().parents[2]


def environment(root: Path) -> dict[str, str]:
    """The environment of a child: a Dagster home under `root` with the project's dagster.yaml
    (its pools) and its storage created (as any earlier run would have: two processes creating a
    fresh SQLite storage at once race on its schema), and a warehouse of its own."""
    home = root / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    dg.DagsterInstance.from_config(str(home)).dispose()
    return {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "WAREHOUSE_PATH": str(root / "warehouse.duckdb"),
        "DAGSTER_DISABLE_TELEMETRY": "1",
        "PYTHONPATH": str(REPO_ROOT),
    }


def start(
    job_name: str, work: Path, env: dict[str, str], mode: str = "make-run", gated: bool = False
) -> tuple[subprocess.Popen, str]:
    """Run `job_name` in a child process; the child and its run id. Its output (Dagster's
    console log among it) goes to WORK/<run id>.log. `gated`: it waits, ready, until the test
    removes WORK/gate.<run id>."""
    run_id = str(uuid.uuid4())
    if gated:
        (work / f"gate.{run_id}").touch()
    log = (work / f"{run_id}.log").open("w")
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.slot_jobs", job_name, str(work), run_id, mode],
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    return child, run_id


def wait_for(path: Path, child: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert child.poll() is None, f"the child exited ({child.returncode}) before writing {path}"
        assert time.monotonic() < deadline, f"no {path} after {timeout} s"
        time.sleep(0.05)


def main(job_name: str, work: Path, run_id: str, mode: str) -> int:
    global WORK
    WORK = work
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s: %(message)s")
    logging.getLogger("run_slots").setLevel(logging.INFO)
    instance = dg.DagsterInstance.get()
    (WORK / f"ready.{run_id}").touch()
    deadline = time.monotonic() + 60
    while (WORK / f"gate.{run_id}").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    tags = {}
    if mode == "make-run":
        run_slots.free_stale_slots(instance, logging.getLogger("run_slots"))
        tags = run_slots.process_tags()
    result = defs.resolve_job_def(job_name).execute_in_process(
        instance=instance, run_id=run_id, tags=tags, raise_on_error=False
    )
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], Path(sys.argv[2]), sys.argv[3], sys.argv[4]))
