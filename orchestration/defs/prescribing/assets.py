"""Load asset for the English Prescribing Dataset (monthly, one file a month).

Its suites (expectations/epd__*.json) check cost centres against ODS epraccur, so ODS loads first.
"""

from __future__ import annotations

import dagster as dg

from orchestration.defs.prescribing import feeds
from orchestration.defs.reference.feeds import EPRACCUR
from orchestration.lib.load_assets import monthly_feed_asset

GROUP = "prescribing"

epd = monthly_feed_asset(feeds.EPD, GROUP, deps=[dg.AssetKey(["raw", EPRACCUR.name])])

assets = [epd]
