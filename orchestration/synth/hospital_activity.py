"""HES admitted patient care and outpatient extracts for the generated geography.

One pipe-delimited DARS-style file a month per feed, holding the episodes (appointments) that
ended (took place) in that month: `hes_apc/<YYYY-MM>/HES_APC_<YYYYMM>.txt` and
`hes_opa/<YYYY-MM>/HES_OPA_<YYYYMM>.txt` (zipped in the shipped sample).

Volumes follow England's: about 26 episodes and 160 outpatient appointments per 1,000 registered
patients a month, each condition with its own age-sex pattern (strokes and hip fractures in the
old, asthma and bronchiolitis in children, births to women of 15-44). Spells have one or more
episodes; some emergency spells end in a transfer to another trust and a new spell there; about
7% of emergency discharges are followed by an emergency readmission of the same patient within
30 days (it lands in the month of its own discharge).

The sample writes 2022-01 to 2022-12 (`activity_base.FIRST_ACTIVITY_MONTH_SAMPLE` on), admitted
care at real volume (about 41,000 episodes a month for its 1.7 million patients) and outpatients
at `activity_base.SAMPLE_FRACTION` (3%) of it; national writes every month asked for at full
volume. Planted gaps (returned; manifest): a trust missing a
whole month of APC, a trust's APC month at ~40% of its usual volume, default GP practice codes
(V81999) on 12% of one trust's APC month, the unpriced HRG UZ01Z on 4% of one trust's month, an
APC extract without DISMETH, and an outpatient month at ~40% for one trust.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from orchestration.synth import activity_base as base
from orchestration.synth import population
from orchestration.synth.context import RECORD_WEIGHT, WriteContext
from orchestration.synth.deprivation import LSOA_CODE_SQL, lsoa_ranges
from orchestration.synth.geography import Geography
from orchestration.synth.manifest import PlantedGap, Receive

APC, OPA = "hes_apc", "hes_opa"
PUBLICATION_DAY = 20
DEFAULT_PRACTICE = "V81999"

# Profiles: relative rate by quinary band (0-4 … 95+), normalised later to England's ages.
_MID = np.array([2, 7, 12, 17, 22, 27, 32, 37, 42, 47, 52, 57, 62, 67, 72, 77, 82, 87, 92, 97], float)
PROFILES = {
    "older": np.exp(0.055 * (_MID - 50)),
    "very_old": np.exp(0.09 * (_MID - 60)),
    "adult": np.where(_MID < 15, 0.25, 1 + (_MID - 15) / 60),
    "child": np.where(_MID < 5, 4.0, np.where(_MID < 15, 1.5, np.where(_MID < 65, 0.4, 0.8))),
    "childbearing": np.where((_MID > 15) & (_MID < 45), 1.0, 0.0),
    "newborn": np.where(_MID < 5, 1.0, 0.0),
    "flat": np.ones(20),
}

# pods: elective ordinary, day case, emergency, maternity, regular day attender, birth
PODS = ("elective", "day_case", "emergency", "maternity", "regular", "birth")


@dataclass(frozen=True)
class Condition:
    name: str
    diagnoses: tuple[str, ...]
    hrg: str
    pods: tuple[float, float, float, float, float, float]
    profile: str
    rate: float  # spells per 1,000 registered patients a month, all ages
    female_share: float
    tfc: str
    los: float  # mean length of stay of an ordinary/emergency spell, days
    procedure: str = "-"
    child_hrg: str | None = None


CONDITIONS = (
    Condition("stroke", ("I639", "I619", "I64X"), "AA35F", (0, 0, 1, 0, 0, 0), "older", 0.16, 0.5, "430", 10),
    Condition(
        "dementia",
        ("F019", "F03X", "G309"),
        "AA25D",
        (0.1, 0, 0.9, 0, 0, 0),
        "very_old",
        0.06,
        0.6,
        "430",
        12,
    ),
    Condition("epilepsy", ("G409", "G403"), "AA26H", (0.05, 0, 0.95, 0, 0, 0), "flat", 0.06, 0.45, "400", 2),
    Condition(
        "cataract", ("H251", "H259"), "BZ34B", (0.02, 0.98, 0, 0, 0, 0), "older", 0.7, 0.58, "130", 1, "C751"
    ),
    Condition(
        "tonsils", ("J350", "J351"), "CA60A", (0.4, 0.6, 0, 0, 0, 0), "child", 0.05, 0.55, "120", 1, "F341"
    ),
    Condition(
        "copd", ("J440", "J441", "J449"), "DZ65K", (0, 0.03, 0.97, 0, 0, 0), "older", 0.22, 0.52, "340", 5
    ),
    Condition(
        "asthma",
        ("J459", "J450"),
        "DZ15R",
        (0, 0, 1, 0, 0, 0),
        "child",
        0.1,
        0.55,
        "340",
        2,
        child_hrg="PD12C",
    ),
    Condition("pneumonia", ("J181", "J189"), "DZ11R", (0, 0, 1, 0, 0, 0), "older", 0.35, 0.5, "300", 7),
    Condition(
        "lrti",
        ("J22X", "J209", "J219"),
        "DZ22Q",
        (0, 0, 1, 0, 0, 0),
        "child",
        0.2,
        0.5,
        "300",
        3,
        child_hrg="PA14D",
    ),
    Condition(
        "heart_failure", ("I500", "I509"), "EB03E", (0, 0, 1, 0, 0, 0), "very_old", 0.15, 0.47, "320", 9
    ),
    Condition("mi", ("I214", "I219"), "EB10E", (0, 0.05, 0.95, 0, 0, 0), "older", 0.14, 0.35, "320", 4),
    Condition(
        "arrhythmia", ("I489", "I471"), "EB07E", (0.1, 0.1, 0.8, 0, 0, 0), "older", 0.12, 0.48, "320", 2
    ),
    Condition(
        "angina_pci",
        ("I209", "I251"),
        "ED28C",
        (0.3, 0.5, 0.2, 0, 0, 0),
        "older",
        0.08,
        0.3,
        "320",
        2,
        "K751",
    ),
    Condition(
        "colonoscopy",
        ("K573", "K629", "K921"),
        "FE22Z",
        (0, 1, 0, 0, 0, 0),
        "adult",
        1.1,
        0.52,
        "301",
        0,
        "H229",
    ),
    Condition("gi", ("K297", "K590", "R104"), "FD10M", (0, 0.2, 0.8, 0, 0, 0), "adult", 0.6, 0.55, "100", 2),
    Condition(
        "gallstones",
        ("K802", "K801"),
        "GA10J",
        (0.2, 0.6, 0.2, 0, 0, 0),
        "adult",
        0.12,
        0.7,
        "100",
        2,
        "J183",
    ),
    Condition("hip_oa", ("M161", "M169"), "HN12C", (1, 0, 0, 0, 0, 0), "older", 0.15, 0.6, "110", 4, "W371"),
    Condition(
        "knee_oa", ("M171", "M179"), "HN22C", (1, 0, 0, 0, 0, 0), "older", 0.16, 0.57, "110", 4, "W401"
    ),
    Condition(
        "hip_fracture",
        ("S720", "S721", "S722"),
        "HT12C",
        (0, 0, 1, 0, 0, 0),
        "very_old",
        0.1,
        0.7,
        "110",
        18,
        "W461",
    ),
    Condition(
        "skin",
        ("L905", "D485", "C443"),
        "JC42C",
        (0.05, 0.95, 0, 0, 0, 0),
        "older",
        0.45,
        0.5,
        "330",
        0,
        "S061",
    ),
    Condition(
        "diabetes_high", ("E101", "E111", "E149"), "KB02K", (0, 0, 1, 0, 0, 0), "adult", 0.05, 0.45, "307", 3
    ),
    Condition("diabetes_low", ("E162", "E160"), "KB01F", (0, 0, 1, 0, 0, 0), "older", 0.03, 0.5, "307", 2),
    Condition("uti", ("N390", "N10X"), "LA04S", (0, 0, 1, 0, 0, 0), "very_old", 0.3, 0.68, "300", 4),
    Condition("catheter", ("Z466", "N319"), "LB40E", (0, 1, 0, 0, 0, 0), "older", 0.1, 0.3, "101", 0, "M474"),
    Condition(
        "delivery", ("O800", "O701", "O709"), "NZ30C", (0, 0, 0, 1, 0, 0), "childbearing", 0.9, 1.0, "501", 1
    ),
    Condition(
        "caesarean",
        ("O821", "O829"),
        "NZ50C",
        (0, 0, 0, 1, 0, 0),
        "childbearing",
        0.15,
        1.0,
        "501",
        3,
        "R171",
    ),
    Condition(
        "antenatal",
        ("O200", "O234", "O470"),
        "NZ16Z",
        (0, 0, 0.3, 0.7, 0, 0),
        "childbearing",
        0.4,
        1.0,
        "501",
        1,
    ),
    Condition("well_baby", ("Z380",), "PB03Z", (0, 0, 0, 0, 0, 1), "newborn", 0.85, 0.49, "424", 1),
    Condition(
        "alcohol",
        ("F101", "F102", "K701", "K703"),
        "WD11Z",
        (0, 0, 1, 0, 0, 0),
        "adult",
        0.08,
        0.35,
        "300",
        4,
    ),
    Condition(
        "pain", ("R074", "R101", "R55X"), "WH08B", (0, 0.1, 0.9, 0, 0, 0), "adult", 0.9, 0.52, "300", 1
    ),
    Condition(
        "regular_day", ("Z511", "Z491"), "WA22Y", (0, 0, 0, 0, 1, 0), "older", 4.6, 0.48, "800", 0, "X352"
    ),
    Condition(
        "other_emergency",
        ("R69X", "R688", "R53X", "T814"),
        "WA22Y",
        (0, 0, 1, 0, 0, 0),
        "flat",
        4.2,
        0.52,
        "300",
        3,
    ),
    Condition(
        "other_elective",
        ("Z098", "Z099", "D649"),
        "WA22Y",
        (0.25, 0.75, 0, 0, 0, 0),
        "adult",
        5.0,
        0.55,
        "100",
        1,
    ),
)
COMORBIDITIES = ("I10X", "E119", "J449", "N189", "F03X", "I489", "Z864", "E785", "Z921", "F329")
ADMIMETH = {
    "elective": (("11", "12", "13"), (0.7, 0.2, 0.1)),
    "day_case": (("11", "12", "13"), (0.6, 0.3, 0.1)),
    "emergency": (("21", "22", "23", "24", "2A", "2D"), (0.72, 0.14, 0.01, 0.04, 0.04, 0.05)),
    "maternity": (("31", "32"), (0.9, 0.1)),
    "regular": (("11", "13"), (0.5, 0.5)),
    "birth": (("82", "83"), (0.97, 0.03)),
}
CLASSPAT = {
    "elective": "1",
    "day_case": "2",
    "emergency": "1",
    "maternity": "1",
    "regular": "3",
    "birth": "1",
}

# Outpatients: appointments per 1,000 a month by treatment function and its age profile.
OUTPATIENT = {
    "100": (12, "adult"),
    "101": (8, "older"),
    "110": (18, "adult"),
    "120": (8, "flat"),
    "130": (20, "older"),
    "300": (6, "older"),
    "301": (7, "adult"),
    "307": (5, "adult"),
    "320": (12, "older"),
    "330": (10, "adult"),
    "340": (6, "older"),
    "400": (6, "adult"),
    "410": (6, "adult"),
    "420": (7, "child"),
    "430": (4, "very_old"),
    "501": (10, "childbearing"),
    "502": (7, "childbearing"),
    "650": (8, "adult"),
    "800": (5, "older"),
}
OP_PROCEDURES = {
    "330": ("S063", "JC42C", 0.25),
    "301": ("H229", "FE22Z", 0.08),
    "101": ("M474", "LB40E", 0.1),
}


def _england_shares() -> np.ndarray:
    """Share of England's registered population in each of the 20 bands (both sexes)."""
    mix = 0.5 * population.YOUNG + 0.5 * population.OLDER
    return mix[:20] + mix[20:]


