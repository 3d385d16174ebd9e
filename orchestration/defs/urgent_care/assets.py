"""Load assets for urgent and emergency care: the monthly A&E SitRep and record-level ECDS."""

from __future__ import annotations

from orchestration.defs.urgent_care import feeds
from orchestration.lib.load_assets import monthly_feed_asset

GROUP = "urgent_care"

ae_monthly = monthly_feed_asset(feeds.AE_MONTHLY, GROUP)
ecds = monthly_feed_asset(feeds.ECDS, GROUP)

assets = [ae_monthly, ecds]
