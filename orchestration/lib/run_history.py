"""Dagster's run history (the event log under DAGSTER_HOME) written without an fsync per event.

Dagster's SQLite event log opens an engine and a connection per event and closes them after one
insert; closing the last connection to a WAL database checkpoints it and syncs the file (with sqlite3 alone, a
connect, insert, commit and close costs 1.2 ms here on a quiet machine, 14 ms on a busy one;
0.25 ms without the sync). A
`make run` of the sample writes 4,277 of them (every partition's materialisation, every dbt
test's check result, their planned events, the pool's slot claims). `PRAGMA synchronous=OFF` on
each connection and one kept engine per file take an asset event from 5.8 ms to 1.9 ms
(benchmarks/run_history_writes.py, quiet machine). What that buys depends on the disk's load: on
a quiet machine the sample run went from 110.6 and 118.5 s to 107.1 and 115.0 s (about 3%); on
one shared with other builds (load average ~6, as under `make test`'s two workers), where a
py-spy profile put half of the run process in storing events, 292 s to 183 s.

What it gives up: if the machine itself crashes or loses power mid-run, the run history may be
corrupt (delete DAGSTER_HOME/history to start a new one); a killed process loses nothing
(SQLite hands every commit to the operating system before it returns). The warehouse is DuckDB,
with its own write-ahead log, and is not touched by this. A deployment that wants a durable,
shared run history uses Dagster's Postgres storage (README, settings: `DAGSTER_HOME`).

`dagster.yaml` names this class as the event log storage; every process that opens the Dagster
home (`make run`, `make ui`'s webserver and daemon) therefore writes the same way.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from dagster import Field, StringSource
from dagster._core.instance.ref import _event_logs_directory
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

MAX_ENGINES = 64


def _without_fsync(dbapi_connection, _record) -> None:
    dbapi_connection.execute("PRAGMA synchronous=OFF")


class UnsyncedSqliteEventLogStorage(SqliteEventLogStorage):
    """Dagster's SQLite event log (the same files, schema and layout), one change: each
    connection it opens does not fsync its commits."""

    @classmethod
    def config_type(cls):
        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        # Without a base_dir, where Dagster keeps the event log when dagster.yaml names none.
        base_dir = config_value.get("base_dir") or _event_logs_directory(os.environ["DAGSTER_HOME"])
        return cls(base_dir=base_dir, inst_data=inst_data)

    def __init__(self, base_dir: str, inst_data=None):
        self._engines: dict[str, Engine] = {}  # before Dagster's __init__, which may connect
        super().__init__(base_dir, inst_data)

    def _engine(self, shard: str) -> Engine:
        """One engine per shard, kept: a new engine per event (Dagster's way) initialises
        SQLAlchemy's dialect on every connection. NullPool still closes each connection, so no
        file is held open and the UI's watcher still sees each event land in the run's file."""
        engines = self._engines
        if shard not in engines:
            if len(engines) >= MAX_ENGINES:  # the webserver reads many runs' shards
                engines.pop(next(iter(engines))).dispose()
            engine = create_engine(
                self.conn_string_for_shard(shard),
                poolclass=NullPool,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
            )
            event.listen(engine, "connect", _without_fsync)
            engines[shard] = engine
        return engines[shard]

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        # SqliteEventLogStorage._connect (dagster 1.13) with a kept engine whose connections
        # do not fsync.
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn
