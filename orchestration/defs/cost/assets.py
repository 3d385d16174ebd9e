"""Load assets for the cost reference feeds: one snapshot asset each, a release per financial
year in folder `<YYYY>-04`, reloaded only when its file changes."""

from __future__ import annotations

from orchestration.defs.cost import feeds
from orchestration.lib.load_assets import snapshot_feed_asset

GROUP = "cost"

tariff_apc_prices = snapshot_feed_asset(feeds.TARIFF_APC_PRICES, GROUP)
tariff_op_attendance_prices = snapshot_feed_asset(feeds.TARIFF_OP_ATTENDANCE_PRICES, GROUP)
ncc_org_unit_costs = snapshot_feed_asset(feeds.NCC_ORG_UNIT_COSTS, GROUP)

assets = [tariff_apc_prices, tariff_op_attendance_prices, ncc_org_unit_costs]
