"""Schedules at the reference feeds' publication cadence.

Patients Registered at a GP Practice (list sizes and the practice map) is published around
mid-month for the 1st of that month; ODS epraccur is refreshed quarterly.
"""

import dagster as dg

from orchestration.defs.reference import assets

monthly_reference_job = dg.define_asset_job(
    "monthly_reference_load",
    selection=dg.AssetSelection.assets(assets.gp_practice_map, assets.gp_registered_patients).downstream(),
    description="Load a month of list sizes and the practice map, validate, and rebuild the marts.",
)

ods_job = dg.define_asset_job(
    "ods_reference_load",
    # The monthly models are rebuilt by the monthly job; an unpartitioned run cannot build them.
    selection=dg.AssetSelection.assets(assets.ods_epraccur, assets.ods_eccg).downstream()
    - dg.AssetSelection.tag("monthly", ""),
    description="Load new ODS releases, validate, and rebuild the dimensions.",
)


@dg.schedule(cron_schedule="0 6 20 * *", job=monthly_reference_job, execution_timezone="Europe/London")
def monthly_reference_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """On the 20th, load the month published for the 1st of that month."""
    month = context.scheduled_execution_time.date().replace(day=1)
    return dg.RunRequest(partition_key=month.isoformat(), run_key=f"reference-{month:%Y-%m}")


ods_quarterly_schedule = dg.ScheduleDefinition(
    name="ods_quarterly_schedule",
    job=ods_job,
    cron_schedule="0 6 5 1,4,7,10 *",
    execution_timezone="Europe/London",
    description="ODS publishes epraccur quarterly; new or changed releases are loaded.",
)

schedules = [monthly_reference_schedule, ods_quarterly_schedule]
jobs = [monthly_reference_job, ods_job]
