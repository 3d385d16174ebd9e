"""dbt command lines from partition windows: pure functions, unit-tested without Dagster."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime


def _first_of_month(value: date | datetime) -> date:
    return date(value.year, value.month, 1)


def _add_months(value: date, months: int) -> date:
    index = value.year * 12 + value.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def partition_vars(window_start: date | datetime, window_end: date | datetime) -> dict[str, str]:
    """The month window an incremental model rebuilds: [period_start, period_end).

    Dagster's time windows end at the start of the next partition, which is exactly the
    exclusive end dbt's `period_window` macro expects. A window that ends mid-month (never
    produced by monthly partitions, but possible by hand) is widened to cover that month.
    """
    start = _first_of_month(window_start)
    end = _first_of_month(window_end)
    if (window_end.day, getattr(window_end, "hour", 0)) != (1, 0):
        end = _add_months(end, 1)
    if end <= start:
        raise ValueError(f"empty month window: {window_start} … {window_end}")
    return {"period_start": start.isoformat(), "period_end": end.isoformat()}


def months_between(first: date, last: date) -> list[date]:
    """Every month from `first` to `last`, both included."""
    months, current = [], _first_of_month(first)
    while current <= last:
        months.append(current)
        current = _add_months(current, 1)
    return months


def dbt_build_args(dbt_vars: Mapping[str, str] | None = None, *, full_refresh: bool = False) -> list[str]:
    """`dbt build` arguments; vars as JSON so dates and nulls survive the shell-less call."""
    args = ["build"]
    if dbt_vars:
        args += ["--vars", json.dumps(dict(dbt_vars), sort_keys=True)]
    if full_refresh:
        args.append("--full-refresh")
    return args
