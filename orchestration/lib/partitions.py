"""The one monthly partitioning every monthly feed shares.

The calendar runs from PARTITIONS_START to the current month: in a live warehouse, a month with
no file is a gap the UI should show. The shipped sample is the exception: its months are fixed
(2021–2022), so when the landing folder is the sample the calendar ends at its last month,
instead of showing four years of "missing" months no one will deliver. PARTITIONS_END (the last
month, `YYYY-MM-01`) overrides both.
"""

from __future__ import annotations

import os
from datetime import date

import dagster as dg

from orchestration.lib import settings

PARTITIONS_END_ENV = "PARTITIONS_END"


def _month_after(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _sample_last_month() -> date | None:
    """The last month any monthly feed of the shipped sample has a folder for (snapshot feeds'
    release folders, such as IoD 2025, are not months of data)."""
    from orchestration.defs.catalog import ALL_FEEDS
    from orchestration.lib.landing import available_periods

    months = [
        month
        for spec in ALL_FEEDS
        if spec.cadence == "monthly"
        for month in available_periods(spec, settings.SAMPLE_LANDING_DIR)
    ]
    return max(months) if months else None


def calendar_end() -> str | None:
    """The exclusive end of the monthly partitions, or None for 'up to the current month'."""
    if value := os.environ.get(PARTITIONS_END_ENV, "").strip():
        return _month_after(date.fromisoformat(value[:10])).isoformat()
    if settings.landing_dir() == settings.SAMPLE_LANDING_DIR and (last := _sample_last_month()):
        return _month_after(last).isoformat()
    return None


def monthly_partitions() -> dg.MonthlyPartitionsDefinition:
    # end_offset=1: the current month is a partition while it is under way (as before an end).
    return dg.MonthlyPartitionsDefinition(
        start_date=settings.PARTITIONS_START, end_date=calendar_end(), end_offset=1
    )


MONTHLY = monthly_partitions()