def _rates(profile: str, rate: float, female_share: float) -> np.ndarray:
    """Per-person monthly rate in each of the 40 cells (female bands, then male bands)."""
    shape = PROFILES[profile]
    shares = _england_shares()
    per_person = shape / (shape * shares).sum() * rate / 1000
    female = population.YOUNG[:20] + population.OLDER[:20]
    male = population.YOUNG[20:] + population.OLDER[20:]
    f_share = female / (female + male)
    # scale each sex so the condition's female share holds across England's population
    f_weight = female_share / max((per_person * f_share * shares).sum() / (per_person * shares).sum(), 1e-9)
    m_weight = (1 - female_share) / max(
        (per_person * (1 - f_share) * shares).sum() / (per_person * shares).sum(), 1e-9
    )
    if female_share >= 1:
        m_weight = 0.0
    return np.concatenate([per_person * f_weight, per_person * m_weight])


def _days(d: date) -> int:
    return (d - date(1970, 1, 1)).days


def _month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _draw(rng: np.random.Generator, probabilities: tuple[float, ...], n: int) -> np.ndarray:
    """Category index for each of n draws."""
    cum = np.cumsum(probabilities) / sum(probabilities)
    return np.minimum(np.searchsorted(cum, rng.random(n), side="right"), len(cum) - 1).astype(np.int8)


