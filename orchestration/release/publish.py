"""Publish a release: the user-facing tables of a good build as Parquet, with a read-only DuckDB
catalog over them, for BI tools that must never collide with a load.

The private warehouse stays the pipeline's alone (one writer, DuckDB's rule). After a run whose
blocking checks passed, `publish()` reads it read-only and writes `releases/<id>/`:

- `data/<schema>/<table>/`: Parquet (zstd), sorted by the table's `order_by` (area, period) so
  row-group statistics skip what a filter excludes; period-partitioned facts have one
  `<column>=<value>/` folder per period, the column also kept in the files (exact types);
- `csv/<schema>.<table>.csv`: an extract of every unpartitioned table (dims, marts, dq, share)
  small enough for Excel (≤ 1,048,575 rows);
- `catalog.duckdb`: each table, stored in it when it has up to NATIVE_MAX_ROWS rows (DuckDB's
  own storage answers a dashboard twice as fast as Parquet) or as a view over its Parquet files
  when larger; column docs as comments, the `stats.*` macros, and the `release*` tables (id,
  build time, source months, feeds and their load-log hashes, checks, row counts);
- `docs/`: the dbt docs of the models (a static page, no server);
- `release.json`: the same facts plus the size and sha256 of every file, written last.

Then it switches readers to the new release atomically (store.ReleaseStore.switch_to) and keeps
the newest N. Any failure before the switch removes the half-written folder and raises a
specific error; the last good release stays current.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.lib import settings
from orchestration.lib.warehouse import connect, table_exists
from orchestration.release import tables as published
from orchestration.release.store import MANIFEST, RELEASE_CATALOG, ReleaseStore, sha256_file
from orchestration.stats.install import install as install_stats

FORMAT_VERSION = 1
EXCEL_MAX_ROWS = 1_048_575  # Excel's 1,048,576 rows, less the header
# Tables up to this many rows are stored in the catalog itself, larger ones are views over Parquet.
NATIVE_MAX_ROWS = 5_000_000


class ReleaseBlocked(RuntimeError):
    """Blocking checks failed: nothing is published, the last good release stays current."""


class ReleaseWriteError(RuntimeError):
    """Writing the release failed (disk full, permissions …): nothing half-written is left."""


@dataclass(frozen=True)
class CheckSummary:
    """The verdicts behind a release: passed, warned (failed at warn severity), failed."""

    passed: int = 0
    warned: int = 0
    failed: int = 0
    source: str = "none"
    blocking_failures: tuple[str, ...] = ()


@dataclass
class PublishedRelease:
    release_id: str
    path: Path
    tables: dict[str, int]
    bytes: int
    seconds: float
    restricted_path: Path | None = None
    pruned: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def sql_string(value: object) -> str:
    """A SQL string literal (paths and names are never pasted into SQL unquoted)."""
    return "'" + str(value).replace("'", "''") + "'"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def new_release_id(run_id: str | None, now: datetime) -> str:
    """Sortable by build time; the run's id makes two builds in one second distinct."""
    return f"{now:%Y%m%dT%H%M%S}Z-{(run_id or 'manual')[:8]}"


def read_parquet_sql(files: Sequence[Path]) -> str:
    """A table's files, listed one by one (a file added to the folder later is never read); the
    period column is stored in every file, so types are exact without hive partitioning."""
    listed = ", ".join(sql_string(f) for f in sorted(files))
    return f"read_parquet([{listed}], hive_partitioning = false)"


