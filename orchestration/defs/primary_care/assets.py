"""Load assets for the primary care feeds (Quality and Outcomes Framework): one snapshot asset per
file, a release per financial year in folder `<YYYY>-04`, reloaded only when its files change."""

from __future__ import annotations

from orchestration.defs.primary_care import qof
from orchestration.lib.load_assets import snapshot_feed_asset

GROUP = "primary_care"

qof_prevalence = snapshot_feed_asset(qof.QOF_PREVALENCE, GROUP)
qof_achievement = snapshot_feed_asset(qof.QOF_ACHIEVEMENT, GROUP)

assets = [qof_prevalence, qof_achievement]
