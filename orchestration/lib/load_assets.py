"""Dagster assets for any `FeedSpec`: load the landing files, then validate what was loaded.

Two shapes, one loader underneath:
- monthly feeds are monthly-partitioned; a backfill is one run (`BackfillPolicy.single_run`)
  that loads each month of its range in its own transaction;
- snapshot feeds (ODS releases) are unpartitioned; a run loads every release folder whose
  file changed since it was last loaded, and leaves the others alone.

After loading, each of the feed's suites in `expectations/` runs on a read-only connection and
is reported as an asset check; error-severity checks are blocking, so downstream models do not
build on a broken load.
"""

from collections.abc import Iterator, Sequence
from datetime import date

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from orchestration.lib import data_docs, landing, loader, settings, validation
from orchestration.lib.column_schema import feed_column_schema
from orchestration.lib.dbt_vars import months_between
from orchestration.lib.feed_spec import FeedSpec
from orchestration.lib.partitions import MONTHLY
from orchestration.lib.warehouse import WRITER_POOL, connect

DATA_DOCS_DIR = "data_docs"


def check_name(suite: validation.SuiteFile) -> str:
    return suite.name.split("__", 1)[-1]


def feed_check_specs(spec: FeedSpec, key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            name=check_name(suite),
            asset=key,
            description=suite.description,
            blocking=suite.severity == "error",
        )
        for suite in validation.suite_files(spec.name)
    ]


def suite_check_result(outcome: validation.SuiteOutcome, key: dg.AssetKey) -> dg.AssetCheckResult:
    severity = dg.AssetCheckSeverity.ERROR if outcome.severity == "error" else dg.AssetCheckSeverity.WARN
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=check_name(outcome.suite),
        passed=outcome.passed,
        severity=severity,
        description=outcome.suite.description,
        metadata={
            "suite": dg.MetadataValue.path(str(outcome.suite.path)),
            "rows_validated": outcome.rows_validated,
            "expectations_evaluated": outcome.evaluated,
            "expectations_failed": len(outcome.failed),
            "failures": dg.MetadataValue.md(
                "\n".join(f"- {f.describe()} — {f.why}" for f in outcome.failed) or "none"
            ),
            "unexpected_rows": sum(f.unexpected_count or 0 for f in outcome.failed),
        },
    )


def _validate(
    spec: FeedSpec, key: dg.AssetKey, database: str, first: date | None, last: date | None
) -> Iterator[dg.AssetCheckResult]:
    """Run the feed's suites read-only, then keep each outcome in `meta.validation_result`
    (the gap report lists the failed ones) and for the GX Data Docs, and report it as an asset
    check."""
    from pathlib import Path

    with connect(Path(database), read_only=True) as conn:
        outcomes = [
            validation.run_suite(conn, suite, first, last) for suite in validation.suite_files(spec.name)
        ]
    with connect(Path(database)) as conn:
        record_outcomes(conn, outcomes, first, last)
    run_name = f"{spec.name} {first:%Y-%m}…{last:%Y-%m}" if first and last else f"{spec.name} releases"
    data_docs.store(outcomes, settings.reports_dir() / DATA_DOCS_DIR, run_name=run_name)
    for outcome in outcomes:
        yield suite_check_result(outcome, key)


def record_outcomes(
    conn: duckdb.DuckDBPyConnection,
    outcomes: Sequence[validation.SuiteOutcome],
    first: date | None,
    last: date | None,
) -> None:
    """Replace the stored result of each suite for this period window."""
    loader.ensure_meta(conn)
    conn.execute("begin transaction")
    for outcome in outcomes:
        conn.execute(
            "delete from meta.validation_result where suite = ? "
            "and period_start is not distinct from ? and period_end is not distinct from ?",
            [outcome.suite.name, first, last],
        )
        conn.execute(
            "insert into meta.validation_result "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, current_localtimestamp())",
            [
                outcome.suite.feed,
                outcome.suite.name,
                check_name(outcome.suite),
                outcome.severity if outcome.failed else outcome.suite.severity,
                outcome.passed,
                outcome.rows_validated,
                outcome.evaluated,
                len(outcome.failed),
                sum(f.unexpected_count or 0 for f in outcome.failed),
                "\n".join(f"{f.describe()} — {f.why}" for f in outcome.failed),
                first,
                last,
            ],
        )
    conn.execute("commit")


def _load_metadata(results: Sequence[loader.LoadResult]) -> dict[str, object]:
    reasons: dict[str, int] = {}
    for result in results:
        for reason, count in result.quarantine_reasons.items():
            reasons[reason] = reasons.get(reason, 0) + count
    return {
        "periods_loaded": dg.MetadataValue.text(", ".join(f"{r.period:%Y-%m}" for r in results)),
        "rows_loaded": sum(r.rows_loaded for r in results),
        "rows_quarantined": sum(r.rows_quarantined for r in results),
        "quarantine_reasons": dg.MetadataValue.json(reasons),
        "schema_variants": dg.MetadataValue.text(", ".join(sorted({v for r in results for v in r.variants}))),
        "source_files": dg.MetadataValue.md(
            "\n".join(
                f"- `{f.path}` ({f.variant.name}, sha256 {f.sha256[:12]}…)" for r in results for f in r.files
            )
        ),
    }


