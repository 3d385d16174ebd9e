"""What a run built, in words a data engineer can act on: assets, checks, rows per mart."""

from __future__ import annotations

import time
from collections import Counter
from datetime import date

import dagster as dg
import duckdb
from dagster._core.errors import DagsterHomeNotSetError

from orchestration.lib import feed_absence, settings
from orchestration.lib.warehouse import connect


def warehouse_counts(wait_seconds: float = 30) -> list[tuple[str, str, int]]:
    """(schema, table, rows) for every table in the raw, marts and meta schemas.

    After a failed step a dbt subprocess may still hold the write lock for a moment: wait for it.
    """
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return _counts()
        except duckdb.IOException:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def _counts() -> list[tuple[str, str, int]]:
    with connect(read_only=True) as conn:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('raw', 'marts', 'share', 'meta') and table_type = 'BASE TABLE' "
            "order by table_schema, table_name"
        ).fetchall()
        return [
            (
                schema,
                table,
                conn.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0],
            )
            for schema, table in tables
        ]


def print_summary(result, elapsed: float, first: date, last: date) -> None:
    materialised = Counter()
    checks = {"passed": [], "failed": []}
    evaluated: set[str] = set()
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            materialised[event.asset_key.to_user_string()] += 1
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            name = f"{data.asset_key.to_user_string()}:{data.check_name}"
            evaluated.add(name)
            if data.passed:
                checks["passed"].append(name)
            else:
                failures = data.metadata.get("failures")
                detail = (
                    "".join(f"\n      {line}" for line in failures.value.splitlines()) if failures else ""
                )
                checks["failed"].append(f"{name} ({data.severity.value.lower()}){detail}")
    not_run = planned_checks(result.run_id) - evaluated
    counts = warehouse_counts() if settings.warehouse_path().exists() else None
    absences = run_absences(result.run_id) if counts is not None else []

    print("\n" + "=" * 78)
    print(
        f"Run {'succeeded' if result.success else 'FAILED'} in {elapsed:.0f} s: "
        f"months {first:%Y-%m} … {last:%Y-%m}"
    )
    print(f"Assets materialised: {len(materialised)}")
    print(
        f"Checks: {len(checks['passed'])} passed, {len(checks['failed'])} failed"
        + (
            f", {len(not_run)} not run (nothing was loaded to check, or a step before them failed)"
            if not_run
            else ""
        )
    )
    for name in sorted(checks["failed"]):
        print(f"  ✗ {name}")
    for line in absence_lines(absences):
        print(line)
    if counts is not None:
        print("\nRows by table:")
        for schema, table, rows in counts:
            print(f"  {schema + '.' + table:<48} {rows:>12,}")
    if not result.success:
        for event in result.all_events:
            if event.event_type_value == "STEP_FAILURE":
                print(f"\nStep failed: {event.step_key}\n{event.event_specific_data.error.message}")
    print()
    for line in report_lines(result):
        print(line)
    for line in release_lines():
        print(line)
    for line in pack_lines(result):
        print(line)
    print("\nOpen the Dagster UI with `make ui` (http://127.0.0.1:3000).")
    print("=" * 78)


def planned_checks(run_id: str) -> set[str]:
    """`asset:check` for every check the run planned. Dagster records the plan in the instance
    when the run is created, not among the run's own events."""
    try:
        instance = dg.DagsterInstance.get()
    except DagsterHomeNotSetError:
        return set()
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED
    ).records
    return {
        f"{data.asset_key.to_user_string()}:{data.check_name}"
        for data in (record.event_log_entry.dagster_event.event_specific_data for record in records)
    }


def run_absences(run_id: str) -> list[feed_absence.Absence]:
    with connect(read_only=True) as conn:
        return feed_absence.of_run(conn, run_id)


def absence_lines(absences: list[feed_absence.Absence]) -> list[str]:
    """The feeds the landing folder did not hold, one line each, then months missing from feeds
    that otherwise arrived (their loads failed)."""
    lines = []
    absent = [a for a in absences if a.kind == feed_absence.FEED_ABSENT]
    if absent:
        lines.append(
            f"\nFeeds absent: {len(absent)} (a data gap, not a failure: their raw tables are empty or "
            "as loaded before, their checks did not run, and the marts built from them are empty or "
            "provisional; see marts.dq_gap_summary and the gap report)"
        )
        lines += [f"  - {a.detail}" for a in absent]
    missing = [a for a in absences if a.kind == feed_absence.MISSING_MONTH]
    if missing:
        lines.append(f"\nMonths missing from feeds that otherwise arrived: {len(missing)} feed(s)")
        lines += [f"  - {a.detail}" for a in missing]
    return lines


def report_lines(result) -> list[str]:
    """Where this run's gap report and GX Data Docs are (static pages, open from the folder)."""
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION" and event.asset_key.to_user_string() == (
            "reports/gap_report"
        ):
            metadata = event.event_specific_data.materialization.metadata
            lines = [f"Gap report: {metadata['report'].value} ({metadata['pages'].value} pages)"]
            if "data_docs" in metadata and metadata["data_docs"].value != "not built":
                lines.append(f"  validation results (GX Data Docs): {metadata['data_docs'].value}")
            return lines
    return ["No gap report was written by this run (a step before it failed)."]


def pack_lines(result) -> list[str]:
    """Where this run's commissioning pack is (static pages and their PDFs)."""
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION" and event.asset_key.to_user_string() == (
            "reports/commissioning_pack"
        ):
            metadata = event.event_specific_data.materialization.metadata
            return [
                f"Commissioning pack: {metadata['pack'].value} ({metadata['pages'].value} pages, "
                f"{metadata['charts'].value} charts; PDFs: {metadata['pdf_folder'].value})"
            ]
    return ["No commissioning pack was written by this run (a step before it failed)."]


def release_lines() -> list[str]:
    """Where BI tools and analysts read the current release (never the private warehouse)."""
    from orchestration.release.store import NoRelease, ReleaseStore

    store = ReleaseStore(settings.publish_dir())
    try:
        manifest = store.manifest()
    except NoRelease:
        return [f"No release published yet under {store.root} (a failed or blocked run publishes nothing)."]
    rows = sum(t["rows"] for t in manifest["tables"].values())
    return [
        f"Published release {manifest['release_id']}: {len(manifest['tables'])} tables, {rows:,} rows.",
        f"  BI tools and analysts read {store.catalog} (DuckDB, read-only)",
        f"  or the Parquet under {store.root / 'current' / 'data'}",
        f"  dbt docs of the release: {store.current_dir() / 'docs' / 'index.html'}",
    ]


def main() -> int:
    for schema, table, rows in warehouse_counts():
        print(f"{schema}.{table}\t{rows}")
    return 0
