"""Feed freshness as Dagster asset checks: days since the feed was last loaded (the `loaded_at`
the loader stamps in `meta.load_log`, the same time dbt's source freshness reads from
`_loaded_at`) against the publisher's calendar (`FeedSpec.publication`, whose cadence gives the
thresholds: monthly feeds warn after 35 days and fail after 45, quarterly after 100 and 130,
annual after 380 and 450, unless the publisher's dates move more). Every feed published on a
cadence has one; an irregular release (the Indices of Deprivation) has none, and says why.

Dagster's `build_last_update_freshness_checks` takes one threshold per check and judges the
asset's materialisation time; a feed needs a warning and an error threshold and is judged on
when its data were loaded, so the check is written here. The checks run after each load and
every morning (`freshness_schedule`), so a feed that stopped arriving is flagged even when
nothing runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration.lib.feed_spec import FeedSpec
from orchestration.lib.warehouse import WRITER_POOL, table_exists

CHECK_NAME = "freshness"


def judge(spec: FeedSpec, last_loaded: datetime | None, now: datetime) -> tuple[bool, str, float | None]:
    """(passed, severity 'warn'|'error', days since the last load) for a feed's freshness."""
    warn_days, error_days = spec.freshness
    if last_loaded is None:
        return False, "error", None
    age = (now - last_loaded).total_seconds() / 86400
    if age <= warn_days:
        return True, "warn", age
    return False, "warn" if age <= error_days else "error", age


def freshness_check(spec: FeedSpec) -> dg.AssetChecksDefinition:
    warn_days, error_days = spec.freshness
    key = dg.AssetKey(["raw", spec.name])

    @dg.asset_check(
        asset=key,
        name=CHECK_NAME,
        description=(
            f"{spec.title}: loaded within {warn_days} days (warn) / {error_days} days (error). "
            f"{spec.publication.describe() if spec.publication else ''}"
        ).strip(),
        pool=WRITER_POOL,
    )
    def _check(duckdb: DuckDBResource) -> dg.AssetCheckResult:
        now = datetime.now(UTC).replace(tzinfo=None)
        with duckdb.get_connection() as conn:
            row = (
                conn.execute(
                    "select max(loaded_at), max(_period) from meta.load_log where feed = ?", [spec.name]
                ).fetchall()[0]
                if table_exists(conn, "meta", "load_log")
                else (None, None)
            )
            absent = (
                row[0] is None
                and table_exists(conn, "meta", "feed_absence")
                and conn.execute(
                    "select landing_folder from meta.feed_absence where feed = ? and kind = 'feed_absent' "
                    "order by recorded_at desc limit 1",
                    [spec.name],
                ).fetchall()
            )
        passed, severity, age = judge(spec, row[0], now)
        if absent:  # a feed this warehouse does not hold: a data gap, reported, not an outage
            severity = "warn"
        return dg.AssetCheckResult(
            passed=passed,
            severity=dg.AssetCheckSeverity.ERROR if severity == "error" else dg.AssetCheckSeverity.WARN,
            description=(
                f"never delivered: no file in {absent[0][0]} (a data gap in meta.feed_absence)"
                if absent
                else "never loaded"
                if age is None
                else f"last loaded {age:.0f} days ago (warn after {warn_days}, error after {error_days})"
            ),
            metadata={
                "last_loaded_at": dg.MetadataValue.text(str(row[0]) if row[0] else "never"),
                "latest_period": dg.MetadataValue.text(f"{row[1]:%Y-%m}" if row[1] else "none"),
                "days_since_load": round(age, 1) if age is not None else -1,
                "warn_after_days": warn_days,
                "error_after_days": error_days,
            },
        )

    return _check


def freshness_checks(specs: Sequence[FeedSpec]) -> list[dg.AssetChecksDefinition]:
    """One freshness check per feed that has a cadence to keep (a publication calendar that is
    not irregular)."""
    return [freshness_check(spec) for spec in specs if spec.freshness]


def freshness_schedule(checks: Sequence[dg.AssetChecksDefinition]) -> dg.ScheduleDefinition:
    job = dg.define_asset_job(
        "feed_freshness",
        selection=dg.AssetSelection.checks(*checks),
        description="Check every feed's freshness against its publication cadence.",
    )
    return dg.ScheduleDefinition(
        name="feed_freshness_schedule",
        job=job,
        cron_schedule="0 7 * * *",
        execution_timezone="Europe/London",
        description="Every morning: which feeds have not been loaded within their cadence.",
    )
