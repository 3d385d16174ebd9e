"""What is decided before any file is written: the run's arguments (`Plan`) and, from them
(`decide`), the practices, the months, every practice's registered list in every month and where
the reference feeds' gaps are planted (`SharedPlan`).

The decisions more than one writer must agree on are made here, once: the practice left out of a
month's list-size file is still in that month's practice map; the QOF registers are measured
against the lists the list-size feed publishes; the practice ODS still attaches to its old CCG is
one the practice map places under its merged location.

Randomness: `decide` draws from the run's shared stream (seeded by `Plan.seed`) in a fixed order:
the practices per location (national), the geography, the six practices of the reference gaps,
then each month's lists. The writers that draw from the shared stream after it (Fingertips,
deprivation, the survey, ONS population, FFT) continue it in registry order (registry.py); every
other feed draws from a stream of its own (activity_base.feed_rng, qof.SEED_OFFSET).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from orchestration.defs.reference.feeds import EPRACCUR, GP_PRACTICE_MAP, GP_REGISTERED_PATIENTS
from orchestration.lib.dbt_vars import months_between
from orchestration.synth import geography, population
from orchestration.synth.geography import Geography, SubIcb
from orchestration.synth.manifest import PlantedGap

# Runs shorter than this plant no gaps in the reference feeds and write none of the yearly feeds
# (Fingertips, deprivation, the survey, ONS population, FFT, QOF): see README, "A national month".
MIN_MONTHS = 3
NATIONAL_PRACTICES = 6500
STEP_GROWTH = 1.45  # the planted list-size step: the practice absorbs a neighbour
UNKNOWN_PRACTICE_LIST = 4200  # the list of the planted practice no map or ODS release knows


@dataclass(frozen=True)
class Plan:
    """The run's arguments: the same plan gives the same bytes."""

    scale: str  # "sample" (the shipped sample's volumes) or "national"
    start: date
    end: date
    seed: int
    sub_icbs: tuple[str, ...] | None  # None: every sub-ICB location
    practices_per_sub_icb: int | None  # None: varied, national-like


def sample_plan() -> Plan:
    """The shipped sample: 24 months over 13 sub-ICB locations, record-level activity in the last
    12 (admitted care at real volume; activity_base.SAMPLE_FRACTION), about 38 MB zipped."""
    return Plan("sample", date(2021, 1, 1), date(2022, 12, 1), 20130401, geography.SAMPLE_SUB_ICBS, 14)


def national_plan(start: date, end: date, seed: int = 20130401) -> Plan:
    """All 106 sub-ICB locations, about 6,500 practices and 60 million patients."""
    return Plan("national", start, end, seed, None, None)


def practice_counts(plan: Plan, n_sub_icbs: int, rng: np.random.Generator) -> np.ndarray:
    """Practices per sub-ICB location: the plan's number each, or national-like sizes."""
    if plan.practices_per_sub_icb:
        return np.full(n_sub_icbs, plan.practices_per_sub_icb)
    # National: sub-ICB sizes vary roughly tenfold; scale to about 6,500 practices.
    weights = rng.lognormal(0, 0.6, n_sub_icbs)
    return np.maximum(np.round(weights / weights.sum() * NATIONAL_PRACTICES), 8).astype(int)


def build_geography(plan: Plan, rng: np.random.Generator) -> Geography:
    """The plan's sub-ICB locations and their synthetic practices (the first draws of `rng`)."""
    subs = geography.load_sub_icbs(plan.sub_icbs)
    return geography.build_geography(subs, practice_counts(plan, len(subs), rng), rng)


