"""The one monthly partitioning every monthly feed and incremental model shares."""

from __future__ import annotations

import dagster as dg

from orchestration.lib import settings

MONTHLY = dg.MonthlyPartitionsDefinition(start_date=settings.PARTITIONS_START, end_offset=1)
