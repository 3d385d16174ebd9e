"""Load assets for the public-health feeds (OHID Fingertips data and metadata)."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.public_health import feeds
from orchestration.lib.load_assets import snapshot_feed_asset

GROUP = "public_health"

fingertips_indicator_data = snapshot_feed_asset(feeds.FINGERTIPS_DATA, GROUP)
fingertips_indicator_metadata = snapshot_feed_asset(feeds.FINGERTIPS_METADATA, GROUP)

assets = [fingertips_indicator_data, fingertips_indicator_metadata]

fingertips_job = dg.define_asset_job(
    "fingertips_load",
    selection=dg.AssetSelection.assets(*assets).downstream() - dg.AssetSelection.tag("monthly", ""),
    description="Load new Fingertips releases, validate, and rebuild the public-health marts.",
)

# Fingertips publishes on a monthly release cycle (first Tuesday of the month, unverified).
fingertips_schedule = dg.ScheduleDefinition(
    name="fingertips_monthly_schedule",
    job=fingertips_job,
    cron_schedule="0 7 8 * *",
    execution_timezone="Europe/London",
    description="After Fingertips' monthly release, load any new or changed download.",
)

jobs = [fingertips_job]
schedules = [fingertips_schedule]
