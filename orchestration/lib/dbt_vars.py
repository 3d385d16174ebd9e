"""The month window a dbt build rebuilds, from a Dagster run: pure functions, unit-tested
without Dagster.

The window reaches dbt as two environment variables that `period_window` (dbt_project/macros)
reads when a model runs. dbt vars would do the same job, but any change of `--vars` makes dbt
throw away its partial parse and re-parse the whole project (about 8 s), once per window.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

PERIOD_START_ENV = "CW_PERIOD_START"
PERIOD_END_ENV = "CW_PERIOD_END"

# Dagster's run tags for a single partition and for a partition range (backfills, `make run`).
PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def _first_of_month(value: date | datetime) -> date:
    return date(value.year, value.month, 1)


def _add_months(value: date, months: int) -> date:
    index = value.year * 12 + value.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def partition_vars(window_start: date | datetime, window_end: date | datetime) -> dict[str, str]:
    """The environment of a build over [window_start, window_end) (end exclusive, as Dagster's
    time windows are). A window that ends mid-month (never produced by monthly partitions, but
    possible by hand) is widened to cover that month."""
    start = _first_of_month(window_start)
    end = _first_of_month(window_end)
    if (window_end.day, getattr(window_end, "hour", 0)) != (1, 0):
        end = _add_months(end, 1)
    if end <= start:
        raise ValueError(f"empty month window: {window_start} … {window_end}")
    return {PERIOD_START_ENV: start.isoformat(), PERIOD_END_ENV: end.isoformat()}


def window_from_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """The window of a run from its partition tags: one month, a range of months (both ends
    included), or every month (an empty mapping) for a run that names no partition."""
    if RANGE_START_TAG in tags and RANGE_END_TAG in tags:
        first, last = (date.fromisoformat(tags[t][:10]) for t in (RANGE_START_TAG, RANGE_END_TAG))
        return partition_vars(first, _add_months(_first_of_month(last), 1))
    if PARTITION_TAG in tags:
        month = _first_of_month(date.fromisoformat(tags[PARTITION_TAG][:10]))
        return partition_vars(month, _add_months(month, 1))
    return {}


def months_between(first: date, last: date) -> list[date]:
    """Every month from `first` to `last`, both included."""
    months, current = [], _first_of_month(first)
    while current <= last:
        months.append(current)
        current = _add_months(current, 1)
    return months


def dbt_build_args(*, full_refresh: bool = False) -> list[str]:
    """`dbt build` arguments: every model, seed and data test. Not the unit tests: they test the
    SQL on fixtures, not the data, so `make test` runs them (tests/integration/test_end_to_end.py)
    and a run of the pipeline does not pay for them again."""
    args = ["build", "--exclude-resource-type", "unit_test"]
    return [*args, "--full-refresh"] if full_refresh else args
