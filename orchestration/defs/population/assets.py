"""Load assets for deprivation (IoD File 7) and the ONS LSOA → sub-ICB lookup."""

from __future__ import annotations

from orchestration.defs.population import feeds
from orchestration.lib.load_assets import snapshot_feed_asset

GROUP = "population"

iod_file7 = snapshot_feed_asset(feeds.IOD_FILE7, GROUP)
ons_lsoa_commissioner_lookup = snapshot_feed_asset(feeds.LSOA_LOOKUP, GROUP)

assets = [iod_file7, ons_lsoa_commissioner_lookup]
