"""Load assets for record-level hospital activity (HES / SUS admitted care and outpatients)."""

from __future__ import annotations

from orchestration.defs.activity import feeds
from orchestration.lib.load_assets import monthly_feed_asset

GROUP = "activity"

hes_apc = monthly_feed_asset(feeds.HES_APC, GROUP)
hes_opa = monthly_feed_asset(feeds.HES_OPA, GROUP)

assets = [hes_apc, hes_opa]
