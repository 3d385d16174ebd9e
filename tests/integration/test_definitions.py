"""The code location loads, with lineage from landing file to mart, checks, schedules, sensor."""

from __future__ import annotations

from datetime import datetime

import dagster as dg
import pytest

from orchestration.defs.reference.feeds import REFERENCE_FEEDS
from tests.helpers import SAMPLE


@pytest.fixture(scope="module")
def defs():
    from orchestration.definitions import defs

    return defs


def _key(text: str) -> dg.AssetKey:
    return dg.AssetKey(text.split("/"))


def test_definitions_load_with_every_feed_and_mart(defs):
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {f"raw/{spec.name}" for spec in REFERENCE_FEEDS} <= keys
    assert {
        "marts/dim_practice",
        "marts/dim_sub_icb",
        "marts/dim_icb",
        "marts/dim_region",
        "marts/fct_registered_population",
        "marts/fct_registered_population_area",
        "reference/esp2013",
    } <= keys


def test_lineage_runs_unbroken_from_the_landing_load_to_the_mart(defs):
    graph = defs.resolve_asset_graph()
    upstream = (
        dg.AssetSelection.assets(_key("marts/fct_registered_population_area")).upstream().resolve(graph)
    )
    for spec in REFERENCE_FEEDS:
        assert _key(f"raw/{spec.name}") in upstream


def test_feed_suites_and_dbt_tests_are_asset_checks(defs):
    checks = {(k.asset_key.to_user_string(), k.name) for k in defs.resolve_asset_graph().asset_check_keys}
    assert ("raw/gp_registered_patients", "structure") in checks
    assert ("raw/gp_registered_patients", "totals") in checks
    assert ("raw/gp_practice_map", "structure") in checks
    assert any(asset == "marts/dim_practice" and name.startswith("unique_") for asset, name in checks)


def test_the_monthly_schedule_asks_for_the_month_just_published(defs):
    schedule = defs.resolve_schedule_def("gp_registered_patients_schedule")
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(2022, 3, 20, 6), repository_def=defs.get_repository_def()
    )
    (request,) = schedule.evaluate_tick(context).run_requests
    assert request.partition_key == "2022-03-01"


def test_the_landing_sensor_requests_each_month_once_then_nothing(defs, monkeypatch):
    monkeypatch.setenv("LANDING_DIR", str(SAMPLE))
    sensor = defs.resolve_sensor_def("landing_sensor")
    repository = defs.get_repository_def()
    first = sensor.evaluate_tick(dg.build_sensor_context(repository_def=repository))
    from orchestration.definitions import ALL_FEEDS
    from orchestration.lib import landing

    monthly = [r for r in first.run_requests if r.partition_key]
    # one request per feed and delivered month (record-level feeds start in 2022 in the sample)
    assert len(monthly) == sum(
        len(landing.available_periods(spec, SAMPLE)) for spec in ALL_FEEDS if spec.cadence == "monthly"
    )
    assert len(monthly) == 24 * 5 + 12 * 4
    assert {r.partition_key for r in monthly} == {
        f"{y}-{m:02d}-01" for y in (2021, 2022) for m in range(1, 13)
    }
    snapshot = [r for r in first.run_requests if not r.partition_key]
    assert len(snapshot) == sum(1 for spec in ALL_FEEDS if spec.cadence == "snapshot")
    monthly_loads = {_key(f"raw/{spec.name}") for spec in ALL_FEEDS if spec.cadence == "monthly"}
    for request in snapshot:  # a snapshot run rebuilds the models (every month), loads no month
        assert not monthly_loads & set(request.asset_selection)
    (ods,) = [r for r in snapshot if r.tags["landing/feed"] == "ods_epraccur"]
    assert _key("marts/fct_prescribing") in ods.asset_selection  # attribution changes with ODS
    second = sensor.evaluate_tick(dg.build_sensor_context(repository_def=repository, cursor=first.cursor))
    assert second.run_requests == []


def test_definitions_load_as_dagster_dev_does_without_an_activated_venv(tmp_path):
    """`dagster dev` loads the definitions from a shell whose PATH has no venv."""
    import os
    import subprocess
    import sys

    from tests.helpers import REPO_ROOT

    env = {
        **os.environ,
        "PATH": "/usr/bin:/bin",
        "DAGSTER_IS_DEV_CLI": "1",
        "WAREHOUSE_PATH": str(tmp_path / "w.duckdb"),
    }
    result = subprocess.run(
        [sys.executable, "-c", "from orchestration.definitions import defs; defs.resolve_asset_graph()"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def test_the_pack_is_built_after_the_release_and_the_gap_report_and_printed_after_that(defs):
    graph = defs.resolve_asset_graph()
    pack = graph.get(_key("reports/commissioning_pack"))
    assert {_key("release/published"), _key("reports/gap_report")} <= set(pack.parent_keys)
    assert set(graph.get(_key("reports/commissioning_pack_pdf")).parent_keys) == {pack.key}
    checks = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}
    assert ("reports/commissioning_pack", "pack_covers_every_area") in checks
    assert ("reports/commissioning_pack_pdf", "every_pack_page_has_its_pdf") in checks