def _write_table(conn: duckdb.DuckDBPyConnection, table: published.PublishedTable, release_dir: Path) -> int:
    """COPY one table to Parquet, sorted by its `order_by`; returns its row count.

    A period-partitioned fact is written one period at a time into `<column>=<value>/` (a
    filtered COPY each: the facts are stored month by month, so each reads only its month).
    That is faster than DuckDB's partitioned writer, which interleaves its threads' rows and
    so does not keep the sort."""
    target = release_dir / "data" / table.schema / table.name
    target.mkdir(parents=True)
    relation = f"{ident(table.schema)}.{ident(table.name)}"
    order = f" order by {', '.join(ident(c) for c in table.order_by)}" if table.order_by else ""
    options = "(format parquet, compression zstd)"
    column = table.partition_by
    periods = (
        conn.execute(f"select distinct {ident(column)} from {relation} order by 1").fetchall()
        if column
        else []
    )
    if not periods:  # unpartitioned, or empty: one file (which keeps an empty table's schema)
        (rows,) = conn.execute(
            f"copy (select * from {relation}{order}) to {sql_string(target / 'part-0.parquet')} {options}"
        ).fetchone()
        return rows
    data_type = next(c.data_type for c in table.columns if c.name == column)
    rows = 0
    for (value,) in periods:
        if value is None:
            folder, where = "__HIVE_DEFAULT_PARTITION__", f"{ident(column)} is null"
        else:
            folder, where = str(value), f"{ident(column)} = cast({sql_string(value)} as {data_type})"
        path = target / f"{column}={folder}" / "part-0.parquet"
        path.parent.mkdir()
        (written,) = conn.execute(
            f"copy (select * from {relation} where {where}{order}) to {sql_string(path)} {options}"
        ).fetchone()
        rows += written
    return rows


def _write_csv(conn: duckdb.DuckDBPyConnection, table: published.PublishedTable, release_dir: Path) -> Path:
    target = release_dir / "csv" / f"{table.schema}.{table.name}.csv"
    target.parent.mkdir(exist_ok=True)
    order = f" order by {', '.join(ident(c) for c in table.order_by)}" if table.order_by else ""
    conn.execute(
        f"copy (select * from {ident(table.schema)}.{ident(table.name)}{order}) to {sql_string(target)} "
        "(format csv, header true)"
    )
    return target


def _provenance(conn: duckdb.DuckDBPyConnection) -> dict:
    """The feeds behind the build: each loaded file's period, name and sha256 (no server paths)."""
    if not table_exists(conn, "meta", "load_log"):
        return {"feeds": [], "source_months": []}
    feeds = conn.execute(
        """select feed, _period, regexp_extract(source_file, '[^/\\\\]+$'), sha256, rows_loaded,
                  rows_quarantined, loaded_at, received_at
           from meta.load_log order by feed, _period, source_file"""
    ).fetchall()
    keys = ("feed", "period", "file", "sha256", "rows_loaded", "rows_quarantined", "loaded_at", "received_at")
    rows = [dict(zip(keys, row, strict=True)) for row in feeds]
    for row in rows:
        for key in ("period", "loaded_at", "received_at"):
            row[key] = row[key].isoformat() if row[key] is not None else None
    months = sorted({r["period"] for r in rows if r["period"]})
    return {"feeds": rows, "source_months": months}


def _check_open_release(tables: Sequence[published.PublishedTable]) -> None:
    for table in tables:
        leaking = sorted(published.PATIENT_LEVEL_COLUMNS & {c.name for c in table.columns})
        if table.access != published.OPEN or leaking:
            raise ReleaseBlocked(
                f"{table.relation} carries patient-level columns {leaking}: it must be "
                "`meta.release.access: restricted`, never in the open release"
            )


@dataclass(frozen=True)
class CatalogEntry:
    """One table of a catalog: its files, and whether it is stored in the catalog itself."""

    table: published.PublishedTable
    files: tuple[Path, ...]
    rows: int

    def stored_as(self, native_max_rows: int) -> str:
        return "table" if self.rows <= native_max_rows else "view"


