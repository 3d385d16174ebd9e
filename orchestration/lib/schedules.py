"""One schedule per feed, at its publisher's calendar (`FeedSpec.publication`).

Each schedule targets a job that loads its feed and rebuilds everything downstream of it (dbt
models, the gap report, the release). A monthly feed's tick asks for the month the release covers
(a release in month M covers M - `lag_months`), with a run key so that a tick is never run twice;
a snapshot feed's tick is an unpartitioned run, which loads every release folder whose file is
new or changed and leaves the others alone. A tick whose file has not landed fails the load with
the folder it looked in, which is the signal that a publisher is late.

Every schedule starts STOPPED, as the landing sensor does: a new user switches on the ones they
want in the Dagster UI (Automation). The feed's freshness check (`lib/freshness.py`) runs inside
each of these runs and every morning, with thresholds from the same calendar.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

import dagster as dg

from orchestration.lib.feed_spec import FeedSpec, Publication
from orchestration.lib.partitions import MONTHLY

TIMEZONE = "Europe/London"


def job_name(spec: FeedSpec) -> str:
    return f"{spec.name}_load"


def schedule_name(spec: FeedSpec) -> str:
    return f"{spec.name}_schedule"


def publication(spec: FeedSpec) -> Publication:
    if spec.publication is None:
        raise ValueError(
            f"feed {spec.name} ({spec.title}) states no publication calendar: give its FeedSpec a "
            "`publication=Publication(...)` with the publisher's cadence, release day and lag"
        )
    return spec.publication


def feed_selection(spec: FeedSpec, specs: Sequence[FeedSpec]) -> dg.AssetSelection:
    """The feed's load asset and everything downstream of it (the schedules' jobs and the landing
    sensor's runs both load this)."""
    selection = dg.AssetSelection.assets(dg.AssetKey(["raw", spec.name])).downstream()
    if spec.cadence != "monthly":
        # A monthly load that waits on this feed (raw/epd waits on raw/ods_epraccur) needs a month,
        # which an unpartitioned run does not have; that feed's own schedule loads it.
        monthly = [dg.AssetKey(["raw", other.name]) for other in specs if other.cadence == "monthly"]
        selection = selection - dg.AssetSelection.assets(*monthly)
    return selection


def feed_job(spec: FeedSpec, specs: Sequence[FeedSpec]) -> dg.UnresolvedAssetJobDefinition:
    """Load the feed, validate it, and rebuild everything downstream of it."""
    return dg.define_asset_job(
        job_name(spec),
        selection=feed_selection(spec, specs),
        description=f"Load {spec.title}, validate it, and rebuild everything downstream of it.",
    )


def _tick_date(context: dg.ScheduleEvaluationContext) -> date:
    """The tick's date in London (now, when the schedule is evaluated outside a tick)."""
    when = context.scheduled_execution_time or datetime.now(ZoneInfo(TIMEZONE))
    return when.astimezone(ZoneInfo(TIMEZONE)).date()


def feed_schedule(spec: FeedSpec, job: dg.UnresolvedAssetJobDefinition) -> dg.ScheduleDefinition:
    calendar = publication(spec)
    first_month = MONTHLY.start.date()

    @dg.schedule(
        name=schedule_name(spec),
        cron_schedule=calendar.cron,
        job=job,
        execution_timezone=TIMEZONE,
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description=f"{spec.title} ({spec.publisher}). {calendar.describe()}",
    )
    def _schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        released = _tick_date(context)
        if spec.cadence != "monthly":
            return dg.RunRequest(run_key=f"{spec.name}-{released.isoformat()}")
        month = calendar.period_released(released)
        if month < first_month:
            return dg.SkipReason(
                f"{spec.name}: the release of {released} covers {month:%Y-%m}, "
                f"before the first partition ({first_month:%Y-%m})"
            )
        if not MONTHLY.has_partition_key(month.isoformat()):
            return dg.SkipReason(
                f"{spec.name}: {month:%Y-%m} is after the partitions' last month (the calendar ends "
                "with the shipped sample; set PARTITIONS_END or point LANDING_DIR at your feeds)"
            )
        return dg.RunRequest(partition_key=month.isoformat(), run_key=f"{spec.name}-{month:%Y-%m}")

    return _schedule


def feed_schedules(specs: Sequence[FeedSpec]) -> list[dg.ScheduleDefinition]:
    """One schedule per feed, each with its own load job (reachable as `schedule.job`)."""
    return [feed_schedule(spec, feed_job(spec, specs)) for spec in specs]


def schedule_table(specs: Sequence[FeedSpec]) -> str:
    """The feeds' calendars as the Markdown table in the README (a test keeps the two equal)."""
    lines = [
        "| Feed | Schedule (Europe/London) | A tick in month M loads | Stale after (warn / error) |",
        "|---|---|---|---|",
    ]
    for spec in specs:
        calendar = publication(spec)
        if spec.cadence == "monthly":
            when = f"monthly, day {calendar.day}"
            loads = f"month M-{calendar.lag_months}" if calendar.lag_months else "month M"
        else:
            months = ", ".join(date(2000, m, 1).strftime("%b") for m in sorted(calendar.months))
            when = f"{calendar.cadence}, {calendar.day} {months}"
            loads = "new or changed releases"
        stale = (
            f"{calendar.freshness[0]} / {calendar.freshness[1]} days" if calendar.freshness else "no check"
        )
        approximate = " (approx.)" if calendar.approximate else ""
        lines.append(f"| `{spec.name}` | {when}, {calendar.hour:02d}:00{approximate} | {loads} | {stale} |")
    return "\n".join(lines)
