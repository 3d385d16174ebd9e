"""Free the pool slots of runs that can no longer release them.

Every step that touches the warehouse claims the `duckdb_writer` pool's one slot (dagster.yaml)
in the Dagster run storage, and gives it back when the step ends. A run worker killed mid-step
(SIGKILL, the OOM killer) gives nothing back: its run stays STARTED and its claim stays in the
storage, so every later run waits "blocked by limit for pool duckdb_writer" for ever. Dagster's
run monitoring (dagster.yaml; the daemon of `make ui` runs it) does not free it: with the
DefaultRunLauncher (runs launched from the UI, schedules and sensors) it cannot tell whether a
run worker is alive, `make run` executes in process where nothing watches it at all, and
`free_slots_after_run_end_seconds` frees only runs that have already *finished*.

So each run records the process that runs it, and `free_stale_slots` (called before `make run`
starts its run, and by the warehouse resource as any run starts) frees the slots of every run
that has finished, or is in progress but whose process on this host is gone, marking the latter
failed with the reason. A run whose process is alive, runs on another host or is unknown keeps
its slots.

Which process runs a run: Dagster's executors log it before they run a step ("Executing steps
in process (pid: N)", or "... multiprocess executor: parent process (pid: N)"), and a run worker
launched by the DefaultRunLauncher logs "Started process for run (pid: N)"; the process must
have started before the event was logged, so a pid the kernel has since given to another process
is not taken for the run's. `make run` also tags its run with `process_tags()`: host, pid, and
the process's start time from /proc/<pid>/stat, which identifies the process exactly.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TextIO

import dagster as dg

HOST_TAG = "cw/run_host"
PID_TAG = "cw/run_pid"
PID_START_TAG = "cw/run_pid_start"  # /proc/<pid>/stat field 22: clock ticks after boot

_FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}
_RUN_PROCESS_EVENT = re.compile(
    r"^(?:Started process for run|Executing steps in process|Executing steps using multiprocess "
    r"executor: parent process) \(pid: (\d+)\)"
)
# /proc gives a process's start in clock ticks after boot, and the boot time in whole seconds.
_START_TOLERANCE_SECONDS = 2.0


class _Log(Protocol):
    def info(self, msg: str) -> object: ...
    def warning(self, msg: str) -> object: ...


class StreamLog:
    """A `log` writing each line to every stream given (`make run`'s console and its log file)."""

    def __init__(self, *streams: TextIO) -> None:
        self.streams = streams

    def info(self, msg: str) -> None:
        for stream in self.streams:
            stream.write(msg + "\n")
            stream.flush()

    warning = info


@dataclass(frozen=True)
class RunProcess:
    """The process recorded as running a run."""

    host: str
    pid: int
    start_ticks: str | None = None  # from our tags: must equal the live process's
    logged_at: float | None = None  # from the run worker's event: the process started before it

    def describe(self) -> str:
        return f"process {self.pid} on {self.host}"


@dataclass(frozen=True)
class FreedRun:
    run_id: str
    slots: dict[str, list[int]]  # pool → [slots held, steps waiting for one]
    reason: str


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat from field 3 (state) on; None if there is no such process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return text[text.rindex(")") + 2 :].split()  # comm (field 2) may hold spaces and brackets


def process_start_ticks(pid: int) -> str | None:
    """When `pid` started (clock ticks after boot), or None if it is gone or a zombie."""
    fields = _stat_fields(pid)
    if fields is None or fields[0] in ("Z", "X"):
        return None
    return fields[19]


def _process_start_epoch(ticks: str) -> float:
    stat = Path("/proc/stat").read_text().splitlines()
    boot = next(int(line.split()[1]) for line in stat if line.startswith("btime"))
    return boot + int(ticks) / os.sysconf("SC_CLK_TCK")


def process_tags(pid: int | None = None) -> dict[str, str]:
    """Run tags naming this process (or `pid`) as the one that runs the run."""
    pid = os.getpid() if pid is None else pid
    tags = {HOST_TAG: socket.gethostname(), PID_TAG: str(pid)}
    ticks = process_start_ticks(pid)
    if ticks is not None:
        tags[PID_START_TAG] = ticks
    return tags


def recorded_process(instance: dg.DagsterInstance, run: dg.DagsterRun) -> RunProcess | None:
    """The process recorded as running `run`: its tags, else the last engine event in which a run
    worker or an executor named its pid."""
    tags = run.tags
    if PID_TAG in tags and HOST_TAG in tags:
        return RunProcess(tags[HOST_TAG], int(tags[PID_TAG]), start_ticks=tags.get(PID_START_TAG))
    latest = None
    for entry in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        event = entry.dagster_event
        found = _RUN_PROCESS_EVENT.match((event.message or "") if event else "")
        if found:
            latest = (int(found[1]), entry.timestamp)
    if latest is None:
        return None
    # Events carry no host: the DefaultRunLauncher starts run workers beside the code server,
    # and this project's run storage is a SQLite file on this host, so that is this host.
    return RunProcess(socket.gethostname(), latest[0], logged_at=latest[1])


def is_alive(process: RunProcess) -> bool | None:
    """Whether the recorded process still runs; None when it runs on another host (unknowable)."""
    if process.host != socket.gethostname():
        return None
    ticks = process_start_ticks(process.pid)
    if ticks is None:
        return False
    if process.start_ticks is not None:
        return ticks == process.start_ticks
    if process.logged_at is not None:
        return _process_start_epoch(ticks) <= process.logged_at + _START_TOLERANCE_SECONDS
    return True


def _slots_by_run(instance: dg.DagsterInstance) -> dict[str, dict[str, list[int]]]:
    """run id → pool → [slots it holds, steps of it waiting for a slot]."""
    storage = instance.event_log_storage
    found: dict[str, dict[str, list[int]]] = {}
    keys = sorted(storage.get_concurrency_keys())
    for key, info in storage.get_concurrency_infos(keys).items():
        for slot in info.claimed_slots:
            found.setdefault(slot.run_id, {}).setdefault(key, [0, 0])[0] += 1
        for step in info.pending_steps:
            if step.assigned_timestamp is None:  # an assigned step's slot is among the claimed
                found.setdefault(step.run_id, {}).setdefault(key, [0, 0])[1] += 1
    return found


def _describe_slots(slots: Mapping[str, list[int]]) -> str:
    parts = []
    for pool, (held, waiting) in sorted(slots.items()):
        if held:
            parts.append(f"{held} {pool} slot{'s' if held > 1 else ''}")
        if waiting:
            parts.append(f"{waiting} step{'s' if waiting > 1 else ''} waiting for {pool}")
    return " and ".join(parts)


def _release_reason(instance: dg.DagsterInstance, run_id: str, what: str, log: _Log) -> str | None:
    """Why the run's slots may be freed, having marked it failed if its process is gone; None
    (with a warning when its process cannot be checked) if it keeps them."""
    record = instance.get_run_record_by_id(run_id)
    if record is None:
        return "the run is not in the run storage (deleted)"
    run = record.dagster_run
    status = run.status.value
    if run.status in _FINISHED:
        return f"the run had already finished ({status})"
    process = recorded_process(instance, run)
    alive = is_alive(process) if process else None
    if alive is None:
        whose = (
            f"its {process.describe()} cannot be checked from {socket.gethostname()}"
            if process
            else "the process running it is not recorded"
        )
        log.warning(
            f"Run {run_id} ({status}) holds the {what}; {whose}, so they are left alone. If the run "
            "is not running, mark it failed or free its slots in the Dagster UI (Deployment → Concurrency)."
        )
    if alive is not False:
        return None
    assert process is not None
    canceling = run.status == dg.DagsterRunStatus.CANCELING
    outcome = "canceled" if canceling else "failed"
    gone = f"its {process.describe()} is no longer running (killed or crashed while the run was {status})"
    message = (
        f"Run worker gone: {gone}. Marked {outcome}, and its {what} freed, by the next run to start "
        "(orchestration/lib/run_slots.py), so later runs are not blocked."
    )
    if canceling:
        instance.report_run_canceled(run, message)
    else:
        instance.report_run_failed(run, message)
    return f"{gone}; the run is marked {outcome}"


def free_stale_slots(instance: dg.DagsterInstance, log: _Log) -> list[FreedRun]:
    """Free the pool slots held or awaited by runs that will never give them back.

    A finished run's slots are freed; an unfinished run whose recorded process on this host is
    gone is first reported failed (canceled if it was being canceled), with the reason, then
    freed. One log line per run freed, and one per run left holding slots that cannot be judged.
    """
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return []
    freed: list[FreedRun] = []
    for run_id, slots in sorted(_slots_by_run(instance).items()):
        what = _describe_slots(slots)
        reason = _release_reason(instance, run_id, what, log)
        if reason is None:
            continue
        storage.free_concurrency_slots_for_run(run_id)
        log.info(f"Freed the {what} of run {run_id}: {reason}.")
        freed.append(FreedRun(run_id, slots, reason))
    return freed