def _build_catalog(path: Path, entries: Sequence[CatalogEntry], manifest: dict, native_max_rows: int) -> None:
    """The read-only DuckDB catalog of one release. A table of up to `native_max_rows` rows is
    stored in it (copied from its own Parquet, so the two are the same rows), because DuckDB
    answers a dashboard's query on its own storage in about half the time it takes over Parquet
    (measured: benchmarks/release_national.py); a larger fact is a view over its Parquet files,
    so the catalog stays small. Then docs as comments, the stats macros and the release facts."""
    staged = path.with_suffix(".building")
    staged.unlink(missing_ok=True)
    conn = duckdb.connect(str(staged), config={**settings.duckdb_config(), "preserve_insertion_order": True})
    try:
        for schema in sorted({e.table.schema for e in entries}):
            conn.execute(f"create schema {ident(schema)}")
        for entry in entries:
            table = entry.table
            name = f"{ident(table.schema)}.{ident(table.name)}"
            kind = entry.stored_as(native_max_rows)
            conn.execute(f"create {kind} {name} as select * from {read_parquet_sql(entry.files)}")
            if table.description:
                conn.execute(f"comment on {kind} {name} is {sql_string(table.description)}")
            for column in table.columns:
                if column.description:
                    conn.execute(
                        f"comment on column {name}.{ident(column.name)} is {sql_string(column.description)}"
                    )
        install_stats(conn)
        _write_release_tables(conn, manifest)
        conn.execute("checkpoint")
    finally:
        conn.close()
    staged.rename(path)


def _write_release_tables(conn: duckdb.DuckDBPyConnection, manifest: dict) -> None:
    """`release` (one row), `release_tables`, `release_feeds`, `release_checks`: what a BI tool
    shows as "data as of" and what an auditor traces back to the files."""
    checks = manifest["checks"]
    conn.execute(
        """create table release as select
               ?::varchar as release_id, ?::timestamptz as built_at, ?::varchar as run_id,
               ?::varchar as access, ?::date[] as source_months, ?::varchar[] as feeds,
               ?::integer as checks_passed, ?::integer as checks_warned, ?::integer as checks_failed,
               ?::varchar as checks_source, ?::integer as tables, ?::bigint as rows,
               ?::varchar as dbt_manifestsha256_file, ?::integer as format_version""",
        [
            manifest["release_id"],
            manifest["built_at"],
            manifest["run_id"],
            manifest["access"],
            manifest["source_months"],
            sorted({f["feed"] for f in manifest["feeds"]}),
            checks["passed"],
            checks["warned"],
            checks["failed"],
            checks["source"],
            len(manifest["tables"]),
            sum(t["rows"] for t in manifest["tables"].values()),
            manifest["dbt_manifestsha256_file"],
            FORMAT_VERSION,
        ],
    )
    conn.execute(
        "create table release_tables (table_schema varchar, table_name varchar, access varchar, "
        "rows bigint, files integer, bytes bigint, partition_by varchar, order_by varchar[], "
        "stored_as varchar, contract_version varchar, description varchar)"
    )
    conn.executemany(
        "insert into release_tables values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [
                t["schema"],
                t["name"],
                t["access"],
                t["rows"],
                len(t["files"]),
                sum(f["bytes"] for f in t["files"]),
                t["partition_by"],
                t["order_by"],
                t["stored_as"],
                None if t["version"] is None else str(t["version"]),
                t["description"],
            ]
            for t in manifest["tables"].values()
        ],
    )
    conn.execute(
        "create table release_feeds (feed varchar, period date, file varchar, sha256 varchar, "
        "rows_loaded bigint, rows_quarantined bigint, loaded_at timestamp, received_at timestamp)"
    )
    if manifest["feeds"]:
        conn.executemany(
            "insert into release_feeds values (?, ?, ?, ?, ?, ?, ?, ?)",
            [list(f.values()) for f in manifest["feeds"]],
        )
    conn.execute("create table release_checks (outcome varchar, checks integer, names varchar[])")
    conn.executemany(
        "insert into release_checks values (?, ?, ?)",
        [
            ["passed", checks["passed"], []],
            ["warned", checks["warned"], []],
            ["failed", checks["failed"], list(checks["blocking_failures"])],
        ],
    )


def _describe(table: published.PublishedTable, rows: int, files: list[dict]) -> dict:
    return {
        "schema": table.schema,
        "name": table.name,
        "access": table.access,
        "rows": rows,
        "partition_by": table.partition_by,
        "order_by": list(table.order_by),
        "version": table.version,
        "description": table.description,
        "columns": [{"name": c.name, "data_type": c.data_type} for c in table.columns],
        "files": files,
    }


