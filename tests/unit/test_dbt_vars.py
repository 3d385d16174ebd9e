from datetime import date, datetime

import pytest

from orchestration.lib.dbt_vars import dbt_build_args, months_between, partition_vars


def test_partition_vars_cover_the_whole_month():
    assert partition_vars(datetime(2022, 3, 1), datetime(2022, 4, 1)) == {
        "period_start": "2022-03-01",
        "period_end": "2022-04-01",
    }


def test_partition_vars_of_a_backfill_range_span_every_month_in_it():
    assert partition_vars(datetime(2021, 1, 1), datetime(2023, 1, 1)) == {
        "period_start": "2021-01-01",
        "period_end": "2023-01-01",
    }


def test_partition_vars_widen_a_window_that_ends_mid_month():
    assert partition_vars(date(2022, 12, 1), date(2022, 12, 15))["period_end"] == "2023-01-01"


def test_partition_vars_refuse_an_empty_window():
    with pytest.raises(ValueError, match="empty month window"):
        partition_vars(datetime(2022, 4, 1), datetime(2022, 4, 1))


def test_months_between_includes_both_ends_and_crosses_years():
    assert months_between(date(2021, 11, 1), date(2022, 2, 1)) == [
        date(2021, 11, 1),
        date(2021, 12, 1),
        date(2022, 1, 1),
        date(2022, 2, 1),
    ]


def test_dbt_build_args_pass_vars_as_json_and_full_refresh_last():
    args = dbt_build_args({"period_start": "2022-03-01", "period_end": "2022-04-01"}, full_refresh=True)
    assert args == [
        "build",
        "--vars",
        '{"period_end": "2022-04-01", "period_start": "2022-03-01"}',
        "--full-refresh",
    ]
    assert dbt_build_args() == ["build"]