@dataclass(frozen=True)
class ReferenceGaps:
    """Where the list-size, practice-map and ODS gaps are planted."""

    missing_practice: str  # left out of one month's list-size file
    missing_month: date
    unknown_practice: str  # list sizes for a code in neither the map nor ODS
    unknown_practice_month: date
    unknown_commissioner_practice: str  # mapped to Z9Z for a month
    unknown_commissioner_month: date
    variant_month: date  # the list-size file in the TYPE/CODE/AGE layout
    late_month: date  # the practice map 50 days late
    step_practice: str  # the list grows by STEP_GROWTH
    step_month: date
    default_pcn: tuple[str, ...]  # PCN_CODE U
    orphan: str | None  # ODS still attaches it to its pre-April-2021 CCG code

    def gaps(self) -> list[PlantedGap]:
        """The planted gaps, in the order `_manifest.json` has always listed them."""
        gaps = [
            PlantedGap(
                "missing_practice_month",
                GP_REGISTERED_PATIENTS.name,
                f"{self.missing_month:%Y-%m}",
                self.missing_practice,
                "practice left out of the month's list-size file while still in the practice map",
            ),
            PlantedGap(
                "unknown_practice",
                GP_REGISTERED_PATIENTS.name,
                f"{self.unknown_practice_month:%Y-%m}",
                self.unknown_practice,
                "list sizes for a practice code that is in neither the practice map nor ODS",
            ),
            PlantedGap(
                "unknown_commissioner_code",
                GP_PRACTICE_MAP.name,
                f"{self.unknown_commissioner_month:%Y-%m}",
                self.unknown_commissioner_practice,
                "practice mapped to commissioner code Z9Z, which no crosswalk knows",
            ),
            PlantedGap(
                "renamed_column_variant",
                GP_REGISTERED_PATIENTS.name,
                f"{self.variant_month:%Y-%m}",
                "",
                "list-size file published in the TYPE/CODE/AGE layout, not ORG_TYPE/ORG_CODE/AGE_GROUP_5",
            ),
            PlantedGap(
                "late_file",
                GP_PRACTICE_MAP.name,
                f"{self.late_month:%Y-%m}",
                "",
                "practice map received 50 days after its usual publication day",
            ),
            PlantedGap(
                "list_size_step",
                GP_REGISTERED_PATIENTS.name,
                f"{self.step_month:%Y-%m}",
                self.step_practice,
                "list grows 45% in one month (absorbs a neighbouring practice)",
            ),
        ]
        gaps += [
            PlantedGap("default_code", GP_PRACTICE_MAP.name, "all", code, "PCN_CODE U (not in a PCN)")
            for code in self.default_pcn
        ]
        if self.orphan:
            gaps.append(
                PlantedGap(
                    "orphan_practice",
                    EPRACCUR.name,
                    "all",
                    self.orphan,
                    "ODS still attaches the practice to its pre-April-2021 CCG code",
                )
            )
        return gaps


@dataclass(frozen=True)
class RegisteredLists:
    """Every practice's registered list in every month, as the list-size feed publishes it
    (practices × 40: female 20 bands, then male 20 bands), planted step included."""

    counts: dict[date, np.ndarray]
    unknown_practice: np.ndarray | None  # 1 × 40, the month of ReferenceGaps.unknown_practice


@dataclass(frozen=True)
class SharedPlan:
    """What every writer reads and none changes."""

    plan: Plan
    geo: Geography
    by_code: dict[str, SubIcb]
    months: list[date]
    lists: RegisteredLists
    reference: ReferenceGaps | None  # None: fewer than MIN_MONTHS months, no gaps planted

    @property
    def gaps(self) -> list[PlantedGap]:
        """The gaps decided here (the reference feeds'), in manifest order."""
        return self.reference.gaps() if self.reference else []


def decide(plan: Plan, rng: np.random.Generator) -> SharedPlan:
    """Make the plan's shared decisions, drawing from the run's shared stream `rng`."""
    geo = build_geography(plan, rng)
    by_code = geography.sub_icb_index(geo)
    months = months_between(plan.start, plan.end)
    reference = _reference_gaps(geo, by_code, months, rng)
    return SharedPlan(plan, geo, by_code, months, _registered_lists(geo, months, reference, rng), reference)


def _reference_gaps(
    geo: Geography, by_code: dict[str, SubIcb], months: list[date], rng: np.random.Generator
) -> ReferenceGaps | None:
    p = geo.practices
    picks = rng.choice(geo.n, size=6, replace=False)  # drawn however short the run, so that
    # the shared stream, and every file drawn from it later, does not depend on the run's length
    if len(months) < MIN_MONTHS:
        return None
    mid = len(months) // 2

    def at(offset: int) -> date:
        return months[min(mid + offset, len(months) - 1)]

    missing, step, unknown_commissioner, *default_pcn = (str(p["code"][i]) for i in picks[:5])
    return ReferenceGaps(
        missing_practice=missing,
        missing_month=at(2),
        unknown_practice=f"{p['code'][picks[5]][0]}99999",
        unknown_practice_month=at(-1),
        unknown_commissioner_practice=unknown_commissioner,
        unknown_commissioner_month=at(1),
        variant_month=at(9),
        late_month=at(4),
        step_practice=step,
        step_month=at(5),
        default_pcn=tuple(default_pcn),
        orphan=next((str(p["code"][i]) for i in range(geo.n) if by_code[p["sub_icb"][i]].predecessors), None),
    )


def _registered_lists(
    geo: Geography, months: list[date], reference: ReferenceGaps | None, rng: np.random.Generator
) -> RegisteredLists:
    p = geo.practices
    base = p["list_size"].copy()
    step = list(p["code"]).index(reference.step_practice) if reference else -1
    counts: dict[date, np.ndarray] = {}
    unknown = None
    for index, month in enumerate(months):
        sizes = population.list_sizes(base, p["growth"], index, rng)
        if reference and month >= reference.step_month:
            sizes[step] = int(sizes[step] * STEP_GROWTH)
        counts[month] = population.cells(sizes, p["older"], rng)
        if reference and month == reference.unknown_practice_month:
            unknown = population.cells(np.array([UNKNOWN_PRACTICE_LIST]), np.array([0.5]), rng)
    return RegisteredLists(counts, unknown)
