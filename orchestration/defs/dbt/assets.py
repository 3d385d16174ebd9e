"""dbt models as Dagster assets, split by how they are rebuilt.

- `dbt_monthly_models`: incremental models tagged `monthly`, partitioned like the feeds; a
  backfill of any range is one `dbt build` with that month window as vars.
- `dbt_reference_models`: everything else (seeds, staging views, dimensions), rebuilt whole.
dbt tests run inside `dbt build` and surface as asset checks.
"""

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.defs.dbt.project import dbt_project
from orchestration.lib.dbt_translator import CommissioningTranslator
from orchestration.lib.dbt_vars import dbt_build_args, partition_vars
from orchestration.lib.partitions import MONTHLY
from orchestration.lib.warehouse import WRITER_POOL

MONTHLY_SELECTOR = "tag:monthly"


class DbtRunConfig(dg.Config):
    full_refresh: bool = False


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    select=MONTHLY_SELECTOR,
    partitions_def=MONTHLY,
    backfill_policy=dg.BackfillPolicy.single_run(),
    dagster_dbt_translator=CommissioningTranslator(),
    name="dbt_monthly_models",
    pool=WRITER_POOL,
)
def dbt_monthly_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtRunConfig):
    window = context.partition_time_window
    args = dbt_build_args(partition_vars(window.start, window.end), full_refresh=config.full_refresh)
    yield from dbt.cli(args, context=context).stream()


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    exclude=MONTHLY_SELECTOR,
    dagster_dbt_translator=CommissioningTranslator(),
    name="dbt_reference_models",
    pool=WRITER_POOL,
)
def dbt_reference_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtRunConfig):
    yield from dbt.cli(dbt_build_args(full_refresh=config.full_refresh), context=context).stream()


assets = [dbt_monthly_models, dbt_reference_models]
