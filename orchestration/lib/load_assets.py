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

import dataclasses
from collections.abc import Iterator, Sequence
from datetime import date

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from orchestration.lib import data_docs, feed_absence, landing, loader, settings, validation
from orchestration.lib.column_schema import feed_column_schema
from orchestration.lib.dbt_vars import months_between
from orchestration.lib.feed_absence import FEED_ABSENT, MISSING_MONTH
from orchestration.lib.feed_spec import FeedSpec
from orchestration.lib.load_errors import MisfiledDelivery
from orchestration.lib.partitions import MONTHLY
from orchestration.lib.warehouse import WRITER_POOL, connect

DATA_DOCS_DIR = "data_docs"
# Staged rows switched in (and judged) together: a backfill of a small feed is one transaction
# and one judgement; a national EPD backfill switches every month or two, bounding temp storage.
STAGED_ROWS_PER_SWITCH = 20_000_000


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


def blocking_judge(spec: FeedSpec) -> loader.Judge:
    """The feed's error-severity suites, run on the writer's connection inside the switch's
    transaction: they judge the month as the warehouse would hold it, before it is committed."""
    suites = [suite for suite in validation.suite_files(spec.name) if suite.severity == "error"]

    def judge(conn: duckdb.DuckDBPyConnection, first: date | None, last: date | None):
        outcomes = [validation.run_suite(conn, suite, first, last) for suite in suites]
        return not any(o.failed and o.severity == "error" for o in outcomes), outcomes

    return judge


def merged_judgements(committed: loader.CommitOutcome) -> dict[str, validation.SuiteOutcome]:
    """One outcome per blocking suite from every judgement of a load (one per batch, or one per
    month once a batch was refused); a refused month's failures say which month they are."""
    merged: dict[str, validation.SuiteOutcome] = {}
    for first, _last, outcomes in committed.judgements:
        for outcome in outcomes:
            refused = first in committed.refused
            failed = [
                dataclasses.replace(f, why=f"{first:%Y-%m} refused, previous data kept: {f.why}")
                if refused and first
                else f
                for f in outcome.failed
            ]
            held = merged.get(outcome.suite.name)
            if held is None:
                merged[outcome.suite.name] = dataclasses.replace(outcome, failed=failed)
                continue
            held.rows_validated += outcome.rows_validated
            held.failed += failed
            if failed and (held.gx_result is None or held.gx_result.success):
                held.gx_result = outcome.gx_result
    return merged


