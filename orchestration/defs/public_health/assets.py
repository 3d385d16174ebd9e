"""Load assets for the public-health feeds (OHID Fingertips data and metadata).

Their schedules come from the feeds' publication calendar (orchestration/lib/schedules.py).
"""

from __future__ import annotations

from orchestration.defs.public_health import feeds
from orchestration.lib.load_assets import snapshot_feed_asset

GROUP = "public_health"

fingertips_indicator_data = snapshot_feed_asset(feeds.FINGERTIPS_DATA, GROUP)
fingertips_indicator_metadata = snapshot_feed_asset(feeds.FINGERTIPS_METADATA, GROUP)

assets = [fingertips_indicator_data, fingertips_indicator_metadata]
