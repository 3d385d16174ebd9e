"""Every feed the warehouse loads, in one list (no Dagster import: benchmarks and tests use it)."""

from __future__ import annotations

from orchestration.defs.activity.feeds import ACTIVITY_FEEDS
from orchestration.defs.cost.feeds import COST_FEEDS
from orchestration.defs.experience.fft import FFT_FEEDS
from orchestration.defs.experience.gpps import GPPS_FEEDS
from orchestration.defs.population.feeds import POPULATION_FEEDS
from orchestration.defs.prescribing.feeds import PRESCRIBING_FEEDS
from orchestration.defs.primary_care.qof import QOF_FEEDS
from orchestration.defs.public_health.feeds import PUBLIC_HEALTH_FEEDS
from orchestration.defs.reference.feeds import REFERENCE_FEEDS
from orchestration.defs.urgent_care.feeds import URGENT_CARE_FEEDS

ALL_FEEDS = (
    *REFERENCE_FEEDS,
    *PUBLIC_HEALTH_FEEDS,
    *POPULATION_FEEDS,
    *GPPS_FEEDS,
    *FFT_FEEDS,
    *ACTIVITY_FEEDS,
    *URGENT_CARE_FEEDS,
    *COST_FEEDS,
    *PRESCRIBING_FEEDS,
    *QOF_FEEDS,
)