@dataclass
class Planted:
    missing_trust: str
    missing_month: date
    partial_trust: str
    partial_month: date
    default_trust: str
    default_month: date
    unpriced_trust: str
    unpriced_month: date
    no_dismeth_month: date
    op_partial_trust: str
    op_partial_month: date

    def gaps(self) -> list[PlantedGap]:
        return [
            PlantedGap(
                "missing_provider_month",
                APC,
                f"{self.missing_month:%Y-%m}",
                self.missing_trust,
                "trust's episodes absent from the month's APC extract",
            ),
            PlantedGap(
                "partial_submission",
                APC,
                f"{self.partial_month:%Y-%m}",
                self.partial_trust,
                "trust submitted about 40% of its usual APC episodes",
            ),
            PlantedGap(
                "default_code",
                APC,
                f"{self.default_month:%Y-%m}",
                self.default_trust,
                f"GPPRAC {DEFAULT_PRACTICE} (not known) on about 12% of the trust's episodes",
            ),
            PlantedGap(
                "unpriced_hrg",
                APC,
                f"{self.unpriced_month:%Y-%m}",
                self.unpriced_trust,
                "HRG UZ01Z (data invalid for grouping, no tariff price) on about 4% of the trust's episodes",
            ),
            PlantedGap(
                "missing_field",
                APC,
                f"{self.no_dismeth_month:%Y-%m}",
                "",
                "APC extract without DISMETH (as HES 2019/20 extracts first came)",
            ),
            PlantedGap(
                "partial_submission",
                OPA,
                f"{self.op_partial_month:%Y-%m}",
                self.op_partial_trust,
                "trust submitted about 40% of its usual outpatient appointments",
            ),
        ]