def _file_entries(release_dir: Path, hashes: dict[Path, Future]) -> list[dict]:
    return [
        {"path": str(path.relative_to(release_dir)), "bytes": path.stat().st_size, "sha256": digest.result()}
        for path, digest in sorted(hashes.items())
    ]


@dataclass
class _Build:
    """One release folder being written (the open one, or the restricted one beside it)."""

    store: ReleaseStore
    release_dir: Path
    access: str
    tables: list[published.PublishedTable]
    # relation -> (table, rows, {parquet file: its sha256 being computed})
    written: dict[str, tuple[published.PublishedTable, int, dict[Path, Future]]] = field(default_factory=dict)


def _write_build(
    conn: duckdb.DuckDBPyConnection,
    build: _Build,
    hasher: ThreadPoolExecutor,
    log: Callable[[str], None],
    csv_extracts: bool,
) -> None:
    """Every table of the build as Parquet (hashed in a thread while the next table is written),
    and the CSV extracts."""
    for index, table in enumerate(build.tables, start=1):
        started = time.perf_counter()
        rows = _write_table(conn, table, build.release_dir)
        if table.partition_by and not rows:
            table = replace(table, partition_by=None)  # written as one empty file, no period folders
        table_dir = build.release_dir / "data" / table.schema / table.name
        hashes = {path: hasher.submit(sha256_file, path) for path in table_dir.rglob("*.parquet")}
        if csv_extracts and not table.partition_by and rows <= EXCEL_MAX_ROWS:
            _write_csv(conn, table, build.release_dir)  # dims, marts and dq tables: what Excel users open
        build.written[table.relation] = (table, rows, hashes)
        log(
            f"[{index}/{len(build.tables)}] {build.access} {table.relation}: {rows:,} rows, "
            f"{len(hashes)} file(s), {time.perf_counter() - started:.1f} s"
        )


def _finish_build(
    build: _Build,
    entries: Sequence[CatalogEntry],
    facts: dict,
    docs: Callable[[Path], Path] | None,
    native_max_rows: int,
) -> dict:
    """Catalog, docs, then release.json (last: it marks the folder complete and lists the size
    and sha256 of every other file in it)."""
    manifest = {
        "format_version": FORMAT_VERSION,
        **facts,
        "access": build.access,
        "tables": {
            relation: {
                **_describe(table, rows, _file_entries(build.release_dir, hashes)),
                "stored_as": CatalogEntry(table, (), rows).stored_as(native_max_rows),
            }
            for relation, (table, rows, hashes) in build.written.items()
        },
    }
    catalog = build.release_dir / RELEASE_CATALOG
    _build_catalog(catalog, entries, manifest, native_max_rows)
    if docs is not None:
        shutil.copytree(docs(catalog), build.release_dir / "docs")
    listed = {Path(f["path"]) for t in manifest["tables"].values() for f in t["files"]}
    others = {
        path: _done(sha256_file(path))
        for path in build.release_dir.rglob("*")
        if path.is_file() and path.relative_to(build.release_dir) not in listed
    }
    manifest["other_files"] = _file_entries(build.release_dir, others)
    staged = build.release_dir / f"{MANIFEST}.building"
    staged.write_text(json.dumps(manifest, indent=1, default=str))
    staged.rename(build.release_dir / MANIFEST)
    return manifest


def _entries(build: _Build) -> list[CatalogEntry]:
    """The tables as written (an empty one is not partitioned) with their files."""
    return [
        CatalogEntry(table, tuple(sorted(hashes)), rows) for table, rows, hashes in build.written.values()
    ]


def _done(value: str) -> Future:
    future: Future = Future()
    future.set_result(value)
    return future


