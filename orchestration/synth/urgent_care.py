"""A&E for the generated geography: record-level ECDS extracts and the monthly SitRep CSV.

Both feeds come from one model of who attends where, so they agree with each other:

- Attendances: each practice's expected registered population (40 age-sex cells) times an
  annual attendance rate by age that is highest for 0-4, 15-29 and 80+, calibrated so that 60
  million registered patients make about 2.2 million trust attendances a month (ECDS national
  volume), with a seasonal shape. Independent walk-in centres and UTCs add about 8% more in
  the SitRep (they are not in the ECDS extract here).
- Where: a practice mostly uses one of its ICB's two acute trusts (`practice_trust`): 80% the
  main one, 15% the other, 5% any trust. Department types 01/02/03; some trusts run a type 2.
- How long: log-normal durations by department type and whether the patient was admitted, with
  the familiar pile-up just under 4 hours at type 1; about 35% of type 1 attendances exceed 4
  hours, ~5% of type 2, ~3% of type 3. The SitRep's over-4-hour counts use the same
  probabilities (computed, not sampled from the records).
- ECDS is thinned to `SAMPLE_FRACTION['ecds']` (20%) in the sample, 2022-01 to 2022-12 (the
  sample's size budget goes to admitted care at real volume); the SitRep is at real volume for
  every month (aggregates are small).

Layouts: ECDS as a SUS+/NCDR extract (feeds_and_methods §3.4; field names in
defs/urgent_care/feeds.py), one zipped CSV a month `ecds/<YYYY-MM>/ECDS_<YYYYMM>.zip`; the SitRep
as NHS England publishes it (22 columns, `MSitAE-<MONTH>-<YYYY>`, TOTAL last, LF, names with
commas quoted) in `ae_monthly/<YYYY-MM>/Monthly-AE-<Month>-<YYYY>.csv` (the last month under
the newer `<Month>-<YYYY>-CSV-<suffix>.csv` name; one month writes its total row `Total`).

SNOMED CT codes: the left-before-completion discharge statuses, dead on arrival and the
self-harm / dementia / delirium / depression codes are as NHS England SQL uses them; the other
arrival-mode and discharge-status codes are UNVERIFIED stand-ins for the ECDS value sets.

Planted gaps (returned): an ECDS trust-month missing, an ECDS trust-month at ~40% of its
volume, an ECDS trust-month with ~15% default practice codes, and a trust missing from one
month's SitRep file (its region's and England's totals exclude it, as a non-submission would).
"""

from __future__ import annotations

import csv
import io
import math
import string
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from orchestration.defs.urgent_care.feeds import (
    AE_MONTHLY,
    ECDS,
    ECDS_FIELDS,
    SITREP_HEADER_2025,
    SITREP_MEASURES,
)
from orchestration.synth import activity_base
from orchestration.synth.activity_base import Provider
from orchestration.synth.context import RECORD_WEIGHT, WriteContext
from orchestration.synth.deprivation import LSOA_CODE_SQL, lsoa_ranges
from orchestration.synth.geography import MERGER_2021, Geography
from orchestration.synth.hrg import AE_HRGS
from orchestration.synth.manifest import PlantedGap, Receive

MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
SITREP_DAY, ECDS_DAY = 12, 20  # day of the month the files "arrive" (UNVERIFIED lags)

# Trust A&E attendances per registered person per month, England (ECDS national ~2.2M / 60M).
TRUST_RATE_PER_PERSON_MONTH = 2.2e6 / 60e6
INDEPENDENT_SHARE = 0.08  # independent type 3 sites, relative to trust attendances (SitRep only)
# Relative annual attendance rate by quinary band (0-4 … 95+): peaks at 0-4, 15-29 and 80+.
BAND_RATE = np.array(
    (
        *(0.55, 0.27, 0.30, 0.46, 0.50, 0.46, 0.40, 0.37, 0.35, 0.34),
        *(0.34, 0.34, 0.35, 0.38, 0.44, 0.54, 0.72, 0.95, 1.15, 1.30),
    )
)
SEASON = (0.95, 0.90, 1.00, 0.98, 1.06, 1.04, 1.07, 1.00, 1.00, 1.02, 0.99, 0.99)
WEEKDAY_WEIGHT = (1.12, 1.0, 0.98, 0.98, 1.0, 0.95, 0.97)  # Monday … Sunday
HOURLY = np.array(
    (
        *(2.2, 1.7, 1.4, 1.2, 1.1, 1.2, 1.8, 2.9, 4.6, 6.0, 6.5, 6.5),
        *(6.2, 6.0, 5.8, 5.6, 5.5, 5.4, 5.3, 5.0, 4.6, 4.0, 3.3, 2.6),
    )
)

