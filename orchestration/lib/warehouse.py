"""DuckDB connections to the warehouse.

DuckDB allows one read-write process or many read-only ones, never both. Every Dagster asset
that writes goes through the `duckdb_writer` concurrency pool (see dagster.yaml); checks open
read-only connections inside the same pool so they never race a writer.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from orchestration.lib import settings

WRITER_POOL = "duckdb_writer"


@contextmanager
def connect(path: Path | None = None, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse (creating its folder for writers) and always close it."""
    target = path or settings.warehouse_path()
    if read_only and not target.exists():
        raise FileNotFoundError(
            f"The warehouse {target} does not exist yet: materialise the load assets first (`make run`)."
        )
    if not read_only:
        target.parent.mkdir(parents=True, exist_ok=True)
    conn = duckdb.connect(str(target), read_only=read_only, config=settings.duckdb_config())
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