def _validate(
    spec: FeedSpec,
    key: dg.AssetKey,
    database: str,
    first: date | None,
    last: date | None,
    judged: dict[str, validation.SuiteOutcome] | None = None,
) -> Iterator[dg.AssetCheckResult]:
    """Report every suite of the feed: the blocking ones as they judged the staged months before
    the switch (`judged`), the others run read-only on what was committed. Each outcome is kept
    in `meta.validation_result` (the gap report lists the failed ones) and for the GX Data
    Docs."""
    from pathlib import Path

    judged = judged or {}
    suites = validation.suite_files(spec.name)
    with connect(Path(database), read_only=True) as conn:
        outcomes = [
            judged.get(suite.name) or validation.run_suite(conn, suite, first, last) for suite in suites
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


_ABSENT_CONSEQUENCES = (
    "raw.{spec.name} is left as it was (empty if never loaded), its checks did not run, and the "
    "marts built from it are empty or marked provisional (marts.dq_gap_summary)"
)


def _no_checks(
    context: dg.AssetExecutionContext,
    spec: FeedSpec,
    key: dg.AssetKey,
    metadata: dict[str, object],
    reason: str,
) -> Iterator[dg.MaterializeResult | dg.Output]:
    """The materialisation of a load with nothing to validate, and no check result.

    A suite run on an empty table would pass or fail on nothing, and a result with passed=True
    would be a false pass, so no result is reported. Each check's output is still emitted (the
    `Output` an `AssetCheckResult` is turned into, without its evaluation): the step succeeds,
    blocking checks do not hold back the marts downstream, and Dagster keeps the checks as
    planned, never evaluated, which it shows as skipped once the run has succeeded. Why they
    did not run is on the materialisation.
    """
    names = [check_name(suite) for suite in validation.suite_files(spec.name)]
    yield dg.MaterializeResult(
        asset_key=key,
        metadata={
            **metadata,
            "checks_not_run": dg.MetadataValue.text(f"{', '.join(names) or 'none'}: {reason}"),
        },
    )
    for check_key in sorted(context.selected_asset_check_keys, key=lambda k: k.name):
        if check_key.asset_key == key:
            yield dg.Output(
                None, output_name=context.assets_def.get_output_name_for_asset_check_key(check_key)
            )


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
        folder = landing.feed_dir(spec)
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
        with duckdb.get_connection() as conn:
            loader.ensure_raw_table(conn, spec)
            if not months:  # the whole window is before the feed's first delivery
                feed_absence.record(conn, spec, folder, window_months, [], FEED_ABSENT, "", context.run_id)
                yield from _no_checks(
                    context, spec, key, {"months_before_first_delivery": len(before)}, "no month is expected"
                )
                return
            if not set(months) & set(delivered) and landing.misfiled_folders(spec):
                raise MisfiledDelivery(landing.misfiled_message(spec, landing.misfiled_folders(spec)))
            if not set(months) & set(delivered):
                # Absent for the whole window: a data gap, not a failed load. The months the
                # warehouse holds from an earlier load keep their data and are not gaps.
                held = feed_absence.loaded_periods(conn, spec.name)
                absent = [m for m in months if m not in held]
                detail = feed_absence.monthly_detail(spec, folder, months, delivered)
                feed_absence.record(conn, spec, folder, months, absent, FEED_ABSENT, detail, context.run_id)
                context.log.warning(f"Feed absent: {detail}. {_ABSENT_CONSEQUENCES.format(spec=spec)}")
                metadata = _load_metadata([])
                metadata["feed_absent"] = dg.MetadataValue.text(detail)
                metadata["months_absent"] = len(absent)
                metadata["months_held_from_earlier_loads"] = len(months) - len(absent)
                yield from _no_checks(context, spec, key, metadata, f"feed absent ({detail})")
                return
        missing, missing_months, committed = [], [], loader.CommitOutcome()
        judge = blocking_judge(spec)
        with duckdb.get_connection() as conn:
            staged: list[loader.StagedPeriod] = []

            def switch() -> None:
                done = loader.commit_periods(conn, staged, judge)
                committed.loaded.extend(done.loaded)
                committed.refused.update(done.refused)
                committed.judgements.extend(done.judgements)
                for result in done.loaded:
                    context.log.info(
                        f"{spec.name} {result.period:%Y-%m}: {result.rows_loaded:,} rows loaded, "
                        f"{result.rows_quarantined:,} quarantined ({', '.join(result.variants)})"
                    )
                for month in done.refused:
                    context.log.error(
                        f"{spec.name} {month:%Y-%m}: refused by the blocking checks; the previous "
                        "data for the month are kept"
                    )
                staged.clear()

            try:
                for index, month in enumerate(months, start=1):
                    try:
                        found = landing.files_for_period(spec, month)
                    except loader.MissingSubmission as exc:
                        missing.append(str(exc))
                        missing_months.append(month)
                        continue
                    staged.append(loader.stage_period(conn, spec, month, found.files))
                    context.log.info(
                        f"[{index}/{len(months)}] {spec.name} {month:%Y-%m}: {staged[-1].rows_good:,} "
                        f"rows read, {staged[-1].rows_bad:,} refused"
                        + (f"; {found.choice}" if found.superseded else "")
                    )
                    if sum(s.rows_good for s in staged) >= STAGED_ROWS_PER_SWITCH:
                        switch()
            finally:  # the months read before a failure still load; the failure is then raised
                switch()
            # A month missing among months that arrived is most likely misfiled or misnamed: the
            # load fails (as it always has) so someone looks, and the gap is recorded either way.
            detail = (
                f"{spec.name}: no file for {', '.join(f'{m:%Y-%m}' for m in missing_months)} in {folder}, "
                f"though {len(committed.loaded)} other month(s) of the run arrived; the load failed"
                if missing_months
                else ""
            )
            feed_absence.record(
                conn, spec, folder, window_months, missing_months, MISSING_MONTH, detail, context.run_id
            )
        misfiled = landing.misfiled_folders(spec)
        if misfiled:  # the months that are filed correctly were loaded; these need a person
            raise MisfiledDelivery(landing.misfiled_message(spec, misfiled))
        if missing:
            raise loader.MissingSubmission(
                f"{len(missing)} month(s) have no file; the {len(committed.loaded)} that do were loaded:\n"
                + "\n".join(missing)
            )
        metadata = _load_metadata(committed.loaded)
        metadata["months_before_first_delivery"] = len(before)
        metadata["months_refused"] = dg.MetadataValue.text(
            ", ".join(f"{m:%Y-%m}" for m in committed.refused) or "none"
        )
        yield dg.MaterializeResult(asset_key=key, metadata=metadata)
        yield from _validate(
            spec, key, duckdb.database, window_months[0], window_months[-1], merged_judgements(committed)
        )

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
        folder = landing.feed_dir(spec)
        results, unchanged = [], 0
        with duckdb.get_connection() as conn:
            loader.ensure_raw_table(conn, spec)
            held = feed_absence.loaded_periods(conn, spec.name)
            if not periods and not held:
                detail = feed_absence.snapshot_detail(spec, folder)
                feed_absence.record(conn, spec, folder, None, [None], FEED_ABSENT, detail, context.run_id)
                context.log.warning(f"Feed absent: {detail}. {_ABSENT_CONSEQUENCES.format(spec=spec)}")
                metadata = _load_metadata([])
                metadata["feed_absent"] = dg.MetadataValue.text(detail)
                yield from _no_checks(context, spec, key, metadata, f"feed absent ({detail})")
                return
            feed_absence.record(conn, spec, folder, None, [], FEED_ABSENT, "", context.run_id)
            if not periods:
                context.log.warning(
                    f"{spec.name}: no release in {folder}; the {len(held)} release(s) loaded before "
                    f"(latest {max(held):%Y-%m}) are kept and validated"
                )
            loaded = {
                (row[0], row[1])
                for row in conn.execute(
                    "select _period, sha256 from meta.load_log where feed = ?", [spec.name]
                ).fetchall()
            }
            staged = []
            for period in periods:
                found = landing.files_for_period(spec, period)
                if all((period, loader.sha256_of(p)) in loaded for p in found.files):
                    unchanged += 1
                    continue
                staged.append(loader.stage_period(conn, spec, period, found.files))
            committed = loader.commit_periods(conn, staged, blocking_judge(spec), windowed=False)
            results = committed.loaded
            for result in results:
                context.log.info(
                    f"{spec.name} release {result.period:%Y-%m}: {result.rows_loaded:,} rows loaded, "
                    f"{result.rows_quarantined:,} quarantined"
                )
            for period in committed.refused:
                context.log.error(
                    f"{spec.name} release {period:%Y-%m}: refused by the blocking checks; the releases "
                    "loaded before are kept"
                )
        metadata = _load_metadata(results)
        metadata["releases_unchanged"] = unchanged
        metadata["latest_release"] = dg.MetadataValue.text(f"{max([*periods, *held]):%Y-%m}")
        metadata["releases_refused"] = dg.MetadataValue.text(
            ", ".join(f"{p:%Y-%m}" for p in committed.refused) or "none"
        )
        yield dg.MaterializeResult(asset_key=key, metadata=metadata)
        yield from _validate(spec, key, duckdb.database, None, None, merged_judgements(committed))

    return _asset
