"""Install the statistical macros (stats.sql) and their lookup tables on a DuckDB connection.

    import duckdb
    from orchestration.stats.install import install
    conn = duckdb.connect()
    install(conn)
    conn.sql("select stats.wilson_lower(65, 100, 0.95)")

On a writable database the macros and tables are created in its `stats` schema, so they persist
in the warehouse and read-only clients (BI tools) can call them. On a read-only connection an
in-memory catalog named `stats` is attached instead, giving the same names for that session.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

HERE = Path(__file__).parent
SQL = HERE / "stats.sql"
POISSON = HERE / "data" / "poisson_exact_limits.csv"
T_QUANTILES = HERE / "data" / "t_quantiles.csv"


def _read_only(conn: duckdb.DuckDBPyConnection) -> bool:
    row = conn.execute(
        "select readonly from duckdb_databases() where database_name = current_database()"
    ).fetchone()
    return bool(row and row[0])


def install(conn: duckdb.DuckDBPyConnection) -> None:
    """Create (or replace) every stats macro and lookup table; idempotent."""
    if _read_only(conn):
        attached = conn.execute("select count(*) from duckdb_databases() where database_name = 'stats'")
        if not attached.fetchone()[0]:
            conn.execute("attach ':memory:' as stats (read_only false)")
    else:
        conn.execute("create schema if not exists stats")
    conn.execute(
        "create or replace table stats.poisson_exact_limits as select observed as exact_count, "
        "lower95 as exact_lower95, upper95 as exact_upper95, lower998 as exact_lower998, "
        f"upper998 as exact_upper998 from read_csv('{POISSON}', header = true)"
    )
    conn.execute(
        "create or replace table stats.t_quantiles as select df as t_df, t95, t998 "
        f"from read_csv('{T_QUANTILES}', header = true)"
    )
    conn.execute(SQL.read_text())