def monthly_feed_asset(spec: FeedSpec, group: str, deps: Sequence[dg.AssetKey] = ()) -> dg.AssetsDefinition:
    key = dg.AssetKey(["raw", spec.name])

    @dg.asset(
        key=key,
        group_name=group,
        description=f"{spec.title}. {spec.description} Published by {spec.publisher}.",
        partitions_def=MONTHLY,
        backfill_policy=dg.BackfillPolicy.single_run(),
        check_specs=feed_check_specs(spec, key),
        deps=list(deps),
        pool=WRITER_POOL,
        kinds={"duckdb", "csv"},
        metadata={
            "landing_folder": dg.MetadataValue.path(str(landing.feed_dir(spec))),
            "dagster/column_schema": feed_column_schema(spec),
        },
    )
    def _asset(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
        window = context.partition_time_window
        months = months_between(window.start.date(), window.end.date())[:-1]
        # A feed is expected from its first delivery on: months before it are not gaps (a feed
        # taken on in 2022 has no 2021 files), months after it with no file are.
        delivered = landing.available_periods(spec)
        window_months = months
        before = [m for m in months if delivered and m < delivered[0]]
        if before:
            context.log.info(
                f"{spec.name}: {len(before)} month(s) before its first delivery "
                f"({delivered[0]:%Y-%m}) are not expected and were skipped"
            )
            months = [m for m in months if m >= delivered[0]]
        results, missing = [], []
        with duckdb.get_connection() as conn:
            loader.ensure_raw_table(conn, spec)
            for index, month in enumerate(months, start=1):
                try:
                    found = landing.files_for_period(spec, month)
                except loader.MissingSubmission as exc:
                    missing.append(str(exc))
                    continue
                result = loader.load_period(conn, spec, month, found.files)
                results.append(result)
                context.log.info(
                    f"[{index}/{len(months)}] {spec.name} {month:%Y-%m}: {result.rows_loaded:,} rows "
                    f"loaded, {result.rows_quarantined:,} quarantined ({', '.join(result.variants)})"
                    + (f"; superseded {[p.name for p in found.superseded]}" if found.superseded else "")
                )
        if missing:
            raise loader.MissingSubmission(
                f"{len(missing)} month(s) have no file; the {len(results)} that do were loaded:\n"
                + "\n".join(missing)
            )
        metadata = _load_metadata(results)
        metadata["months_before_first_delivery"] = len(before)
        yield dg.MaterializeResult(asset_key=key, metadata=metadata)
        yield from _validate(spec, key, duckdb.database, window_months[0], window_months[-1])

    return _asset


def snapshot_feed_asset(spec: FeedSpec, group: str) -> dg.AssetsDefinition:
    key = dg.AssetKey(["raw", spec.name])

    @dg.asset(
        key=key,
        group_name=group,
        description=f"{spec.title}. {spec.description} Published by {spec.publisher}; "
        "each release folder is loaded once and reloaded only when its file changes.",
        check_specs=feed_check_specs(spec, key),
        pool=WRITER_POOL,
        kinds={"duckdb", "csv"},
        metadata={
            "landing_folder": dg.MetadataValue.path(str(landing.feed_dir(spec))),
            "dagster/column_schema": feed_column_schema(spec),
        },
    )
    def _asset(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
        periods = landing.available_periods(spec)
        if not periods:
            raise loader.MissingSubmission(
                f"{spec.title}: no release in {landing.feed_dir(spec)} (expected <YYYY-MM>/ folders)"
            )
        results, unchanged = [], 0
        with duckdb.get_connection() as conn:
            loader.ensure_meta(conn)
            loaded = {
                (row[0], row[1])
                for row in conn.execute(
                    "select _period, sha256 from meta.load_log where feed = ?", [spec.name]
                ).fetchall()
            }
            for period in periods:
                found = landing.files_for_period(spec, period)
                if all((period, loader.sha256_of(p)) in loaded for p in found.files):
                    unchanged += 1
                    continue
                result = loader.load_period(conn, spec, period, found.files)
                results.append(result)
                context.log.info(
                    f"{spec.name} release {period:%Y-%m}: {result.rows_loaded:,} rows loaded, "
                    f"{result.rows_quarantined:,} quarantined"
                )
        metadata = _load_metadata(results)
        metadata["releases_unchanged"] = unchanged
        metadata["latest_release"] = dg.MetadataValue.text(f"{periods[-1]:%Y-%m}")
        yield dg.MaterializeResult(asset_key=key, metadata=metadata)
        yield from _validate(spec, key, duckdb.database, None, None)

    return _asset
