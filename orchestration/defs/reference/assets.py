"""Load assets for the reference feeds (ODS, practice map, registered patients)."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.reference import feeds
from orchestration.lib.load_assets import monthly_feed_asset, snapshot_feed_asset

GROUP = "reference"

ods_epraccur = snapshot_feed_asset(feeds.EPRACCUR, GROUP)
ods_eccg = snapshot_feed_asset(feeds.ECCG, GROUP)
gp_practice_map = monthly_feed_asset(feeds.GP_PRACTICE_MAP, GROUP)
# Validated against the same month's practice map (unknown practices), so the map loads first.
gp_registered_patients = monthly_feed_asset(
    feeds.GP_REGISTERED_PATIENTS, GROUP, deps=[dg.AssetKey(["raw", feeds.GP_PRACTICE_MAP.name])]
)

assets = [ods_epraccur, ods_eccg, gp_practice_map, gp_registered_patients]