def _plan_gaps(trusts: list[base.Provider], months: list[date], rng: np.random.Generator) -> Planted:
    picks = [trusts[i].code for i in rng.permutation(len(trusts))]
    code = lambda k: picks[k % len(picks)]  # noqa: E731
    at = lambda k: months[max(0, min(k, len(months) - 1))]  # noqa: E731
    m = len(months)
    return Planted(
        missing_trust=code(0),
        missing_month=at(m // 2),
        partial_trust=code(1),
        partial_month=at(m // 2 + 1),
        default_trust=code(2),
        default_month=at(m // 3),
        unpriced_trust=code(3),
        unpriced_month=at(m // 3 + 1),
        no_dismeth_month=at(m - 2),
        op_partial_trust=code(4),
        op_partial_month=at(m // 2 + 2),
    )


# ---------------------------------------------------------------------------------------------
# Admitted patient care
# ---------------------------------------------------------------------------------------------


def _spells(geo, month, month_index, fraction, trust_of, rng) -> dict[str, np.ndarray]:
    """Spells discharged in `month`, one array per attribute."""
    cells = base.expected_cells(geo, month_index)
    rates = np.stack([_rates(c.profile, c.rate, c.female_share) for c in CONDITIONS])  # C × 40
    counts = rng.poisson(cells[:, None, :] * rates[None, :, :] * fraction)
    practice, condition, cell = np.nonzero(counts)
    reps = counts[practice, condition, cell]
    practice, condition, cell = (np.repeat(a, reps).astype(np.int32) for a in (practice, condition, cell))
    n = practice.size
    cum = np.array([c.pods for c in CONDITIONS]).cumsum(axis=1)[condition]
    pod = np.minimum((rng.random(n)[:, None] >= cum).sum(axis=1), len(PODS) - 1).astype(np.int8)
    mean_los = np.array([c.los for c in CONDITIONS])[condition]
    los = np.where(
        np.isin(pod, (1, 4)),
        0,
        np.where(
            pod == 0,
            np.maximum(1, rng.poisson(np.maximum(mean_los, 1))),
            np.rint(rng.gamma(1.2, np.maximum(mean_los, 0.5) / 1.2)),
        ),
    )
    los = np.minimum(los, 120).astype(np.int32)
    discharge = rng.integers(_days(month), _days(_month_end(month)) + 1, size=n).astype(np.int32)
    second = rng.random(n) < 0.15
    return {
        "practice": practice,
        "condition": condition,
        "female": cell < 20,
        "age": base.ages_in_band(cell % 20, rng).astype(np.int16),
        "pod": pod,
        "los": los,
        "discharge": discharge,
        "admission": discharge - los,
        "trust": np.where(second, trust_of[practice, 1], trust_of[practice, 0]).astype(np.int32),
        "kind": np.zeros(n, dtype=np.int8),  # 0 index spell, 1 transfer in, 2 readmission
        "transferred_out": np.zeros(n, dtype=bool),
        "patient": rng.integers(0, 2**62, size=n),
    }


def _concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _with_followers(spells: dict[str, np.ndarray], trust_of: np.ndarray, rng) -> dict[str, np.ndarray]:
    """Add transfers to another trust (new spell from the discharge day) and 30-day emergency
    readmissions of the same patients."""
    n = spells["pod"].size
    emergency = spells["pod"] == 2
    transfer = emergency & (spells["los"] >= 2) & (rng.random(n) < 0.02)
    spells["transferred_out"] = transfer
    t = {k: v[transfer].copy() for k, v in spells.items()}
    t_los = rng.integers(1, 10, size=transfer.sum()).astype(np.int32)
    t.update(
        admission=t["discharge"],
        los=t_los,
        discharge=t["discharge"] + t_los,
        trust=trust_of[t["practice"], 1].astype(np.int32),
        kind=np.ones(transfer.sum(), dtype=np.int8),
        transferred_out=np.zeros(transfer.sum(), dtype=bool),
    )
    readmit = emergency & ~transfer & (rng.random(n) < 0.07)
    r = {k: v[readmit].copy() for k, v in spells.items()}
    k = int(readmit.sum())
    gap = rng.integers(1, 31, size=k).astype(np.int32)
    r_los = np.rint(rng.gamma(1.2, 4 / 1.2, size=k)).astype(np.int32)
    emergency_conditions = np.array([i for i, c in enumerate(CONDITIONS) if c.pods[2] >= 0.8], dtype=np.int32)
    r.update(
        admission=r["discharge"] + gap,
        los=r_los,
        discharge=r["discharge"] + gap + r_los,
        kind=np.full(k, 2, dtype=np.int8),
        condition=rng.choice(emergency_conditions, size=k),
        pod=np.full(k, 2, dtype=np.int8),
    )
    return _concat([spells, t, r])


def _episodes(spells: dict[str, np.ndarray], rng) -> pd.DataFrame:
    """Spells → consultant episodes: 15% of emergency spells of 3+ days have two."""
    n = spells["pod"].size
    two = (spells["pod"] == 2) & (spells["los"] >= 3) & (rng.random(n) < 0.15)
    spell_no = np.arange(n, dtype=np.int64)
    rows = np.concatenate([spell_no, spell_no[two]])
    frame = pd.DataFrame({k: v[rows] for k, v in spells.items()})
    frame["spell_no"] = rows
    frame["epiorder"] = np.concatenate([np.ones(n, np.int8), np.full(int(two.sum()), 2, np.int8)])
    frame["episodes"] = np.where(two[rows], 2, 1).astype(np.int8)
    first_end = frame["admission"] + np.maximum(1, frame["los"] // 3)
    split = frame["episodes"] == 2
    frame["epistart"] = np.where(split & (frame["epiorder"] == 2), first_end, frame["admission"]).astype(
        np.int32
    )
    frame["epiend"] = np.where(split & (frame["epiorder"] == 1), first_end, frame["discharge"]).astype(
        np.int32
    )
    m = len(frame)
    frame["n_comorbid"] = np.minimum(rng.poisson(np.where(frame["age"] > 64, 2.2, 0.6)), 6).astype(np.int8)
    frame["comorbid_seed"] = rng.integers(0, len(COMORBIDITIES), size=m).astype(np.int8)
    frame["diag_pick"] = rng.integers(0, 4, size=m).astype(np.int8)
    frame["admimeth"] = np.zeros(m, np.int8)
    for pod, (_, probabilities) in enumerate(ADMIMETH.values()):
        mask = (frame["pod"] == pod).to_numpy()
        frame.loc[mask, "admimeth"] = _draw(rng, probabilities, int(mask.sum()))
    frame["died"] = (frame["pod"] == 2) & (frame["age"] > 64) & (rng.random(m) < 0.04)
    frame["operated"] = rng.random(m) < 0.6  # hip fractures: fixed (HT12C) or not (HE11C)
    frame["ethnos"] = _draw(rng, (0.78, 0.03, 0.02, 0.06, 0.03, 0.04, 0.02, 0.02), m)
    frame["noise"] = rng.random(m)
    return frame


_CONDITION_SQL = (
    "select * from (values "
    + ", ".join(
        f"({i}, '{c.hrg}', '{c.child_hrg or c.hrg}', '{c.tfc}', '{c.procedure}', "
        f"[{', '.join(repr(d) for d in c.diagnoses)}])"
        for i, c in enumerate(CONDITIONS)
    )
    + ") as t(condition, hrg, child_hrg, tfc, procedure, diagnoses)"
)


def _sql_list(values) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


APC_DIAG = 20
APC_OPER = 24


def _apc_query(planted: Planted, month: date, drop_dismeth: bool) -> str:
    """The month's episodes as the DARS extract's columns, in extract order."""
    pods_with_meth = list(ADMIMETH.values())
    admimeth_case = " ".join(
        f"when e.pod = {p} then {_sql_list(codes)}[e.admimeth + 1]"
        for p, (codes, _) in enumerate(pods_with_meth)
    )
    classpat_case = " ".join(f"when e.pod = {p} then '{CLASSPAT[name]}'" for p, name in enumerate(PODS))
    diag_cols = ", ".join(f"coalesce(diags[{i}], '') as DIAG_4_{i:02d}" for i in range(1, APC_DIAG + 1))
    oper_cols = ", ".join(
        (f"opertn as OPERTN_4_{i:02d}" if i == 1 else f"'' as OPERTN_4_{i:02d}")
        for i in range(1, APC_OPER + 1)
    )
    dismeth = (
        ""
        if drop_dismeth
        else "case when not last_episode then '8' when died then '4' else '1' end as DISMETH,"
    )
    fmt = "strftime(date '1970-01-01' + {c}, '%Y-%m-%d')"
    return f"""
    with e as (
        select e.*, c.*, p.code as practice_code, p.sub_icb, p.lsoa_first, p.lsoa_count, t.code as trust_code
        from episodes as e
        join conditions as c using (condition)
        join practices as p on p.idx = e.practice
        join trusts as t on t.idx = e.trust
    ),
    shaped as (
        select
            e.*,
            case when e.kind = 1 then '2B' {admimeth_case} end as admimeth_code,
            case {classpat_case} end as classpat_code,
            case
                when e.condition = {_condition_index("hip_fracture")} and not e.operated then 'HE11C'
                when e.age < 19 then e.child_hrg else e.hrg
            end as hrg_code,
            case
                when e.condition = {_condition_index("hip_fracture")} and not e.operated then '-'
                when e.pod in (0, 1, 4) or e.condition in ({_condition_index("hip_fracture")},
                    {_condition_index("caesarean")}) then e.procedure
                else '-'
            end as opertn,
            list_concat(
                [e.diagnoses[(e.diag_pick % len(e.diagnoses)) + 1]],
                list_transform(
                    range(e.n_comorbid),
                    lambda i: {_sql_list(COMORBIDITIES)}[((e.comorbid_seed + i) % {len(COMORBIDITIES)}) + 1]
                )
            ) as diags,
            e.epiorder = e.episodes as last_episode
        from e
    ),
    planted as (
        select
            *,
            case
                when trust_code = '{planted.default_trust}' and {_is_month(planted.default_month)}
                    and noise < 0.12 then '{DEFAULT_PRACTICE}'
                when noise > 0.997 then 'V81998'
                else practice_code
            end as gpprac,
            case
                when trust_code = '{planted.unpriced_trust}' and {_is_month(planted.unpriced_month)}
                    and noise between 0.5 and 0.54 then 'UZ01Z'
                else hrg_code
            end as sushrg
        from shaped
    )
    select
        (case when month(date '1970-01-01' + epiend) >= 4 then year(date '1970-01-01' + epiend)
              else year(date '1970-01-01' + epiend) - 1 end % 100 * 100
         + (case when month(date '1970-01-01' + epiend) >= 4 then year(date '1970-01-01' + epiend) + 1
                 else year(date '1970-01-01' + epiend) end % 100))::varchar as FYEAR,
        '{month:%Y%m}' || lpad((row_number() over (order by epiend, spell_no, epiorder))::varchar, 7, '0')
            as EPIKEY,
        upper(md5(patient::varchar)) as PSEUDO_HESID,
        lpad(spell_no::varchar, 12, '0') as SUSSPELLID,
        {fmt.format(c="admission")} as ADMIDATE,
        case when last_episode then {fmt.format(c="discharge")} else '' end as DISDATE,
        {fmt.format(c="epistart")} as EPISTART,
        {fmt.format(c="epiend")} as EPIEND,
        epiorder::varchar as EPIORDER,
        '3' as EPISTAT,
        case when epiorder = 1 then '2' else '0' end as SPELBGIN,
        case when last_episode then 'Y' else 'N' end as SPELEND,
        (epiend - epistart)::varchar as EPIDUR,
        case when last_episode then los::varchar else '' end as SPELDUR,
        admimeth_code as ADMIMETH,
        case when kind = 1 then '51' when pod = 5 then '79' else '19' end as ADMISORC,
        classpat_code as CLASSPAT,
        {dismeth}
        case when not last_episode then '98' when died then '79' when transferred_out then '51' else '19' end
            as DISDEST,
        case when pod = 5 then '7001' when age = 0 then '7004' else age::varchar end as STARTAGE,
        case when female then '2' else '1' end as SEX,
        {_sql_list(("A", "B", "C", "H", "J", "M", "Z", "99"))}[ethnos + 1] as ETHNOS,
        gpprac as GPPRAC,
        trust_code as PROCODE3,
        trust_code || '01' as PROCODE5,
        trust_code || '01' as SITETRET,
        case when episodes = 2 and epiorder = 1 then '300' else tfc end as MAINSPEF,
        case when episodes = 2 and epiorder = 1 then '300' else tfc end as TRETSPEF,
        {diag_cols},
        array_to_string(diags, ',') as DIAG_4_CONCAT,
        len(diags)::varchar as DIAG_COUNT,
        {oper_cols},
        opertn as OPERTN_4_CONCAT,
        case when opertn = '-' then '0' else '1' end as OPERTN_COUNT,
        sushrg as SUSHRG,
        sub_icb as CCG_RESPONSIBILITY,
        sub_icb as CCG_RESIDENCE,
        {LSOA_CODE_SQL.format(serial="lsoa_first + (patient % lsoa_count)")} as LSOA11
    from planted
    where not (trust_code = '{planted.missing_trust}' and {_is_month(planted.missing_month)})
      and not (trust_code = '{planted.partial_trust}' and {_is_month(planted.partial_month)} and noise > 0.4)
    order by EPIKEY
    """


def _condition_index(name: str) -> int:
    return next(i for i, c in enumerate(CONDITIONS) if c.name == name)


def _is_month(month: date) -> str:
    return f"epiend between {_days(month)} and {_days(_month_end(month))}"


def _dimension_tables(conn, geo: Geography, trusts: list[base.Provider]) -> None:
    ranges = lsoa_ranges(geo)
    lsoa = np.array([ranges[s] for s in geo.practices["sub_icb"]], dtype=np.int64)
    conn.register(
        "practices_df",
        pd.DataFrame(
            {
                "idx": np.arange(geo.n),
                "code": geo.practices["code"].astype(str),
                "sub_icb": geo.practices["sub_icb"].astype(str),
                "lsoa_first": lsoa[:, 0],
                "lsoa_count": lsoa[:, 1],
            }
        ),
    )
    conn.execute("create or replace table practices as select * from practices_df")
    conn.register(
        "trusts_df", pd.DataFrame({"idx": np.arange(len(trusts)), "code": [t.code for t in trusts]})
    )
    conn.execute("create or replace table trusts as select * from trusts_df")
    conn.execute(f"create or replace table conditions as {_CONDITION_SQL}")


def _write(conn, query: str, out: Path, feed: str, month: date, stem: str, scale: str) -> Path:
    folder = out / feed / f"{month:%Y-%m}"
    text = base.copy_to_csv(conn, query, folder / f"{stem}_{month:%Y%m}.txt", delimiter="|")
    if scale == "sample":
        return base.zip_file(text, folder / f"{stem}_{month:%Y%m}.zip")
    return text


def _active_months(months: list[date], scale: str) -> list[date]:
    return [m for m in months if scale != "sample" or m >= base.FIRST_ACTIVITY_MONTH_SAMPLE]


def write_admitted_care(geo, seed, out, months, receive, scale, conn, trusts, planted) -> int:
    rng = base.feed_rng(seed, APC)
    fraction = base.SAMPLE_FRACTION[APC] if scale == "sample" else 1.0
    trust_of = base.practice_trust(geo, trusts, rng)
    active = _active_months(months, scale)
    parts = [_spells(geo, m, months.index(m), fraction, trust_of, rng) for m in active]
    spells = _with_followers(_concat(parts), trust_of, rng)
    episodes = _episodes(spells, rng)
    conn.register("episodes_all", episodes)
    rows = 0
    for month in active:
        conn.execute(
            "create or replace table episodes as select * from episodes_all "
            f"where epiend between {_days(month)} and {_days(_month_end(month))}"
        )
        path = _write(
            conn,
            _apc_query(planted, month, month == planted.no_dismeth_month),
            out,
            APC,
            month,
            "HES_APC",
            scale,
        )
        rows += conn.execute("select count(*) from episodes").fetchall()[0][0]
        receive(APC, month, path, PUBLICATION_DAY)
    conn.unregister("episodes_all")
    return rows


# ---------------------------------------------------------------------------------------------
# Outpatients
# ---------------------------------------------------------------------------------------------

FIRSTATT = ("1", "2", "3", "4")
FIRSTATT_P = (0.27, 0.55, 0.04, 0.14)
ATTENDED = ("5", "6", "3", "7", "2", "4")
ATTENDED_P = (0.86, 0.02, 0.065, 0.005, 0.03, 0.02)
WF01 = ("WF01B", "WF01A", "WF01D", "WF01C")  # by FIRSTATT 1..4


def _appointments(geo, month, month_index, fraction, trust_of, rng) -> pd.DataFrame:
    cells = base.expected_cells(geo, month_index)
    tfcs = list(OUTPATIENT)
    rates = np.stack(
        [_rates(OUTPATIENT[t][1], OUTPATIENT[t][0], 0.55 if t not in ("501", "502") else 1.0) for t in tfcs]
    )
    counts = rng.poisson(cells[:, None, :] * rates[None, :, :] * fraction)
    practice, tfc, cell = np.nonzero(counts)
    reps = counts[practice, tfc, cell]
    practice, tfc, cell = (np.repeat(a, reps).astype(np.int32) for a in (practice, tfc, cell))
    n = practice.size
    second = rng.random(n) < 0.15
    procedure_p = np.array([OP_PROCEDURES.get(t, ("", "", 0.0))[2] for t in tfcs])[tfc]
    return pd.DataFrame(
        {
            "practice": practice,
            "tfc": tfc.astype(np.int8),
            "female": cell < 20,
            "age": base.ages_in_band(cell % 20, rng).astype(np.int16),
            "day": rng.integers(_days(month), _days(_month_end(month)) + 1, size=n).astype(np.int32),
            "trust": np.where(second, trust_of[practice, 1], trust_of[practice, 0]).astype(np.int32),
            "firstatt": _draw(rng, FIRSTATT_P, n),
            "attended": _draw(rng, ATTENDED_P, n),
            "outcome": _draw(rng, (0.3, 0.5, 0.2), n),
            "priority": _draw(rng, (0.75, 0.15, 0.10), n),
            "refsourc": _draw(rng, (0.5, 0.3, 0.1, 0.1), n),
            "procedure": rng.random(n) < procedure_p,
            "patient": rng.integers(0, 2**62, size=n),
            "noise": rng.random(n),
        }
    )


def _opa_query(planted: Planted, month: date) -> str:
    tfcs = list(OUTPATIENT)
    proc_opcs = _sql_list(OP_PROCEDURES.get(t, ("-", "", 0))[0] or "-" for t in tfcs)
    proc_hrg = _sql_list(OP_PROCEDURES.get(t, ("", "", 0))[1] for t in tfcs)
    return f"""
    select
        (case when month(date '1970-01-01' + day) >= 4 then year(date '1970-01-01' + day)
              else year(date '1970-01-01' + day) - 1 end % 100 * 100
         + (case when month(date '1970-01-01' + day) >= 4 then year(date '1970-01-01' + day) + 1
                 else year(date '1970-01-01' + day) end % 100))::varchar as FYEAR,
        '{month:%Y%m}' || lpad((row_number() over (order by day, patient))::varchar, 8, '0') as ATTENDKEY,
        upper(md5(patient::varchar)) as PSEUDO_HESID,
        strftime(date '1970-01-01' + day, '%Y-%m-%d') as APPTDATE,
        case when age = 0 then '7004' else age::varchar end as APPTAGE,
        case when female then '2' else '1' end as SEX,
        {_sql_list(ATTENDED)}[attended + 1] as ATTENDED,
        {_sql_list(FIRSTATT)}[firstatt + 1] as FIRSTATT,
        case when attended <= 1 then {_sql_list(("1", "2", "3"))}[outcome + 1] else '' end as OUTCOME,
        {_sql_list(("1", "2", "3"))}[priority + 1] as PRIORITY,
        {_sql_list(("03", "10", "01", "92"))}[refsourc + 1] as REFSOURC,
        '01' as STAFFTYP,
        case when attended <= 1 then '1' else '2' end as ATENTYPE,
        {_sql_list(tfcs)}[tfc + 1] as TRETSPEF,
        {_sql_list(tfcs)}[tfc + 1] as MAINSPEF,
        t.code as PROCODE3,
        t.code || '01' as PROCODE5,
        t.code || '01' as SITETRET,
        case when noise > 0.997 then 'V81998' else p.code end as GPPRAC,
        p.sub_icb as CCG_RESPONSIBILITY,
        p.sub_icb as CCG_RESIDENCE,
        {LSOA_CODE_SQL.format(serial="p.lsoa_first + (patient % p.lsoa_count)")} as LSOA11,
        '' as DIAG_4_01,
        case when procedure and attended <= 1 then {proc_opcs}[tfc + 1] else '-' end as OPERTN_4_01,
        case
            when attended > 1 then ''
            when procedure then {proc_hrg}[tfc + 1]
            else {_sql_list(WF01)}[firstatt + 1]
        end as SUSHRG
    from appointments as a
    join practices as p on p.idx = a.practice
    join trusts as t on t.idx = a.trust
    where not (t.code = '{planted.op_partial_trust}' and day between {_days(planted.op_partial_month)}
               and {_days(_month_end(planted.op_partial_month))} and noise > 0.4)
    order by ATTENDKEY
    """


def write_outpatients(geo, seed, out, months, receive, scale, conn, trusts, planted) -> int:
    rng = base.feed_rng(seed, OPA)
    fraction = base.SAMPLE_FRACTION[OPA] if scale == "sample" else 1.0
    trust_of = base.practice_trust(geo, trusts, rng)
    rows = 0
    for month in _active_months(months, scale):
        frame = _appointments(geo, month, months.index(month), fraction, trust_of, rng)
        conn.register("appointments", frame)
        path = _write(conn, _opa_query(planted, month), out, OPA, month, "HES_OPA", scale)
        conn.unregister("appointments")
        rows += len(frame)
        receive(OPA, month, path, PUBLICATION_DAY)
    return rows


def write_hospital_activity(
    geo: Geography, seed: int, out: Path, months: list[date], receive: Receive, scale: str
) -> list[PlantedGap]:
    """Write the APC and OPA extracts; return the planted gaps."""
    trusts = base.acute_trusts(geo)
    active = _active_months(months, scale)
    if not active:
        return []
    planted = _plan_gaps(trusts, active, base.feed_rng(seed, "hes_gaps"))
    conn = duckdb.connect()
    conn.execute("set preserve_insertion_order = true")
    _dimension_tables(conn, geo, trusts)
    write_admitted_care(geo, seed, out, months, receive, scale, conn, trusts, planted)
    write_outpatients(geo, seed, out, months, receive, scale, conn, trusts, planted)
    conn.close()
    return planted.gaps()


class HospitalActivityWriter:
    label = "hospital activity"

    def steps(self, ctx: WriteContext) -> int:
        return RECORD_WEIGHT * len(ctx.months)

    def write(self, ctx: WriteContext) -> list[PlantedGap]:
        return write_hospital_activity(ctx.geo, ctx.seed, ctx.out, ctx.months, ctx.receive, ctx.scale)