def publish(
    *,
    warehouse: Path,
    manifest: dict,
    store: ReleaseStore,
    checks: CheckSummary,
    run_id: str | None = None,
    keep: int = 3,
    restricted: ReleaseStore | None = None,
    docs: Callable[[Path], Path] | None = None,
    log: Callable[[str], None] = print,
    native_max_rows: int = NATIVE_MAX_ROWS,
) -> PublishedRelease:
    """Write a complete release from the warehouse, switch readers to it, keep the newest `keep`.

    `docs(catalog)` returns a folder of dbt docs built against the release's catalog (docs.py).
    """
    if checks.blocking_failures:
        raise ReleaseBlocked(
            f"{len(checks.blocking_failures)} blocking check(s) failed, so nothing was published and "
            f"the last good release stays current: {', '.join(checks.blocking_failures)}"
        )
    started = time.perf_counter()
    tables = published.published_tables(manifest)
    open_tables = published.for_access(tables, published.OPEN)
    restricted_tables = published.for_access(tables, published.RESTRICTED)
    _check_open_release(open_tables)
    built_at = datetime.now(UTC)
    release_id = new_release_id(run_id, built_at)
    stores = [store] if restricted is None else [store, restricted]
    with store.publishing():
        for each in stores:
            removed = each.discard_incomplete()
            if removed:
                log(f"removed what an interrupted publish left under {each.releases_dir}: {removed}")
        builds = [_Build(store, store.release_dir(release_id), published.OPEN, open_tables)]
        if restricted is not None:
            builds.append(
                _Build(
                    restricted, restricted.release_dir(release_id), published.RESTRICTED, restricted_tables
                )
            )
        try:
            with connect(warehouse, read_only=True) as conn:
                absent = [t.relation for t in tables if not table_exists(conn, t.schema, t.name)]
                if absent:
                    raise ReleaseBlocked(
                        f"the warehouse {warehouse} has no {', '.join(absent)}: build them first "
                        "(`make run`); nothing was published"
                    )
                facts = {
                    "release_id": release_id,
                    "built_at": built_at.isoformat(),
                    "run_id": run_id,
                    "dbt_manifestsha256_file": hashlib.sha256(
                        json.dumps(manifest["metadata"], sort_keys=True).encode()
                        + json.dumps(sorted(manifest["nodes"])).encode()
                    ).hexdigest(),
                    "checks": {
                        "passed": checks.passed,
                        "warned": checks.warned,
                        "failed": checks.failed,
                        "source": checks.source,
                        "blocking_failures": list(checks.blocking_failures),
                    },
                    **_provenance(conn),
                }
                with ThreadPoolExecutor(max_workers=2) as hasher:
                    for build in builds:
                        if build.access == published.RESTRICTED:
                            build.release_dir.mkdir(parents=True)
                            build.release_dir.chmod(0o700)
                            build.store.root.chmod(0o700)
                        else:
                            build.release_dir.mkdir(parents=True)
                        _write_build(conn, build, hasher, log, csv_extracts=build.access == published.OPEN)
                    open_entries = _entries(builds[0])
                    _finish_build(builds[0], open_entries, facts, docs, native_max_rows)
                    if restricted is not None:
                        entries = open_entries + _entries(builds[1])
                        _finish_build(builds[1], entries, facts, docs, native_max_rows)
        except BaseException as exc:
            for build in builds:
                shutil.rmtree(build.release_dir, ignore_errors=True)
            if isinstance(exc, duckdb.IOException | OSError):
                raise ReleaseWriteError(
                    f"could not write release {release_id} under {store.root}: {exc}. Nothing was "
                    f"published; the last good release ({_current_or_none(store)}) stays current."
                ) from exc
            raise
        for build in reversed(builds):  # the restricted catalog reads the open files: both exist now
            build.store.switch_to(release_id)
        pruned = [r for each in stores for r in each.prune(keep)]
    size = sum(f.stat().st_size for f in builds[0].release_dir.rglob("*") if f.is_file())
    return PublishedRelease(
        release_id=release_id,
        path=builds[0].release_dir,
        tables={relation: rows for relation, (_, rows, _) in builds[0].written.items()},
        bytes=size,
        seconds=time.perf_counter() - started,
        restricted_path=builds[1].release_dir if restricted is not None else None,
        pruned=pruned,
    )


def _current_or_none(store: ReleaseStore) -> str:
    try:
        return store.current_id()
    except LookupError:
        return "none yet"
