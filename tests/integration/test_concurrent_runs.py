"""Two runs started at once never write the warehouse at the same time, and both succeed.

Two processes each run a two-step job in the `duckdb_writer` pool against one DuckDB file
and one Dagster home, as two `make run`s in two terminals would (execute_in_process: Dagster's
run queue does not see these runs, so the pool alone keeps them apart). Each step records when
it started, before it opens its connection, and when it ended, after it closed it: if the pool
let two steps in together, their intervals would overlap.
"""

from __future__ import annotations

import itertools
import json

import duckdb

from tests.integration.slot_jobs import environment, start, wait_for


def test_two_runs_started_at_once_take_turns_in_the_pool_and_both_succeed(tmp_path):
    env = environment(tmp_path)
    children = [start("write", tmp_path, env, gated=True) for _ in range(2)]
    try:
        for child, run_id in children:
            wait_for(tmp_path / f"ready.{run_id}", child)
        for _, run_id in children:  # both let go at the same moment
            (tmp_path / f"gate.{run_id}").unlink()
        codes = [child.wait(timeout=60) for child, _ in children]
    finally:
        for child, _ in children:
            child.kill()
            child.wait()
    logs = {run_id: (tmp_path / f"{run_id}.log").read_text() for _, run_id in children}
    assert codes == [0, 0], logs

    steps = [json.loads(line) for line in (tmp_path / "intervals.jsonl").read_text().splitlines()]
    assert sorted((s["run_id"], s["step"]) for s in steps) == sorted(
        (run_id, step) for _, run_id in children for step in ("first", "second")
    )
    steps.sort(key=lambda s: s["start"])
    for before, after in itertools.pairwise(steps):
        assert before["end"] <= after["start"], f"{before} overlaps {after}"
    # They did contend: one run's step waited for the other's (not one run after the other).
    assert any("blocked by limit for pool duckdb_writer" in text for text in logs.values())
    with duckdb.connect(env["WAREHOUSE_PATH"], read_only=True) as conn:
        assert conn.execute("select count(*) from writes").fetchone() == (2 * 2 * 4,)
