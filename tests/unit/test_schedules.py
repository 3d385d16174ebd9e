"""Every feed is loaded at its publisher's calendar, and is stale by the same calendar."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from orchestration.defs.activity.feeds import HES_APC
from orchestration.defs.catalog import ALL_FEEDS
from orchestration.defs.prescribing.feeds import EPD
from orchestration.defs.reference.feeds import EPRACCUR, GP_REGISTERED_PATIENTS
from orchestration.defs.urgent_care.feeds import AE_MONTHLY
from orchestration.lib import freshness, schedules
from orchestration.lib.feed_spec import FRESHNESS_BY_CADENCE, Publication
from tests.helpers import REPO_ROOT

LONDON = ZoneInfo("Europe/London")
SNAPSHOT_FEEDS = [spec for spec in ALL_FEEDS if spec.cadence == "snapshot"]


@pytest.fixture(scope="module")
def defs():
    from orchestration.definitions import defs

    return defs


def _tick(defs: dg.Definitions, feed: str, when: datetime) -> dg.ScheduleExecutionData:
    schedule = defs.resolve_schedule_def(f"{feed}_schedule")
    context = dg.build_schedule_context(
        scheduled_execution_time=when.replace(tzinfo=LONDON), repository_def=defs.get_repository_def()
    )
    return schedule.evaluate_tick(context)


def _requested_partition(defs: dg.Definitions, feed: str, when: datetime) -> str | None:
    (request,) = _tick(defs, feed, when).run_requests
    return request.partition_key


def test_every_feed_states_a_publication_calendar_with_its_source():
    for spec in ALL_FEEDS:
        assert spec.publication is not None, spec.name
        assert spec.publication.source, f"{spec.name}: say where the calendar comes from"


def test_every_feed_has_a_stopped_schedule_in_london_time_targeting_its_own_load(defs):
    repository = defs.get_repository_def()
    by_name = {schedule.name: schedule for schedule in repository.schedule_defs}
    for spec in ALL_FEEDS:
        schedule = by_name[f"{spec.name}_schedule"]
        assert schedule.cron_schedule == spec.publication.cron
        assert schedule.execution_timezone == "Europe/London"
        assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
        assert schedule.job_name == f"{spec.name}_load"
    # nothing starts by itself: the freshness schedule and the landing sensor are off too
    assert all(s.default_status == dg.DefaultScheduleStatus.STOPPED for s in repository.schedule_defs)
    assert all(s.default_status == dg.DefaultSensorStatus.STOPPED for s in repository.sensor_defs)


def test_every_feed_published_on_a_cadence_has_a_freshness_check(defs):
    checks = {(k.asset_key.path[-1], k.name) for k in defs.resolve_asset_graph().asset_check_keys}
    for spec in ALL_FEEDS:
        if spec.publication.cadence == "irregular":
            assert spec.freshness is None and spec.publication.note, spec.name
            assert (spec.name, freshness.CHECK_NAME) not in checks
        else:
            assert spec.freshness is not None, spec.name
            assert (spec.name, freshness.CHECK_NAME) in checks, spec.name
    assert [s.name for s in ALL_FEEDS if s.freshness is None] == ["iod_file7"]


def test_freshness_thresholds_come_from_the_publication_calendar():
    for spec in ALL_FEEDS:
        calendar = spec.publication
        assert spec.freshness == (calendar.freshness_days or FRESHNESS_BY_CADENCE.get(calendar.cadence))
    assert EPRACCUR.freshness == (100, 130)
    assert GP_REGISTERED_PATIENTS.freshness == (35, 45)


def test_the_a_and_e_sitrep_tick_asks_for_the_month_before(defs):
    # published on the second Thursday of M+1; loaded on the 15th
    assert AE_MONTHLY.publication.cron == "0 6 15 * *"
    assert _requested_partition(defs, "ae_monthly", datetime(2022, 5, 15, 6)) == "2022-04-01"
    assert _requested_partition(defs, "ae_monthly", datetime(2023, 1, 15, 6)) == "2022-12-01"


def test_the_prescribing_tick_asks_for_the_month_two_before(defs):
    assert EPD.publication.lag_months == 2
    assert _requested_partition(defs, "epd", datetime(2022, 6, 28, 6)) == "2022-04-01"
    assert _requested_partition(defs, "epd", datetime(2023, 2, 28, 6)) == "2022-12-01"


def test_the_hes_tick_asks_for_the_month_two_before(defs):
    assert HES_APC.publication.lag_months == 2
    assert _requested_partition(defs, "hes_apc", datetime(2022, 5, 20, 6)) == "2022-03-01"
    assert _requested_partition(defs, "hes_opa", datetime(2022, 5, 20, 6)) == "2022-03-01"


def test_the_list_size_tick_asks_for_the_month_just_published(defs):
    assert _requested_partition(defs, "gp_registered_patients", datetime(2022, 3, 20, 6)) == "2022-03-01"
    assert _requested_partition(defs, "gp_practice_map", datetime(2022, 3, 20, 6)) == "2022-03-01"


def test_a_tick_has_one_run_key_per_release_so_it_is_never_run_twice(defs):
    first = _tick(defs, "ae_monthly", datetime(2022, 5, 15, 6)).run_requests[0]
    again = _tick(defs, "ae_monthly", datetime(2022, 5, 15, 6)).run_requests[0]
    next_month = _tick(defs, "ae_monthly", datetime(2022, 6, 15, 6)).run_requests[0]
    assert first.run_key == again.run_key == "ae_monthly-2022-04"
    assert next_month.run_key == "ae_monthly-2022-05"


def test_a_release_before_the_first_partition_is_skipped_with_the_reason(defs):
    result = _tick(defs, "epd", datetime(2021, 2, 28, 6))  # covers December 2020
    assert result.run_requests == []
    assert "2020-12" in result.skip_message


def test_snapshot_schedules_request_unpartitioned_runs(defs):
    assert len(SNAPSHOT_FEEDS) == 13
    for spec in SNAPSHOT_FEEDS:
        (request,) = _tick(defs, spec.name, datetime(2022, 4, 5, 6)).run_requests
        assert request.partition_key is None, spec.name
        assert request.run_key == f"{spec.name}-2022-04-05"


def test_snapshot_jobs_hold_no_monthly_partition_and_monthly_jobs_rebuild_the_marts(defs):
    graph = defs.resolve_asset_graph()
    for spec in ALL_FEEDS:
        job = defs.resolve_job_def(f"{spec.name}_load")
        keys = job.asset_layer.selected_asset_keys
        assert dg.AssetKey(["raw", spec.name]) in keys
        if spec.cadence == "snapshot":
            assert all(graph.get(key).partitions_def is None for key in keys), spec.name
    # raw/epd waits on raw/ods_epraccur: the ODS run rebuilds the marts but loads no EPD month
    ods = defs.resolve_job_def("ods_epraccur_load").asset_layer.selected_asset_keys
    assert dg.AssetKey(["raw", "epd"]) not in ods
    assert dg.AssetKey(["marts", "dim_practice"]) in ods
    patients = defs.resolve_job_def("gp_registered_patients_load").asset_layer.selected_asset_keys
    assert dg.AssetKey(["marts", "fct_registered_population"]) in patients


def test_the_definitions_resolve_every_job(defs):
    repository = defs.get_repository_def()
    names = set(repository.job_names)
    assert {f"{spec.name}_load" for spec in ALL_FEEDS} <= names
    for name in names:
        assert defs.resolve_job_def(name).name == name


def test_the_readme_table_is_the_feeds_calendars():
    readme = (REPO_ROOT / "README.md").read_text()
    assert schedules.schedule_table(ALL_FEEDS) in readme


def test_a_feed_without_a_calendar_is_refused_by_name():
    with pytest.raises(ValueError, match=r"epd .* states no publication calendar"):
        schedules.feed_schedules([replace(EPD, publication=None)])


def test_a_monthly_feed_needs_a_monthly_calendar():
    annual = Publication(cadence="annual", months=(4,), day=1, source="x")
    with pytest.raises(ValueError, match="epd is loaded by month but published annual"):
        replace(EPD, publication=annual)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"cadence": "monthly", "day": 31}, "not 1-28"),
        ({"cadence": "quarterly", "day": 5, "months": (1, 4, 7)}, "4 release month"),
        ({"cadence": "annual", "day": 1, "months": (4,), "lag_months": 1}, "monthly publications only"),
        ({"cadence": "irregular", "day": 1, "months": (11,)}, "says why"),
        (
            {"cadence": "irregular", "day": 1, "months": (11,), "note": "n", "freshness_days": (1, 2)},
            "no cadence",
        ),
    ],
)
def test_an_impossible_calendar_is_refused(fields, message):
    with pytest.raises(ValueError, match=message):
        Publication(**fields)


def test_the_month_a_release_covers_crosses_the_year():
    calendar = Publication(cadence="monthly", day=15, lag_months=2)
    assert calendar.period_released(date(2023, 1, 15)) == date(2022, 11, 1)
    assert calendar.period_released(date(2023, 3, 15)) == date(2023, 1, 1)
    assert Publication(cadence="quarterly", day=5, months=(10, 1, 7, 4)).cron == "0 6 5 1,4,7,10 *"
