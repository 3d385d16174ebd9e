"""A BI-style reader of the published release, run as its own process by the release tests.

    python -m tests.integration.release_reader KIND PUBLISH_DIR OUT_JSONL STOP_FILE

KIND is how a real client reads a release:
- `catalog`: DuckDB, a fresh read-only connection to the fixed catalog path each time;
- `long`: DuckDB, one connection kept open across releases, running a long aggregate over the
  largest fact (reopened every few queries so it also sees newer releases);
- `arrow`: pyarrow.dataset over the Parquet of the release `current` resolves to;
- `sqlalchemy`: SQLAlchemy with duckdb-engine (as Superset and Metabase connect), via pandas.

Each observation (the release it saw, and whether every count it read equals that release's
release.json) is one JSON line in OUT_JSONL. It loops until STOP_FILE exists, then reads once
more and exits.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from pathlib import Path

import duckdb

TABLES = ("marts.fct_registered_population", "marts.mart_commissioning_summary", "marts.dim_practice")
LARGEST = "marts.fct_registered_population"
REPEAT = 80_000  # the long aggregate reads the largest fact this many times over (about 1.5 s)


def manifest_rows(root: Path, release_id: str) -> dict[str, int]:
    manifest = json.loads((root / "releases" / release_id / "release.json").read_text())
    return {relation: table["rows"] for relation, table in manifest["tables"].items()}


def observe_catalog(root: Path, conn: duckdb.DuckDBPyConnection | None = None) -> dict:
    own = conn is None
    conn = conn or duckdb.connect(str(root / "commissioning.duckdb"), read_only=True)
    try:
        release_id = conn.execute("select release_id from release").fetchone()[0]
        counts = {t: conn.execute(f"select count(*) from {t}").fetchone()[0] for t in TABLES}
    finally:
        if own:
            conn.close()
    return {"release_id": release_id, "counts": counts}


def observe_long(root: Path, conn: duckdb.DuckDBPyConnection) -> dict:
    release_id = conn.execute("select release_id from release").fetchone()[0]
    rows, patients = conn.execute(
        f"select count(*), sum(number_of_patients) from {LARGEST}, range({REPEAT})"
    ).fetchone()
    return {"release_id": release_id, "counts": {LARGEST: rows // REPEAT}, "patients": patients}


def observe_arrow(root: Path) -> dict:
    import pyarrow.dataset as ds

    release_dir = (root / "current").resolve()  # resolve once: the whole read is of one release
    release_id = release_dir.name
    counts = {}
    for relation in TABLES:
        schema, name = relation.split(".")
        counts[relation] = ds.dataset(release_dir / "data" / schema / name, format="parquet").count_rows()
    return {"release_id": release_id, "counts": counts}


def observe_sqlalchemy(root: Path, engine) -> dict:
    import pandas as pd

    with engine.connect() as connection:
        release_id = pd.read_sql("select release_id from release", connection)["release_id"][0]
        counts = {t: int(pd.read_sql(f"select count(*) as n from {t}", connection)["n"][0]) for t in TABLES}
    return {"release_id": release_id, "counts": counts}


def main(kind: str, root: Path, out: Path, stop: Path) -> int:
    engine, long_conn, queries = None, None, 0
    if kind == "sqlalchemy":
        import sqlalchemy

        engine = sqlalchemy.create_engine(
            f"duckdb:///{root / 'commissioning.duckdb'}",
            connect_args={"read_only": True},
            poolclass=sqlalchemy.pool.NullPool,  # a fresh connection per read, as a BI refresh does
        )
    last = False
    with open(out, "a") as handle:
        while True:
            last = last or stop.exists()
            started = time.monotonic()
            record: dict = {"kind": kind}
            try:
                if kind == "catalog":
                    seen = observe_catalog(root)
                elif kind == "long":
                    if long_conn is None or queries % 5 == 0:
                        if long_conn is not None:
                            long_conn.close()
                        long_conn = duckdb.connect(str(root / "commissioning.duckdb"), read_only=True)
                    queries += 1
                    seen = observe_long(root, long_conn)
                elif kind == "arrow":
                    seen = observe_arrow(root)
                else:
                    seen = observe_sqlalchemy(root, engine)
                expected = manifest_rows(root, seen["release_id"])
                record.update(
                    seen,
                    mismatches=[
                        f"{t}: read {n:,}, release.json says {expected.get(t)}"
                        for t, n in seen["counts"].items()
                        if expected.get(t) != n
                    ],
                    error=None,
                )
            except Exception as exc:  # every failure is a finding: recorded, never hidden
                record.update(error=f"{type(exc).__name__}: {exc}", trace=traceback.format_exc()[-1500:])
            record["seconds"] = round(time.monotonic() - started, 3)
            handle.write(json.dumps(record) + "\n")
            handle.flush()
            if last:
                return 0
            time.sleep(0.2)  # a busy dashboard, not a denial of service: the run shares two cores


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])))
