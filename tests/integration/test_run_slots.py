"""A killed run's pool slot is freed by the next run; a live run's never is.

The killed runs are real: a child process runs a job whose asset holds the `duckdb_writer` slot
and waits; the test SIGKILLs it there, which leaves its claim in the run storage exactly as a
`make run` killed mid-load did. The scenes after that build runs and slot claims directly in a
Dagster home of their own, for the cases a kill cannot set up (a reused pid, another host).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid

import dagster as dg
import pytest
from dagster._core.storage.dagster_run import DagsterRun

from orchestration.lib import run_slots
from orchestration.lib.warehouse import WRITER_POOL
from tests.integration.slot_jobs import environment, start, wait_for


class Lines:
    """A `log` that keeps its lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, msg: str) -> None:
        self.lines.append(msg)

    warning = info


@pytest.fixture
def home(tmp_path, monkeypatch):
    """(work folder, child environment, instance) on a Dagster home of the test's own."""
    env = environment(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", env["DAGSTER_HOME"])
    with dg.DagsterInstance.get() as instance:
        yield tmp_path, env, instance


def _holders(instance: dg.DagsterInstance) -> set[str]:
    info = instance.event_log_storage.get_concurrency_info(WRITER_POOL)
    return {slot.run_id for slot in info.claimed_slots}


def _failure_messages(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    events = instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    return [event.dagster_event.message for event in events]


@pytest.mark.parametrize(
    "mode",
    [
        "make-run",  # as `make run` starts a run: tagged with its process; frees stale slots first
        "plain",  # as a UI run looks: no tags; only the warehouse resource frees stale slots
    ],
)
def test_a_run_killed_holding_the_slot_is_marked_failed_and_the_next_run_is_not_blocked(home, mode):
    work, env, instance = home
    (work / "hold").touch()
    killed, killed_id = start("hold", work, env, mode)
    after, after_id = start("hold", work, env, mode, gated=True)  # starts up meanwhile
    wait_for(work / "held", killed)
    killed.kill()  # SIGKILL: no handler runs, nothing is given back
    killed.wait()
    assert _holders(instance) == {killed_id}  # the fault as found: the claim outlives the process
    assert instance.get_run_by_id(killed_id).status == dg.DagsterRunStatus.STARTED

    (work / "hold").unlink()
    wait_for(work / f"ready.{after_id}", after)
    started = time.monotonic()
    (work / f"gate.{after_id}").unlink()
    assert after.wait(timeout=60) == 0
    took = time.monotonic() - started
    output = (work / f"{after_id}.log").read_text()

    assert "blocked by limit for pool" not in output
    assert took < 10, output
    assert f"Freed the 1 duckdb_writer slot of run {killed_id}: its process {killed.pid} on " in output
    assert instance.get_run_by_id(after_id).status == dg.DagsterRunStatus.SUCCESS
    assert instance.get_run_by_id(killed_id).status == dg.DagsterRunStatus.FAILURE
    (message,) = _failure_messages(instance, killed_id)
    assert message.startswith(
        f"Run worker gone: its process {killed.pid} on {socket.gethostname()} is no longer running "
        "(killed or crashed while the run was STARTED). Marked failed, and its 1 duckdb_writer slot freed"
    )
    assert _holders(instance) == set()


def test_a_live_run_keeps_its_slot(home):
    work, env, instance = home
    (work / "hold").touch()
    live, live_id = start("hold", work, env)
    try:
        wait_for(work / "held", live)
        log = Lines()
        assert run_slots.free_stale_slots(instance, log) == []
        assert log.lines == []
        assert _holders(instance) == {live_id}
        assert instance.get_run_by_id(live_id).status == dg.DagsterRunStatus.STARTED
        (work / "hold").unlink()
        assert live.wait(timeout=60) == 0
    finally:
        live.kill()
        live.wait()
    assert instance.get_run_by_id(live_id).status == dg.DagsterRunStatus.SUCCESS
    assert _holders(instance) == set() and _failure_messages(instance, live_id) == []


def _gone_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _pid(pid: int) -> dict[str, str]:
    return {run_slots.PID_TAG: str(pid)}


def _run(instance, status: dg.DagsterRunStatus, tags: dict[str, str] | None = None) -> str:
    run = DagsterRun(job_name="scene", run_id=str(uuid.uuid4()), status=status, tags=tags or {})
    instance.add_run(run)
    return run.run_id


def test_each_kind_of_run_holding_a_slot_is_judged_on_what_is_known_of_its_process(home):
    _, _, instance = home
    storage = instance.event_log_storage
    here = socket.gethostname()
    ours = run_slots.process_tags()
    runs = {
        "finished": _run(instance, dg.DagsterRunStatus.SUCCESS, ours),
        "live": _run(instance, dg.DagsterRunStatus.STARTED, ours),
        "reused pid": _run(instance, dg.DagsterRunStatus.STARTED, {**ours, run_slots.PID_START_TAG: "1"}),
        "gone": _run(instance, dg.DagsterRunStatus.STARTED, {**ours, **_pid(_gone_pid())}),
        "canceling, gone": _run(instance, dg.DagsterRunStatus.CANCELING, {**ours, **_pid(_gone_pid())}),
        "unrecorded": _run(instance, dg.DagsterRunStatus.STARTED),
        "elsewhere": _run(instance, dg.DagsterRunStatus.STARTED, {**ours, run_slots.HOST_TAG: "other-host"}),
    }
    # an untagged run whose executor logged its pid (every Dagster run does, a launched one too)
    logged = runs["logged, gone"] = _run(instance, dg.DagsterRunStatus.STARTED)
    instance.report_engine_event(
        f"Executing steps in process (pid: {_gone_pid()})", instance.get_run_by_id(logged)
    )
    storage.set_concurrency_slots(WRITER_POOL, 1)
    for name, run_id in runs.items():  # the first claims the slot, the others wait for it
        storage.claim_concurrency_slot(WRITER_POOL, run_id, f"{name} step")

    log = Lines()
    freed = {f.run_id: f.reason for f in run_slots.free_stale_slots(instance, log)}

    names = {run_id: name for name, run_id in runs.items()}
    assert {names[run_id] for run_id in freed} == {
        "finished",
        "reused pid",
        "gone",
        "canceling, gone",
        "logged, gone",
    }
    assert freed[runs["finished"]] == "the run had already finished (SUCCESS)"
    assert instance.get_run_by_id(runs["finished"]).status == dg.DagsterRunStatus.SUCCESS
    for name in ("reused pid", "gone", "logged, gone"):
        assert instance.get_run_by_id(runs[name]).status == dg.DagsterRunStatus.FAILURE, name
        assert freed[runs[name]].endswith("the run is marked failed")
    assert instance.get_run_by_id(runs["canceling, gone"]).status == dg.DagsterRunStatus.CANCELED
    for name in ("live", "unrecorded", "elsewhere"):
        assert instance.get_run_by_id(runs[name]).status == dg.DagsterRunStatus.STARTED, name
    info = storage.get_concurrency_info(WRITER_POOL)
    assert {p.run_id for p in info.pending_steps} == {runs["live"], runs["unrecorded"], runs["elsewhere"]}

    freed_lines = [line for line in log.lines if line.startswith("Freed")]
    assert len(freed_lines) == 5
    finished = runs["finished"]
    assert f"Freed the 1 duckdb_writer slot of run {finished}: the run had already finished (SUCCESS)." in (
        log.lines
    )
    assert any(
        line.startswith(f"Freed the 1 step waiting for duckdb_writer of run {runs['gone']}: its process ")
        for line in freed_lines
    )
    assert any(
        f"Run {runs['unrecorded']} (STARTED) holds the 1 step waiting for duckdb_writer; the process "
        "running it is not recorded, so they are left alone" in line
        for line in log.lines
    )
    assert any(
        line.startswith(f"Run {runs['elsewhere']} (STARTED)")
        and f"on other-host cannot be checked from {here}" in line
        for line in log.lines
    )
