"""Every dbt model, seed and test as one Dagster multi-asset, built by one `dbt build` per run.

The incremental models (tagged `monthly`) rebuild the months of the run: one month for a run of
one partition (a schedule or the landing sensor), the range for a backfill or `make run`, every
month for a run that names none (orchestration/lib/dbt_vars.py). The models are not themselves
partitioned: a partitioned and an unpartitioned multi-asset would alternate along the graph
(staging, monthly facts, marts over them …), which Dagster can only run as one dbt invocation
per alternation, each paying dbt's start-up again. dbt tests run inside the build and surface
as asset checks.

Each warehouse keeps its own dbt target folder (`settings.dbt_target_dir()`), so the partial
parse of its last run is reused by the next one.
"""

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.defs.dbt.project import dbt_project
from orchestration.lib import settings
from orchestration.lib.dbt_translator import CommissioningTranslator
from orchestration.lib.dbt_vars import PERIOD_END_ENV, PERIOD_START_ENV, dbt_build_args, window_from_tags
from orchestration.lib.warehouse import WRITER_POOL


class DbtRunConfig(dg.Config):
    full_refresh: bool = False


@contextmanager
def _window_environment(window: Mapping[str, str]) -> Iterator[None]:
    """Set (or clear) the window variables for the dbt subprocess, which copies os.environ."""
    saved = {name: os.environ.get(name) for name in (PERIOD_START_ENV, PERIOD_END_ENV)}
    for name in saved:
        os.environ.pop(name, None)
    os.environ.update(window)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=CommissioningTranslator(),
    name="dbt_models",
    pool=WRITER_POOL,
)
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtRunConfig):
    window = window_from_tags(context.run.tags)
    if window:
        context.log.info(
            f"Incremental models rebuild {window[PERIOD_START_ENV]} … {window[PERIOD_END_ENV]} "
            "(end exclusive)"
        )
    else:
        context.log.info("The run names no months: incremental models rebuild every month")
    target = settings.dbt_target_dir()
    with _window_environment(window):
        args = dbt_build_args(full_refresh=config.full_refresh)
        invocation = dbt.cli(args, context=context, target_path=target)
    yield from invocation.stream()


assets = [dbt_models]
