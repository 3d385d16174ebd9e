"""Assemble the code location: feeds, dbt models, checks, schedules, sensors, resources.

Everything assembled here lives in orchestration/defs/<feed>/ and orchestration/lib/.
"""

from __future__ import annotations

import dagster as dg

from orchestration.defs.activity import assets as activity_assets
from orchestration.defs.catalog import ALL_FEEDS
from orchestration.defs.cost import assets as cost_assets
from orchestration.defs.data_quality import assets as data_quality_assets
from orchestration.defs.dbt import assets as dbt_assets
from orchestration.defs.dbt.project import dbt_resource
from orchestration.defs.experience import assets as experience_assets
from orchestration.defs.pack import assets as pack_assets
from orchestration.defs.population import assets as population_assets
from orchestration.defs.prescribing import assets as prescribing_assets
from orchestration.defs.primary_care import assets as primary_care_assets
from orchestration.defs.public_health import assets as public_health_assets
from orchestration.defs.reference import assets as reference_assets
from orchestration.defs.release import assets as release_assets
from orchestration.defs.share import assets as share_assets
from orchestration.defs.share.checks import share_table_checks
from orchestration.defs.urgent_care import assets as urgent_care_assets
from orchestration.lib import settings
from orchestration.lib.freshness import freshness_checks, freshness_schedule
from orchestration.lib.landing_sensor import build_landing_sensor
from orchestration.lib.schedules import feed_schedules
from orchestration.lib.warehouse_resource import WarehouseResource

settings.export_environment()


# The main job: every asset, for the months of a partition range (see orchestration/run_all.py).
warehouse_job = dg.define_asset_job(
    "materialise_warehouse",
    selection=dg.AssetSelection.all(),
    description="Load every feed, validate, and build every dbt model.",
)

feed_freshness_checks = freshness_checks(ALL_FEEDS)
feed_freshness_schedule = freshness_schedule(feed_freshness_checks)

defs = dg.Definitions(
    assets=[
        *reference_assets.assets,
        *public_health_assets.assets,
        *population_assets.assets,
        *experience_assets.assets,
        *activity_assets.assets,
        *urgent_care_assets.assets,
        *cost_assets.assets,
        *prescribing_assets.assets,
        *primary_care_assets.assets,
        *dbt_assets.assets,
        *data_quality_assets.assets,
        *release_assets.assets,
        *share_assets.assets,
        *pack_assets.assets,
    ],
    asset_checks=[
        *feed_freshness_checks,
        *release_assets.asset_checks,
        *share_assets.asset_checks,
        *pack_assets.asset_checks,
        *share_table_checks(),
    ],
    jobs=[warehouse_job, release_assets.publish_job],  # each feed's load job comes with its schedule
    schedules=[*feed_schedules(ALL_FEEDS), feed_freshness_schedule],
    sensors=[build_landing_sensor(ALL_FEEDS)],
    resources={
        "duckdb": WarehouseResource(
            database=str(settings.warehouse_path()), connection_config=settings.duckdb_config()
        ),
        "dbt": dbt_resource,
    },
    executor=dg.in_process_executor,
)
