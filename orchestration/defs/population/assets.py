"""Load assets for deprivation (IoD File 7), the ONS LSOA → sub-ICB lookup and ONS mid-year
population estimates."""

from __future__ import annotations

from orchestration.defs.population import feeds
from orchestration.lib.load_assets import snapshot_feed_asset

GROUP = "population"

iod_file7 = snapshot_feed_asset(feeds.IOD_FILE7, GROUP)
ons_lsoa_commissioner_lookup = snapshot_feed_asset(feeds.LSOA_LOOKUP, GROUP)
ons_mid_year_population = snapshot_feed_asset(feeds.ONS_POPULATION, GROUP)

assets = [iod_file7, ons_lsoa_commissioner_lookup, ons_mid_year_population]
