"""What the kill tests (#19) share: a child process held at or timed from a named checkpoint
(orchestration/lib/faults.py) and killed with SIGKILL, fingerprints of tables that leave out the
load timestamps, and the table of kill points and outcomes printed after the tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from orchestration.lib import faults

REPO_ROOT = Path(__file__).resolve().parents[1]


def start_python(code: str, *args: str, env: dict[str, str], log: Path) -> subprocess.Popen:
    """`python -c code args…` from the repository root, its output in `log` (never a pipe: a pipe
    nobody reads would stall a chatty child and change where it is killed)."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-c", code, *args], cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )


def checkpoint_env(folder: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, faults.ENV: str(folder), **extra}


def hold(folder: Path, name: str) -> None:
    """Make a child wait at checkpoint `name` (until killed)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}{faults.HOLD_SUFFIX}").touch()


def wait_until(reached, child: subprocess.Popen, what: str, log: Path, timeout: float = 180) -> None:
    """Poll `reached()` until true; fail, with the child's output, if it ends or time runs out."""
    deadline = time.monotonic() + timeout
    while not reached():
        if child.poll() is not None:
            pytest.fail(f"the child ended (exit {child.returncode}) before {what}:\n{tail(log)}")
        if time.monotonic() > deadline:
            child.kill()
            pytest.fail(f"{what} not reached in {timeout:.0f} s:\n{tail(log)}")
        time.sleep(0.005)


def kill(child: subprocess.Popen, log: Path, when: str) -> None:
    """SIGKILL the child and check it was still running, so the kill really interrupted it."""
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL, (
        f"the child had already ended (exit {child.returncode}) when it was to be killed {when}:\n{tail(log)}"
    )


def tail(log: Path, chars: int = 4000) -> str:
    return log.read_text(errors="replace")[-chars:] if log.exists() else "(no output)"


def reached_at(folder: Path) -> dict[str, float]:
    """checkpoint → when it was reached (the marker's modification time, epoch seconds)."""
    if not folder.is_dir():
        return {}
    return {
        p.name: p.stat().st_mtime
        for p in folder.iterdir()
        if not p.name.startswith(".") and not p.name.endswith(faults.HOLD_SUFFIX)
    }


def columns(
    conn: duckdb.DuckDBPyConnection, relation: str, exclude: Sequence[str] = ()
) -> list[tuple[str, str]]:
    schema, name = relation.split(".")
    rows = conn.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, name],
    ).fetchall()
    assert rows, f"{relation} does not exist"
    return [(c, t) for c, t in rows if c not in exclude]


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Fingerprint:
    """An order-independent digest of a relation's rows: equal rows (every column but the
    excluded timestamps, with their names and types), equal fingerprint. A sum of 64-bit row
    hashes, not an xor, so a duplicated row changes it."""

    columns: tuple[tuple[str, str], ...]
    rows: int
    digest: int

    def __str__(self) -> str:
        return f"{self.rows:,} rows, {self.digest:#034x}"


def fingerprint(
    conn: duckdb.DuckDBPyConnection,
    relation: str,
    where: str = "true",
    params: Sequence[object] = (),
    exclude: Sequence[str] = (),
) -> Fingerprint:
    cols = columns(conn, relation, exclude)
    row = ", ".join(quote(c) for c, _ in cols)
    count, digest = conn.execute(
        f"select count(*), coalesce(sum(hash(row({row}))::hugeint), 0) from {relation} where {where}",
        list(params),
    ).fetchone()
    return Fingerprint(tuple(cols), count, int(digest))


def catalog_objects(conn: duckdb.DuckDBPyConnection) -> set[tuple[str, str, str]]:
    """Every schema, table and view a user made, as (kind, schema, name)."""
    tables = conn.execute(
        "select 'table', schema_name, table_name from duckdb_tables() "
        "where database_name = current_database()"
    ).fetchall()
    views = conn.execute(
        "select 'view', schema_name, view_name from duckdb_views() "
        "where not internal and database_name = current_database()"
    ).fetchall()
    schemas = conn.execute(
        "select 'schema', schema_name, '' from duckdb_schemas() "
        "where not internal and database_name = current_database()"
    ).fetchall()
    return set(tables) | set(views) | set(schemas)


@dataclass
class KillReport:
    """The kill points of a module and what each left, printed once the module's tests ran."""

    title: str
    header: tuple[str, ...]
    rows: list[tuple[str, ...]]

    def add(self, *cells: object) -> None:
        self.rows.append(tuple(str(c) for c in cells))

    def lines(self) -> list[str]:
        table = [self.header, *self.rows]
        widths = [max(len(r[i]) for r in table) for i in range(len(self.header))]
        fmt = "  ".join(f"{{:<{w}}}" for w in widths)
        return [fmt.format(*self.header), fmt.format(*("-" * w for w in widths))] + [
            fmt.format(*r) for r in self.rows
        ]


def report_fixture(request: pytest.FixtureRequest, title: str, header: tuple[str, ...]):
    """Yield a KillReport; at the end write it to the terminal (shown without -s; under
    pytest-xdist, a worker's terminal is not shown: run the module alone to see it)."""
    report = KillReport(title, header, [])
    yield report
    if not report.rows:
        return
    plugins = request.config.pluginmanager
    terminal, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if terminal is None or capture is None:
        print("\n".join([title, *report.lines()]))
        return
    with capture.global_and_fixture_disabled():  # fixture teardown output is captured otherwise
        terminal.write_line("")
        terminal.write_sep("-", title)
        for line in report.lines():
            terminal.write_line(line)
