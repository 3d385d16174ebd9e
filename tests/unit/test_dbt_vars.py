from datetime import date, datetime

import pytest

from orchestration.lib.dbt_vars import (
    dbt_build_args,
    months_between,
    partition_vars,
    window_from_tags,
)


def test_partition_vars_cover_the_whole_month():
    assert partition_vars(datetime(2022, 3, 1), datetime(2022, 4, 1)) == {
        "CW_PERIOD_START": "2022-03-01",
        "CW_PERIOD_END": "2022-04-01",
    }


def test_partition_vars_of_a_backfill_range_span_every_month_in_it():
    assert partition_vars(datetime(2021, 1, 1), datetime(2023, 1, 1)) == {
        "CW_PERIOD_START": "2021-01-01",
        "CW_PERIOD_END": "2023-01-01",
    }


def test_partition_vars_widen_a_window_that_ends_mid_month():
    assert partition_vars(date(2022, 12, 1), date(2022, 12, 15))["CW_PERIOD_END"] == "2023-01-01"


def test_partition_vars_refuse_an_empty_window():
    with pytest.raises(ValueError, match="empty month window"):
        partition_vars(datetime(2022, 4, 1), datetime(2022, 4, 1))


def test_a_single_partition_run_rebuilds_that_month():
    assert window_from_tags({"dagster/partition": "2022-05-01"}) == {
        "CW_PERIOD_START": "2022-05-01",
        "CW_PERIOD_END": "2022-06-01",
    }


def test_a_range_run_rebuilds_both_ends_and_everything_between():
    tags = {
        "dagster/asset_partition_range_start": "2021-01-01",
        "dagster/asset_partition_range_end": "2022-12-01",
        "dagster/partition": "ignored when a range is given",
    }
    assert window_from_tags(tags) == {"CW_PERIOD_START": "2021-01-01", "CW_PERIOD_END": "2023-01-01"}


def test_a_run_without_partitions_rebuilds_every_month():
    assert window_from_tags({"dagster/job_name": "ods_reference_load"}) == {}


def test_months_between_includes_both_ends_and_crosses_years():
    assert months_between(date(2021, 11, 1), date(2022, 2, 1)) == [
        date(2021, 11, 1),
        date(2021, 12, 1),
        date(2022, 1, 1),
        date(2022, 2, 1),
    ]


def test_dbt_build_args_leave_unit_tests_to_make_test_and_full_refresh_only_when_asked():
    assert dbt_build_args() == ["build", "--exclude-resource-type", "unit_test"]
    assert dbt_build_args(full_refresh=True) == [*dbt_build_args(), "--full-refresh"]