MAIN_SHARE, SECOND_SHARE = 0.80, 0.15  # the rest goes to any trust
# Department type shares (01, 02, 03) at a trust with and without a type 2 department.
DEPT_SHARES = {True: (0.66, 0.03, 0.31), False: (0.68, 0.0, 0.32)}
# Share admitted, by department type; type 1 by age group (<16, 16-64, 65+).
TYPE1_ADMIT_BY_AGE = (0.12, 0.25, 0.50)
TYPE1_ADMIT = 0.29
ADMIT = {2: 0.03, 3: 0.005}
# Log-normal duration (median minutes, sigma) by (department type, admitted).
DURATION = {
    (1, False): (160.0, 0.50),
    (1, True): (330.0, 0.65),
    (2, False): (85.0, 0.65),
    (2, True): (200.0, 0.55),
    (3, False): (70.0, 0.65),
    (3, True): (150.0, 0.60),
}
SQUEEZE_SHARE = 0.3  # type 1 non-admitted stays of 241-270 minutes pulled to 225-239
MAX_MINUTES = 10080
# Default GP practice codes: share of records (no registered GP, not applicable, not known).
DEFAULT_PRACTICES = (("V81997", 0.004), ("V81998", 0.001), ("V81999", 0.010))
PLANTED_DEFAULT_SHARE = 0.15
PLANTED_PARTIAL_SHARE = 0.40
MISSING_LSOA_SHARE = 0.01
DUPLICATE_SHARE = 0.003
UNFINISHED_SHARE = 0.002

# SitRep ratios (2025 national totals): booked appointments, emergency admissions, DTA waits.
BOOKED = {1: (0.025, 0.20), 2: (0.012, 0.05), 3: (0.06, 0.01)}  # (share of attendances, over 4h)
DTA_4_TO_12H, DTA_12H_PLUS = 0.20, 0.10  # of type 1 emergency admissions (12h+: of the rest)
OTHER_EMERGENCY_ADMISSIONS = 0.10  # per type 1 attendance

ARRIVAL_MODES = (  # UNVERIFIED stand-ins for the ECDS arrival mode value set
    ("1048031000000100", "ambulance"),
    ("1048061000000105", "own transport"),
    ("1048071000000103", "public transport"),
)
DISCHARGE_COMPLETED = "182992009"  # treatment completed (UNVERIFIED for ECDS)
DISCHARGE_ADMITTED = "1066331000000109"  # UNVERIFIED stand-in: care transferred / admitted
DISCHARGE_LEFT = ("1066301000000103", "1066321000000107", "1066311000000101")  # [3P] §3.4
DISCHARGE_DIED = "63238001"  # dead on arrival [3P]
LEFT_SHARE, DIED_SHARE = 0.03, 0.0005

# (chief complaint, diagnosis, weight <16, weight 16-64, weight 65+): SNOMED CT concepts.
CONDITIONS = (
    ("29857009", "22298006", 0, 3, 6),  # chest pain → myocardial infarction
    ("29857009", "49436004", 0, 2, 6),  # chest pain → atrial fibrillation
    ("267036007", "233604007", 3, 3, 9),  # dyspnoea → pneumonia
    ("267036007", "195967001", 6, 4, 2),  # dyspnoea → asthma
    ("267036007", "13645005", 0, 2, 6),  # dyspnoea → COPD
    ("21522001", "68566005", 2, 5, 6),  # abdominal pain → urinary tract infection
    ("21522001", "62315008", 6, 4, 2),  # abdominal pain → diarrhoea
    ("386661006", "34014006", 20, 4, 2),  # fever → viral disease
    ("422400008", "62315008", 8, 3, 2),  # vomiting → diarrhoea
    ("25064002", "25064002", 2, 5, 2),  # headache
    ("271594007", "271594007", 1, 3, 6),  # syncope
    ("248062006", "35489007", 1, 3, 1),  # self harm → depressive disorder
    ("417163006", "125605004", 20, 20, 8),  # injury → fracture
    ("417163006", "44465007", 3, 10, 2),  # injury → sprain of ankle
    ("417163006", "125667009", 12, 10, 6),  # injury → contusion
    ("26544005", "230690007", 0, 1, 5),  # muscle weakness → stroke
    ("286933003", "2776000", 0, 0.5, 5),  # confusion → delirium
)
NO_DIAGNOSIS = {1: 0.05, 2: 0.06, 3: 0.15}
SECOND_DIAGNOSIS = 0.3
# HRG mix by (department type, admitted).
HRG_MIX = {
    (1, True): {"VB01Z": 0.35, "VB03Z": 0.45, "VB06Z": 0.20},
    (1, False): {"VB03Z": 0.10, "VB06Z": 0.25, "VB08Z": 0.25, "VB09Z": 0.25, "VB11Z": 0.15},
    (2, True): {"VB03Z": 0.5, "VB06Z": 0.5},
    (2, False): {"VB08Z": 0.3, "VB09Z": 0.4, "VB11Z": 0.3},
    (3, True): {"VB06Z": 0.5, "VB09Z": 0.5},
    (3, False): {"VB09Z": 0.3, "VB11Z": 0.7},
}
HRG_CODES = tuple(AE_HRGS)


