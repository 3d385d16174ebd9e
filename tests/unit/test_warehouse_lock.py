"""A warehouse another process holds is waited for, a bounded and logged while, then named.

Each test starts a real holder: a child process with the DuckDB file open, as a BI tool or a
`make run` in another terminal would have it.
"""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.lib import settings, warehouse
from orchestration.lib.warehouse import LOCK_WAIT_ENV, WarehouseLocked, connect, lock_holder

MARKER = "cw_lock_holder_for_test"  # the holder's script: in its command line for the tests to find

HOLDER = """
import sys, time, duckdb
path, mode, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
conn = duckdb.connect(path, read_only=mode == "read")
print("ready", flush=True)
time.sleep(seconds)
conn.close()
"""


class Lines:
    """A `log` that keeps its lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def warning(self, msg: str) -> None:
        self.lines.append(msg)


@pytest.fixture
def path(tmp_path) -> Path:
    target = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(target)).close()
    return target


@pytest.fixture
def hold(tmp_path):
    """hold(path, mode, seconds): a child process holding `path` (`write` or `read`) until it
    exits after `seconds`; the child's Popen."""
    children: list[subprocess.Popen] = []
    script = tmp_path / f"{MARKER}.py"
    script.write_text(HOLDER)

    def _hold(target: Path, mode: str = "write", seconds: float = 60) -> subprocess.Popen:
        child = subprocess.Popen(
            [sys.executable, str(script), str(target), mode, str(seconds)],
            stdout=subprocess.PIPE,
            text=True,
        )
        children.append(child)
        assert child.stdout.readline().strip() == "ready"
        return child

    yield _hold
    for child in children:
        child.kill()
        child.wait()


def test_a_writer_waits_logging_each_attempt_with_the_holder_then_raises_warehouse_locked(path, hold):
    holder = hold(path)
    log = Lines()
    started = time.monotonic()
    with pytest.raises(WarehouseLocked) as raised, connect(path, wait_seconds=1.2, log=log):
        pass
    waited = time.monotonic() - started
    assert 1.2 <= waited < 5
    assert len(log.lines) >= 2  # 0.5 s, then the 0.7 s left
    for line in log.lines:
        assert f"The warehouse {path} is locked by PID {holder.pid} (" in line
        assert MARKER in line
        assert "open it for writing failed; trying again in" in line
    message = str(raised.value)
    assert message.startswith(f"The warehouse {path} is locked by another process: PID {holder.pid} (")
    assert MARKER in message
    assert re.search(r"Waited 1\.\d s over 3 attempt\(s\) to open it for writing", message)
    assert "wait for it to finish or stop it, then run again" in message
    assert f"{LOCK_WAIT_ENV} sets how long to wait (now 1.2 s)" in message
    assert "Could not set lock" not in message  # DuckDB's raw text is replaced, not passed on
    assert raised.value.holder.pid == holder.pid and raised.value.path == path
    assert isinstance(raised.value, duckdb.IOException)  # code handling DuckDB's own error still does


def test_a_reader_holding_the_file_is_named_as_one_and_told_to_close_its_tool(path, hold):
    holder = hold(path, "read")
    log = Lines()
    with pytest.raises(WarehouseLocked) as raised, connect(path, wait_seconds=0.3, log=log):
        pass
    assert f"locked by PID {holder.pid} (" in log.lines[0] and ", a reader:" in log.lines[0]
    assert raised.value.holder.reads_only
    assert "it is reading the file: close the BI tool, notebook or DuckDB shell" in str(raised.value)


def test_a_read_only_connection_meeting_a_writer_gets_the_same_treatment(path, hold, caplog):
    holder = hold(path)
    caplog.set_level(logging.WARNING, logger=warehouse.__name__)
    with pytest.raises(WarehouseLocked) as raised, connect(path, read_only=True, wait_seconds=0.3):
        pass
    # no `log` given: the module's logger (dagster.yaml hands it to Dagster inside a run)
    assert [r.name for r in caplog.records] == [warehouse.__name__]
    assert f"PID {holder.pid}" in caplog.records[0].getMessage()
    assert "attempt 1 to open it read-only failed" in caplog.records[0].getMessage()
    assert "it is writing the file: wait for that run or load to finish" in str(raised.value)


def test_connect_succeeds_when_the_holder_exits_during_the_wait(path, hold):
    holder = hold(path, seconds=1.0)
    log = Lines()
    started = time.monotonic()
    with connect(path, wait_seconds=30, log=log) as conn:
        conn.execute("create table t as select 1 as x")
    assert time.monotonic() - started < 10
    assert log.lines and all(f"PID {holder.pid}" in line for line in log.lines)
    holder.wait(timeout=10)
    with connect(path, read_only=True) as conn:
        assert conn.execute("select x from t").fetchone() == (1,)


def test_a_wait_of_zero_fails_at_the_first_attempt(path, hold, monkeypatch):
    hold(path)
    monkeypatch.setenv(LOCK_WAIT_ENV, "0")
    log = Lines()
    started = time.monotonic()
    with pytest.raises(WarehouseLocked, match=r"Waited 0\.0 s over 1 attempt"), connect(path, log=log):
        pass
    assert time.monotonic() - started < 1 and log.lines == []


def test_an_error_that_is_not_a_lock_is_raised_at_once_as_duckdb_gave_it(tmp_path):
    folder = tmp_path / "a_folder.duckdb"
    folder.mkdir()
    started = time.monotonic()
    with pytest.raises(duckdb.Error) as raised, connect(folder, wait_seconds=30):
        pass
    assert not isinstance(raised.value, WarehouseLocked)
    assert time.monotonic() - started < 1


@pytest.mark.parametrize(
    ("value", "expected"), [(None, 60.0), ("", 60.0), ("5", 5.0), ("0", 0.0), ("2.5", 2.5)]
)
def test_the_wait_is_sixty_seconds_unless_the_environment_says(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv(LOCK_WAIT_ENV, raising=False)
    else:
        monkeypatch.setenv(LOCK_WAIT_ENV, value)
    assert settings.lock_wait_seconds() == expected


@pytest.mark.parametrize("value", ["-1", "soon", "nan"])
def test_a_wait_that_is_not_a_number_of_seconds_is_refused_by_name(monkeypatch, value):
    monkeypatch.setenv(LOCK_WAIT_ENV, value)
    with pytest.raises(ValueError, match=f"{LOCK_WAIT_ENV}='{value}': expected a number of seconds"):
        settings.lock_wait_seconds()


def test_the_holder_is_read_from_duckdbs_lock_error_text():
    text = (
        'IO Error: Could not set lock on file "/w/c.duckdb": Conflicting lock is held in '
        "/usr/bin/python3.11 (PID 4242) by user ana. However, you would be able to open this "
        "database in read-only mode, e.g. by using the -readonly parameter in the CLI. See also "
        "https://duckdb.org/docs/current/connect/concurrency"
    )
    holder = lock_holder(text)
    assert (holder.pid, holder.program, holder.reads_only) == (4242, "/usr/bin/python3.11", True)
    unnamed = lock_holder('IO Error: Could not set lock on file "/w/c.duckdb": Resource busy')
    assert unnamed.pid is None and unnamed.describe() == "a process DuckDB does not name"
    assert lock_holder('IO Error: Cannot open file "/w/c.duckdb": Permission denied') is None
