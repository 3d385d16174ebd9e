"""DuckDB connections to the warehouse.

DuckDB allows one read-write process or many read-only ones, never both. Every Dagster asset
that writes goes through the `duckdb_writer` concurrency pool (see dagster.yaml); checks open
read-only connections inside the same pool so they never race a writer.

A process outside Dagster can still hold the file: a BI tool or a DuckDB shell reading it, a
`make run` started in another terminal. Then `connect` waits, logging each attempt with the
process that holds the lock (DuckDB's error names its PID; its command line comes from /proc),
for at most WAREHOUSE_LOCK_WAIT_SECONDS, and then raises `WarehouseLocked`, which says who holds
the file and what to do. The first attempt is DuckDB's own connect: without a lock, nothing is
added.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import duckdb

from orchestration.lib import settings

WRITER_POOL = "duckdb_writer"

LOCK_WAIT_ENV = settings.LOCK_WAIT_ENV
FIRST_RETRY_SECONDS = 0.5  # then doubled up to MAX_RETRY_SECONDS
MAX_RETRY_SECONDS = 5.0

# DuckDB 2.0: 'IO Error: Could not set lock on file "<path>": Conflicting lock is held in
# <program> (PID <pid>)[ by user <name>]. [However, you would be able to open this database in
# read-only mode ...] See also ...'; the "However" sentence appears when the holder only reads.
_LOCK_ERROR = "Could not set lock on file"
_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")
_HOLDER_READS = "would be able to open this database in read-only mode"
_COMMAND_CHARS = 300

logger = logging.getLogger(__name__)


class _Log(Protocol):
    def warning(self, msg: str) -> object: ...


@dataclass(frozen=True)
class LockHolder:
    """The process DuckDB names as holding the warehouse's lock."""

    pid: int | None
    program: str | None
    command: str | None  # its command line, when /proc lets us read it
    reads_only: bool  # it has the file open read-only (a BI tool, a reader), not for writing

    def describe(self) -> str:
        if self.pid is None:
            return "a process DuckDB does not name"
        return f"PID {self.pid} ({self.command or self.program or 'command unknown'})"


class WarehouseLocked(duckdb.IOException):
    """Another process held the warehouse's lock for longer than the wait allowed.

    A `duckdb.IOException`, as DuckDB's own lock error is, so code that already handles that
    still does."""

    def __init__(self, message: str, *, path: Path, holder: LockHolder, waited_seconds: float) -> None:
        super().__init__(message)
        self.path = path
        self.holder = holder
        self.waited_seconds = waited_seconds


def _command_line(pid: int) -> str | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    text = " ".join(part.decode(errors="replace") for part in raw.split(b"\0") if part)
    return text[:_COMMAND_CHARS] + ("…" if len(text) > _COMMAND_CHARS else "") if text else None


def lock_holder(error_text: str) -> LockHolder | None:
    """Who holds the lock, from DuckDB's error text; None if the error is not a lock conflict."""
    if _LOCK_ERROR not in error_text:
        return None
    found = _HOLDER.search(error_text)
    pid = int(found["pid"]) if found else None
    return LockHolder(
        pid=pid,
        program=found["program"] if found else None,
        command=_command_line(pid) if pid else None,
        reads_only=_HOLDER_READS in error_text,
    )


def _advice(read_only: bool, holder: LockHolder) -> str:
    if holder.reads_only:
        return (
            "it is reading the file: close the BI tool, notebook or DuckDB shell that has it open "
            "(BI tools should read the published release, `make publish`), then run again"
        )
    if read_only:
        return "it is writing the file: wait for that run or load to finish (or stop it), then try again"
    return (
        "it has the file open for writing (another `make run`, a UI run, a DuckDB shell): wait for it "
        "to finish or stop it, then run again"
    )


def open_connection(
    target: Path,
    *,
    read_only: bool = False,
    config: Mapping[str, object] | None = None,
    wait_seconds: float | None = None,
    log: _Log | None = None,
) -> duckdb.DuckDBPyConnection:
    """`duckdb.connect`, waiting a bounded, logged while for another process's lock."""
    options = dict(settings.duckdb_config() if config is None else config)

    def attempt() -> duckdb.DuckDBPyConnection | LockHolder:
        """A connection, or who holds the lock; any other error is raised as DuckDB gave it."""
        try:
            return duckdb.connect(str(target), read_only=read_only, config=options)
        except duckdb.IOException as exc:
            held = lock_holder(str(exc))
            if held is None:
                raise
            return held

    holder = attempt()
    if isinstance(holder, duckdb.DuckDBPyConnection):
        return holder
    log = log or logger
    started = time.monotonic()
    bound = settings.lock_wait_seconds() if wait_seconds is None else wait_seconds
    mode = "read-only" if read_only else "for writing"
    delay, attempts = FIRST_RETRY_SECONDS, 1
    while (remaining := bound - (time.monotonic() - started)) > 0:
        pause = min(delay, remaining)
        log.warning(
            f"The warehouse {target} is locked by {holder.describe()}"
            f"{', a reader' if holder.reads_only else ''}: attempt {attempts} to open it {mode} failed; "
            f"trying again in {pause:.1f} s (gives up after {bound:g} s, {LOCK_WAIT_ENV})"
        )
        time.sleep(pause)
        attempts += 1
        result = attempt()
        if isinstance(result, duckdb.DuckDBPyConnection):
            return result
        holder = result
        delay = min(delay * 2, MAX_RETRY_SECONDS)
    waited = time.monotonic() - started
    raise WarehouseLocked(
        f"The warehouse {target} is locked by another process: {holder.describe()}. Waited "
        f"{waited:.1f} s over {attempts} attempt(s) to open it {mode}; {_advice(read_only, holder)}. "
        f"DuckDB lets one process write the file or many read it, never both. {LOCK_WAIT_ENV} sets "
        f"how long to wait (now {bound:g} s).",
        path=target,
        holder=holder,
        waited_seconds=waited,
    )


@contextmanager
def connect(
    path: Path | None = None,
    *,
    read_only: bool = False,
    config: Mapping[str, object] | None = None,
    wait_seconds: float | None = None,
    log: _Log | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse (creating its folder for writers) and always close it.

    If another process holds the file, wait up to `wait_seconds` (WAREHOUSE_LOCK_WAIT_SECONDS by
    default), logging each attempt to `log` (this module's logger by default), then raise
    `WarehouseLocked`."""
    target = path or settings.warehouse_path()
    if read_only and not target.exists():
        raise FileNotFoundError(
            f"The warehouse {target} does not exist yet: materialise the load assets first (`make run`)."
        )
    if not read_only and not target.parent.is_dir():  # a stat: mkdir(exist_ok) costs 12 µs a call
        target.parent.mkdir(parents=True, exist_ok=True)
    conn = open_connection(target, read_only=read_only, config=config, wait_seconds=wait_seconds, log=log)
    try:
        yield conn
    finally:
        conn.close()


def table_exists(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    row = conn.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    return bool(row and row[0])