# --------------------------------------------------------------------------------------------
# The shared model
# --------------------------------------------------------------------------------------------


def _phi(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def _over(minutes: float, median: float, sigma: float) -> float:
    """P(duration > minutes) for a log-normal duration."""
    return 1 - _phi(math.log(minutes / median) / sigma)


def breach_probability(department: int, admitted_share: float) -> float:
    """Share of attendances over 4 hours that the record generator produces, worked out exactly
    (the SitRep's over-4-hour counts use it, so the two feeds agree)."""
    probability = 0.0
    for admitted, weight in ((True, admitted_share), (False, 1 - admitted_share)):
        median, sigma = DURATION[(department, admitted)]
        over = _over(240, median, sigma)
        if department == 1 and not admitted:
            over -= SQUEEZE_SHARE * (over - _over(270, median, sigma))
        probability += weight * over
    return probability


def attendance_rates(geo: Geography, month_index: int, month: date) -> np.ndarray:
    """Expected trust attendances per practice × 40 cells in a month, at real volume."""
    cells = activity_base.expected_cells(geo, month_index)
    relative = np.tile(BAND_RATE, 2)
    mean_relative = float((cells * relative).sum() / cells.sum())
    return cells * relative / mean_relative * TRUST_RATE_PER_PERSON_MONTH * SEASON[month.month - 1]


class Catchment:
    """Which trust each practice's patients attend, and what each trust runs."""

    def __init__(self, geo: Geography, seed: int) -> None:
        rng = activity_base.feed_rng(seed, "urgent_care_catchment")
        self.trusts: list[Provider] = activity_base.acute_trusts(geo)
        self.main = activity_base.practice_trust(geo, self.trusts, rng)
        n = len(self.trusts)
        share = np.full((geo.n, n), (1 - MAIN_SHARE - SECOND_SHARE) / n)
        rows = np.arange(geo.n)
        share[rows, self.main[:, 0]] += MAIN_SHARE
        share[rows, self.main[:, 1]] += SECOND_SHARE
        self.share = share
        # Every third ICB's first trust runs a single-specialty (type 2) department.
        self.has_type2 = np.array([i % 6 == 0 for i in range(n)])
        self.mff = np.round(1.0 + rng.uniform(0.0, 0.12, n), 4)
        icb_codes = sorted({t.icb_code for t in self.trusts})
        self.icb_of_practice = np.array(
            [icb_codes.index(s) for s in _practice_icbs(geo)],
            dtype=np.int64,
        )
        self.icb_codes = icb_codes

    def type_shares(self) -> np.ndarray:
        """trusts × 3 department type shares."""
        return np.array([DEPT_SHARES[bool(flag)] for flag in self.has_type2])


def _practice_icbs(geo: Geography) -> list[str]:
    icb_of = {s.code: s.icb_code for s in geo.sub_icbs}
    return [icb_of[s] for s in geo.practices["sub_icb"]]


def commissioner_code(sub_code: str, predecessor: str, month: date) -> str:
    """Der_Commissioner_Code as SUS writes it: the practice's commissioner, 3-character codes
    padded with `00` (`15F00`)."""
    code = predecessor if month < MERGER_2021 else sub_code
    return f"{code}00" if len(code) == 3 else code


# --------------------------------------------------------------------------------------------
# ECDS records
# --------------------------------------------------------------------------------------------


def _choice_by_group(groups: np.ndarray, weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each record of group g, an index drawn with weights[g]."""
    result = np.zeros(groups.shape, dtype=np.int64)
    for group in range(weights.shape[0]):
        mask = groups == group
        probabilities = weights[group] / weights[group].sum()
        result[mask] = rng.choice(len(probabilities), size=int(mask.sum()), p=probabilities)
    return result


def ecds_records(
    geo: Geography,
    catchment: Catchment,
    month_index: int,
    month: date,
    fraction: float,
    rng: np.random.Generator,
    missing: int | None = None,
    partial: int | None = None,
    defaults: int | None = None,
) -> pd.DataFrame:
    """One month's attendance records as integer columns (strings are joined in DuckDB)."""
    expected = attendance_rates(geo, month_index, month) * fraction
    counts = rng.poisson(expected)
    cell = np.repeat(np.arange(counts.size), counts.ravel())
    practice, cell_in_practice = np.divmod(cell, 40)
    band = cell_in_practice % 20
    sex = np.where(cell_in_practice < 20, 2, 1)
    sex[rng.random(cell.size) < 0.0005] = 9
    age = activity_base.ages_in_band(band, rng)

    # Where: main trust, second trust, or any trust.
    u = rng.random(cell.size)
    any_trust = rng.integers(0, len(catchment.trusts), cell.size)
    trust = np.where(
        u < MAIN_SHARE,
        catchment.main[practice, 0],
        np.where(u < MAIN_SHARE + SECOND_SHARE, catchment.main[practice, 1], any_trust),
    )
    keep = np.ones(cell.size, dtype=bool)
    if missing is not None:
        keep &= trust != missing
    if partial is not None:
        keep &= (trust != partial) | (rng.random(cell.size) < PLANTED_PARTIAL_SHARE)
    practice, sex, age, trust = practice[keep], sex[keep], age[keep], trust[keep]
    n = practice.size

    shares = catchment.type_shares()[trust]
    u = rng.random(n)
    department = np.where(u < shares[:, 0], 1, np.where(u < shares[:, 0] + shares[:, 1], 2, 3))
    age_group = np.digitize(age, [16, 65])
    admit_probability = np.where(
        department == 1,
        np.array(TYPE1_ADMIT_BY_AGE)[age_group],
        np.where(department == 2, ADMIT[2], ADMIT[3]),
    )
    admitted = rng.random(n) < admit_probability

    # When: day of month by weekday, minute of day by the hourly profile.
    days = (date(month.year + month.month // 12, month.month % 12 + 1, 1) - month).days
    weekday = (np.arange(days) + month.weekday()) % 7
    day_weight = np.array(WEEKDAY_WEIGHT)[weekday]
    day = rng.choice(days, size=n, p=day_weight / day_weight.sum())
    minute_weight = np.repeat(HOURLY / HOURLY.sum() / 60, 60)
    arrival_minute = day * 1440 + rng.choice(1440, size=n, p=minute_weight / minute_weight.sum())

    # How long.
    median = np.zeros(n)
    sigma = np.zeros(n)
    for (dept, adm), (m, s) in DURATION.items():
        mask = (department == dept) & (admitted == adm)
        median[mask], sigma[mask] = m, s
    duration = np.exp(np.log(median) + sigma * rng.standard_normal(n))
    duration = np.clip(np.round(duration), 1, MAX_MINUTES).astype(np.int64)
    squeeze = (
        (department == 1) & ~admitted & (duration > 240) & (duration <= 270) & (rng.random(n) < SQUEEZE_SHARE)
    )
    duration[squeeze] = rng.integers(225, 240, int(squeeze.sum()))

    # What: complaint and diagnoses by age group; HRG by type and admission.
    condition_weights = np.array([c[2:] for c in CONDITIONS], dtype=float).T
    condition = _choice_by_group(age_group, condition_weights, rng)
    second = _choice_by_group(age_group, condition_weights, rng)
    no_diagnosis = (
        rng.random(n) < np.array([0, NO_DIAGNOSIS[1], NO_DIAGNOSIS[2], NO_DIAGNOSIS[3]])[department]
    )
    diagnosis_1 = np.where(no_diagnosis, -1, condition)
    diagnosis_codes = np.array([c[1] for c in CONDITIONS])
    has_second = (
        ~no_diagnosis
        & (rng.random(n) < SECOND_DIAGNOSIS)
        & (diagnosis_codes[second] != diagnosis_codes[condition])
    )
    diagnosis_2 = np.where(has_second, second, -1)

    hrg = np.zeros(n, dtype=np.int64)
    for (dept, adm), mix in HRG_MIX.items():
        mask = (department == dept) & (admitted == adm)
        codes = [HRG_CODES.index(c) for c in mix]
        hrg[mask] = rng.choice(codes, size=int(mask.sum()), p=np.array(list(mix.values())))

    u = rng.random(n)
    discharge = np.where(
        admitted,
        1,
        np.where(u < LEFT_SHARE, 2 + rng.integers(0, 3, n), np.where(u < LEFT_SHARE + DIED_SHARE, 5, 0)),
    )
    ambulance_probability = np.where(department == 1, np.array([0.15, 0.25, 0.6])[age_group], 0.02)
    u = rng.random(n)
    arrival_mode = np.where(u < ambulance_probability, 0, np.where(u < ambulance_probability + 0.1, 2, 1))

    # Who: registered practice (or a default code) and small area.
    default = np.full(n, -1)
    u = rng.random(n)
    cumulative = 0.0
    for index, (_, share) in enumerate(DEFAULT_PRACTICES):
        default[(u >= cumulative) & (u < cumulative + share)] = index
        cumulative += share
    if defaults is not None:
        chosen = (trust == defaults) & (rng.random(n) < PLANTED_DEFAULT_SHARE)
        default[chosen] = np.where(rng.random(int(chosen.sum())) < 0.7, 2, 0)
    ranges = lsoa_ranges(geo)
    subs = geo.practices["sub_icb"][practice]
    first = np.array([ranges[s][0] for s in subs], dtype=np.int64)
    width = np.array([ranges[s][1] for s in subs], dtype=np.int64)
    lsoa = first + (rng.random(n) * width).astype(np.int64)
    lsoa[rng.random(n) < MISSING_LSOA_SHARE] = -1

    frame = pd.DataFrame(
        {
            "practice": practice,
            "trust": trust,
            "sex": sex,
            "age": age,
            "department": department,
            "admitted": admitted,
            "arrival_minute": arrival_minute,
            "duration": duration,
            "condition": condition,
            "diagnosis_1": diagnosis_1,
            "diagnosis_2": diagnosis_2,
            "hrg": hrg,
            "discharge": discharge,
            "arrival_mode": arrival_mode,
            "default_practice": default,
            "lsoa": lsoa,
            "finished": (rng.random(n) >= UNFINISHED_SHARE).astype(np.int64),
            "dupe": np.zeros(n, dtype=np.int64),
        }
    )
    duplicates = frame[rng.random(n) < DUPLICATE_SHARE].assign(dupe=1)
    frame = pd.concat([frame, duplicates], ignore_index=True)
    frame = frame.sort_values(["arrival_minute", "dupe"], kind="stable", ignore_index=True)
    frame["ec_ident"] = (month.year * 100 + month.month) * 10**7 + np.arange(1, len(frame) + 1)
    return frame


def _dimensions(conn: duckdb.DuckDBPyConnection, geo: Geography, catchment: Catchment, month: date) -> None:
    practices = pd.DataFrame(
        {
            "practice": np.arange(geo.n),
            "code": geo.practices["code"].astype(str),
            "commissioner": [
                commissioner_code(s, p, month)
                for s, p in zip(geo.practices["sub_icb"], geo.practices["predecessor"], strict=True)
            ],
        }
    )
    trusts = pd.DataFrame(
        {
            "trust": np.arange(len(catchment.trusts)),
            "code": [t.code for t in catchment.trusts],
            "mff": catchment.mff,
        }
    )
    hrgs = pd.DataFrame(
        {"hrg": np.arange(len(HRG_CODES)), "code": HRG_CODES, "price": [AE_HRGS[c][1] for c in HRG_CODES]}
    )
    conditions = pd.DataFrame(
        {
            "condition": np.arange(len(CONDITIONS)),
            "complaint": [c[0] for c in CONDITIONS],
            "diagnosis": [c[1] for c in CONDITIONS],
        }
    )
    discharges = pd.DataFrame(
        {
            "discharge": np.arange(6),
            "code": [DISCHARGE_COMPLETED, DISCHARGE_ADMITTED, *DISCHARGE_LEFT, DISCHARGE_DIED],
        }
    )
    modes = pd.DataFrame(
        {"arrival_mode": np.arange(len(ARRIVAL_MODES)), "code": [m[0] for m in ARRIVAL_MODES]}
    )
    defaults = pd.DataFrame(
        {"default_practice": np.arange(len(DEFAULT_PRACTICES)), "code": [d[0] for d in DEFAULT_PRACTICES]}
    )
    for name, frame in (
        ("d_practice", practices),
        ("d_trust", trusts),
        ("d_hrg", hrgs),
        ("d_condition", conditions),
        ("d_discharge", discharges),
        ("d_mode", modes),
        ("d_default", defaults),
    ):
        conn.register(name, frame)


def _financial_year(month: date) -> str:
    start = month.year if month.month >= 4 else month.year - 1
    return f"{start}/{(start + 1) % 100:02d}"


def ecds_query(month: date) -> str:
    """The records as an ECDS extract: one SELECT over `records` and the small dimensions."""
    names = ECDS_FIELDS
    return f"""
        with timed as (
            select *,
                timestamp '{month:%Y-%m-%d}' + to_minutes(arrival_minute) as arrival_at,
                timestamp '{month:%Y-%m-%d}' + to_minutes(arrival_minute + duration) as departure_at
            from records
        )
        select
            r.ec_ident as "{names["attendance_id"]}",
            '{month:%Y%m}' as "{names["activity_month"]}",
            '{_financial_year(month)}' as "{names["financial_year"]}",
            t.code as "{names["provider_code"]}",
            t.code || case when r.department = 3 then '02' else '01' end as "{names["provider_site_code"]}",
            '0' || r.department as "{names["department_type"]}",
            strftime(r.arrival_at, '%Y-%m-%d') as "{names["arrival_date"]}",
            strftime(r.arrival_at, '%H:%M:%S') as "{names["arrival_time"]}",
            r.age as "{names["age_at_arrival"]}",
            r.sex as "{names["sex"]}",
            coalesce(d.code, p.code) as "{names["gp_practice_code"]}",
            p.commissioner as "{names["commissioner_code"]}",
            case when r.lsoa > 0 then {LSOA_CODE_SQL.format(serial="r.lsoa")} end
                as "{names["lsoa_2011_code"]}",
            m.code as "{names["arrival_mode"]}",
            c.complaint as "{names["chief_complaint"]}",
            case when r.finished = 1 then x.code end as "{names["discharge_status"]}",
            d1.diagnosis || coalesce(',' || d2.diagnosis, '') as "{names["diagnosis_all"]}",
            case when r.finished = 1 then strftime(r.departure_at, '%Y-%m-%d %H:%M:%S') end
                as "{names["departure_date_time"]}",
            case when r.finished = 1 then r.duration end as "{names["duration_minutes"]}",
            r.finished as "{names["finished_indicator"]}",
            r.dupe as "{names["dupe_flag"]}",
            case when r.finished = 1 then h.code end as "{names["hrg_code"]}",
            case when r.finished = 1 then h.price end as "{names["tariff"]}",
            case when r.finished = 1 then round(h.price * t.mff, 2) end as "{names["final_price"]}"
        from timed as r
        inner join d_practice as p on r.practice = p.practice
        inner join d_trust as t on r.trust = t.trust
        inner join d_hrg as h on r.hrg = h.hrg
        inner join d_condition as c on r.condition = c.condition
        inner join d_discharge as x on r.discharge = x.discharge
        inner join d_mode as m on r.arrival_mode = m.arrival_mode
        left join d_default as d on r.default_practice = d.default_practice
        left join d_condition as d1 on r.diagnosis_1 = d1.condition
        left join d_condition as d2 on r.diagnosis_2 = d2.condition
        order by r.ec_ident
    """


def write_ecds_month(
    geo: Geography,
    catchment: Catchment,
    month_index: int,
    month: date,
    fraction: float,
    rng: np.random.Generator,
    out: Path,
    **planted: int | None,
) -> tuple[Path, int]:
    """Write one month's zipped extract; return its path and record count."""
    frame = ecds_records(geo, catchment, month_index, month, fraction, rng, **planted)
    folder = out / ECDS.name / f"{month:%Y-%m}"
    csv_path = folder / f"ECDS_{month:%Y%m}.csv"
    conn = duckdb.connect()
    try:
        conn.execute("set threads to 2")
        conn.register("records", frame)
        _dimensions(conn, geo, catchment, month)
        activity_base.copy_to_csv(conn, ecds_query(month), csv_path)
    finally:
        conn.close()
    return activity_base.zip_file(csv_path, folder / f"ECDS_{month:%Y%m}.zip"), len(frame)


# --------------------------------------------------------------------------------------------
# The monthly SitRep
# --------------------------------------------------------------------------------------------


def _region_parent(region_name: str) -> str:
    """`Parent Org` as published: upper case, a trailing space on every region but London."""
    name = f"NHS ENGLAND {region_name.upper()}"
    return name if region_name.upper() == "LONDON" else name + " "


def _independent_sites(catchment: Catchment) -> list[tuple[str, str, str, str]]:
    """One independent type 3 site per ICB: (icb, code, name, region name)."""
    sites = []
    for index, icb in enumerate(catchment.icb_codes):
        trust = next(t for t in catchment.trusts if t.icb_code == icb)
        place = trust.name.split(" TEACHING")[0].split(" UNIVERSITY")[0]
        letters = string.ascii_uppercase
        code = f"N{letters[index // 26 % 26]}{letters[index % 26]}0{letters[(index * 7) % 26]}"
        kind = "WALK-IN CENTRE" if index % 2 else "URGENT TREATMENT CENTRE"
        # Some published names carry a comma (and are quoted in the CSV).
        name = f"{place} {kind}, COMMUNITY SITE" if index % 3 == 1 else f"{place} {kind}"
        sites.append((icb, code, name, trust.region_name))
    return sites


def sitrep_rows(
    geo: Geography,
    catchment: Catchment,
    month_index: int,
    month: date,
    rng: np.random.Generator,
    skip: str | None = None,
) -> list[dict[str, object]]:
    """One month's provider rows (canonical names; None = not applicable `-`), TOTAL not included."""
    expected = attendance_rates(geo, month_index, month).sum(axis=1)  # per practice
    per_trust = expected @ catchment.share
    shares = catchment.type_shares()
    rows = []
    for index, trust in enumerate(catchment.trusts):
        att = rng.poisson(per_trust[index] * shares[index])
        booked = [rng.poisson(att[k] * BOOKED[k + 1][0]) for k in range(3)]
        over = [
            rng.binomial(att[0], breach_probability(1, TYPE1_ADMIT)),
            rng.binomial(att[1], breach_probability(2, ADMIT[2])),
            rng.binomial(att[2], breach_probability(3, ADMIT[3])),
        ]
        booked_over = [rng.binomial(booked[k], BOOKED[k + 1][1]) for k in range(3)]
        admissions = [
            rng.binomial(att[0], TYPE1_ADMIT),
            rng.binomial(att[1], ADMIT[2]),
            rng.binomial(att[2], ADMIT[3]),
        ]
        dta_4_12 = rng.binomial(admissions[0], DTA_4_TO_12H)
        dta_12 = rng.binomial(admissions[0] - dta_4_12, DTA_12H_PLUS)
        if trust.code == skip:
            continue
        rows.append(
            {
                "org_code": trust.code,
                "parent_org": _region_parent(trust.region_name),
                "org_name": trust.name,
                **_measures(att, booked, over, booked_over, (dta_4_12, dta_12), admissions),
                "other_emergency_admissions": int(rng.poisson(att[0] * OTHER_EMERGENCY_ADMISSIONS)),
            }
        )
    icb_expected = np.bincount(
        catchment.icb_of_practice, weights=expected, minlength=len(catchment.icb_codes)
    )
    for index, (icb, code, name, region) in enumerate(_independent_sites(catchment)):
        other = int(rng.poisson(icb_expected[catchment.icb_codes.index(icb)] * INDEPENDENT_SHARE))
        over_other = int(rng.binomial(other, breach_probability(3, 0.0)))
        row = {
            "org_code": code,
            "parent_org": _region_parent(region),
            "org_name": name,
            **_measures((0, 0, other), (0, 0, 0), (0, 0, over_other), (0, 0, 0), (0, 0), (0, 0, 0)),
            "other_emergency_admissions": 0,
        }
        if index == 0:  # a walk-in centre admits nobody: not applicable, published as '-'
            for key in ("dta_4_to_12h", "dta_over_12h", "emergency_admissions_type_1"):
                row[key] = None
            for key in (
                "emergency_admissions_type_2",
                "emergency_admissions_other",
                "other_emergency_admissions",
            ):
                row[key] = None
        rows.append(row)
    return sorted(rows, key=lambda r: (str(r["parent_org"]), str(r["org_code"])))


def _measures(att, booked, over, booked_over, dta, admissions) -> dict[str, int]:
    values = [*att, *booked, *over, *booked_over, *dta, *admissions]
    names = [n for n in SITREP_MEASURES if n != "other_emergency_admissions"]
    return {name: int(v) for name, v in zip(names, values, strict=True)}


def sitrep_csv(month: date, rows: list[dict[str, object]], total_label: str = "TOTAL") -> bytes:
    """The published CSV: header verbatim, provider rows, TOTAL last; LF; '-' for not applicable."""
    period = f"MSitAE-{MONTH_NAMES[month.month - 1].upper()}-{month.year}"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(SITREP_HEADER_2025)
    for row in rows:
        writer.writerow(
            [period, row["org_code"], row["parent_org"], row["org_name"]]
            + ["-" if row[m] is None else row[m] for m in SITREP_MEASURES]
        )
    totals = [sum(int(r[m]) for r in rows if r[m] is not None) for m in SITREP_MEASURES]
    writer.writerow([total_label] * 4 + totals)
    return buffer.getvalue().encode("utf-8")


def sitrep_file_name(month: date, new_style_suffix: str | None = None) -> str:
    """`Monthly-AE-April-2025.csv`, or the newer `July-2025-CSV-9jfy4.csv`."""
    name = MONTH_NAMES[month.month - 1]
    if new_style_suffix:
        return f"{name}-{month.year}-CSV-{new_style_suffix}.csv"
    return f"Monthly-AE-{name}-{month.year}.csv"


# --------------------------------------------------------------------------------------------
# Both feeds
# --------------------------------------------------------------------------------------------


def write_urgent_care(
    geo: Geography,
    seed: int,
    out: Path,
    months: list[date],
    receive: Receive,
    scale: str = "sample",
) -> list[PlantedGap]:
    """Write the SitRep for every month and ECDS for the record-level months; return the
    planted gaps."""
    catchment = Catchment(geo, seed)
    trusts = catchment.trusts
    picks = activity_base.feed_rng(seed, "urgent_care_gaps").choice(len(trusts), 4, replace=len(trusts) < 4)
    missing_ecds, partial_ecds, default_ecds, missing_sitrep = (int(i) for i in picks)
    ecds_months = (
        [m for m in months if m >= activity_base.FIRST_ACTIVITY_MONTH_SAMPLE] if scale == "sample" else months
    )
    fraction = activity_base.SAMPLE_FRACTION[ECDS.name] if scale == "sample" else 1.0
    middle = len(ecds_months) // 2
    ecds_gap_month = {
        "missing": ecds_months[middle] if ecds_months else None,
        "partial": ecds_months[min(middle + 2, len(ecds_months) - 1)] if ecds_months else None,
        "defaults": ecds_months[max(middle - 2, 0)] if ecds_months else None,
    }
    sitrep_gap_month = months[len(months) // 2]
    suffix_rng = activity_base.feed_rng(seed, "ae_monthly_names")
    new_style_month = months[-1]
    title_case_total_month = months[-2] if len(months) > 1 else None

    gaps: list[PlantedGap] = [
        PlantedGap(
            "missing_provider_month",
            AE_MONTHLY.name,
            f"{sitrep_gap_month:%Y-%m}",
            trusts[missing_sitrep].code,
            "trust left out of the month's SitRep file while present in the others (its attendances "
            "are not in the TOTAL row either, as for a non-submission)",
        )
    ]
    if ecds_months:
        gaps += [
            PlantedGap(
                "missing_provider_month",
                ECDS.name,
                f"{ecds_gap_month['missing']:%Y-%m}",
                trusts[missing_ecds].code,
                "trust has no ECDS records in the month while it submits in the others",
            ),
            PlantedGap(
                "partial_submission",
                ECDS.name,
                f"{ecds_gap_month['partial']:%Y-%m}",
                trusts[partial_ecds].code,
                f"trust's ECDS month holds about {PLANTED_PARTIAL_SHARE:.0%} of its usual volume",
            ),
            PlantedGap(
                "default_code",
                ECDS.name,
                f"{ecds_gap_month['defaults']:%Y-%m}",
                trusts[default_ecds].code,
                f"about {PLANTED_DEFAULT_SHARE:.0%} of the trust's records carry V81999/V81997 "
                "instead of a registered practice",
            ),
        ]

    sitrep_rng = activity_base.feed_rng(seed, AE_MONTHLY.name)
    ecds_rng = activity_base.feed_rng(seed, ECDS.name)
    for index, month in enumerate(months):
        rows = sitrep_rows(
            geo,
            catchment,
            index,
            month,
            sitrep_rng,
            skip=trusts[missing_sitrep].code if month == sitrep_gap_month else None,
        )
        suffix = "".join(suffix_rng.choice(list(string.ascii_lowercase + string.digits), 5))
        name = sitrep_file_name(month, suffix if month == new_style_month else None)
        path = out / AE_MONTHLY.name / f"{month:%Y-%m}" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(sitrep_csv(month, rows, "Total" if month == title_case_total_month else "TOTAL"))
        receive(AE_MONTHLY.name, month, path, SITREP_DAY)

        if month in ecds_months:
            path, _ = write_ecds_month(
                geo,
                catchment,
                index,
                month,
                fraction,
                ecds_rng,
                out,
                missing=missing_ecds if month == ecds_gap_month["missing"] else None,
                partial=partial_ecds if month == ecds_gap_month["partial"] else None,
                defaults=default_ecds if month == ecds_gap_month["defaults"] else None,
            )
            receive(ECDS.name, month, path, ECDS_DAY)
    return gaps


class UrgentCareWriter:
    label = "urgent care"

    def steps(self, ctx: WriteContext) -> int:
        return RECORD_WEIGHT * len(ctx.months)

    def write(self, ctx: WriteContext) -> list[PlantedGap]:
        return write_urgent_care(ctx.geo, ctx.seed, ctx.out, ctx.months, ctx.receive, ctx.scale)
