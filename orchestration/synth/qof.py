"""Quality and Outcomes Framework prevalence and achievement files for the generated practices.

One release per financial year whose March is in the generated months, in the landing folder
`<feed>/<YYYY>-04/` of the year's start, under the file names and in the layouts the publisher
used that year (orchestration/defs/primary_care/qof.py, QOF_LAYOUTS.md):

- prevalence: `PREVALENCE_2021_v2.csv` (2020-21), `PREVALENCE_2122_V2.csv` (2021-22),
  `PREVALENCE_<yyyy>.csv` later, all in the 2020-onward layout (`…, PATIENT_LIST_TYPE,
  PRACTICE_LIST_SIZE`); one row per practice and disease group, sorted by practice and group;
- achievement: one national `ACHIEVEMENT_2021_v2.csv` / `ACHIEVEMENT_2122.csv` to 2021-22, one
  file per NHS region (`ACHIEVEMENT_<REGION_NAME>_<yyyy>.csv`, with the region columns) from
  2022-23; long (MEASURE, VALUE), blank values left out as the publisher does.

List sizes are the practices' registered lists at 1 April after the year, the same numbers the
list-size feed publishes that month (`counts_at`, the lists plan.py decides for both feeds): the
TOTAL list is the sum of the quinary bands and an age-band list (`17OV` …) is the bands
above the age plus the part of the band it falls in. Register sizes are plausible, not published
figures: each group's level below, older lists having more of the conditions of age.

Its own random stream (`seed + SEED_OFFSET`), so adding or changing QOF never moves a byte of any
other generated file. Each year's files arrive on 18 October after the year ends (the day the
2021-22 prevalence csv was re-issued), in the landing folder's receipt log as every feed's do.

Planted gaps:
- `qof_register_exceeds_list`: in the first year one practice's asthma register is larger than
  its list of patients aged 6 and over (a register larger than the list it is measured against);
- `qof_suppressed_register`: in the last year one practice's dementia register is published as
  `*`;
- `qof_suppressed_achievement`: the same practice's DEM004 denominator and PCAs are `*`, as the
  publisher suppresses a denominator under 2 with a PCA (its 2022-23 rule);
- `qof_practice_closed_mid_year`: a practice that closed on 31 October of the first year: its
  registers and achievement are published, its lists at 1 April after the year are 0 (the
  publisher writes 0 for a missing count). It is in no other generated feed: the list-size files
  the sample holds start after it closed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from orchestration.defs.primary_care.qof import (
    ACHIEVEMENT_NATIONAL,
    ACHIEVEMENT_REGIONAL_2022,
    PREVALENCE_PRACTICE_LIST_2020,
    QOF_ACHIEVEMENT,
    QOF_PREVALENCE,
)
from orchestration.synth.context import WriteContext
from orchestration.synth.manifest import PlantedGap, Receive
from orchestration.synth.plan import MIN_MONTHS

SEED_OFFSET = 14  # issue #14; any constant apart from the other writers' streams would do
RECEIVED_MONTHS_AFTER, RECEIVED_DAY = 18, 18  # 18 October after the year (from its April)
CLOSED_PRACTICE_LIST = 5200  # the closed practice's list before it closed (registers are drawn on it)


@dataclass(frozen=True)
class Group:
    code: str
    list_type: str  # PATIENT_LIST_TYPE
    level: float  # share of the list on the register at an average practice (plausible, not published)
    with_age: bool  # more common on older lists


# The 21 groups and list types of the publisher's public_metadata/PREVIOUS_PREVALENCE.csv
# (NHSDigital/QOF, the year before 2022-23), sorted by code as the file is.
GROUPS = (
    Group("AF", "TOTAL", 0.021, True),
    Group("AST", "06OV", 0.065, False),
    Group("CAN", "TOTAL", 0.033, True),
    Group("CHD", "TOTAL", 0.030, True),
    Group("CKD", "18OV", 0.040, True),
    Group("COPD", "TOTAL", 0.019, True),
    Group("DEM", "TOTAL", 0.007, True),
    Group("DEP", "18OV", 0.127, False),
    Group("DM", "17OV", 0.073, True),
    Group("EP", "18OV", 0.008, False),
    Group("HF", "TOTAL", 0.010, True),
    Group("HYP", "TOTAL", 0.140, True),
    Group("LD", "TOTAL", 0.005, False),
    Group("MH", "TOTAL", 0.009, False),
    Group("NDH", "18OV", 0.060, True),
    Group("OB", "18OV", 0.080, False),
    Group("OST", "50OV", 0.009, True),
    Group("PAD", "TOTAL", 0.006, True),
    Group("PC", "TOTAL", 0.005, True),
    Group("RA", "16OV", 0.008, True),
    Group("STIA", "TOTAL", 0.018, True),
)
GROUP_BY_CODE = {g.code: g for g in GROUPS}

# The programme indicators written to the achievement file: the register indicator of each group,
# then up to two of its fractional indicators (enough to exercise every measure; the sample stays
# small), codes as the publisher's public_metadata/PREVIOUS_ACHIEVEMENTS_PCAS.csv lists them.
# Nominal points per indicator (plausible, not the published values).
INDICATORS: dict[str, tuple[str, tuple[str, ...]]] = {
    "AF": ("AF001", ("AF006", "AF007")),
    "AST": ("AST005", ("AST006", "AST007")),
    "CHD": ("CHD001", ("CHD005", "CHD008")),
    "COPD": ("COPD009", ("COPD008", "COPD010")),
    "DEM": ("DEM001", ("DEM004",)),
    "DM": ("DM017", ("DM012", "DM020")),
    "HF": ("HF001", ("HF003", "HF005")),
    "HYP": ("HYP001", ("HYP003", "HYP007")),
    "STIA": ("STIA001", ("STIA007", "STIA010")),
}
REGISTER_POINTS = 4.0
FRACTIONAL_POINTS = 12.0


def year_token(start_year: int) -> str:
    """`2122` for the financial year starting April 2021, as the publisher's file names write it."""
    return f"{start_year % 100:02d}{(start_year + 1) % 100:02d}"


def prevalence_file_name(start_year: int) -> str:
    # 2020-21 and 2021-22 were re-issued as _v2 / _V2 (digital.nhs.uk; the file names as loaders read them)
    suffix = {2020: "_v2", 2021: "_V2"}.get(start_year, "")
    return f"PREVALENCE_{year_token(start_year)}{suffix}.csv"


def achievement_file_name(start_year: int, region_name: str | None = None) -> str:
    if region_name is not None:
        return f"ACHIEVEMENT_{region_name.upper().replace(' ', '_')}_{year_token(start_year)}.csv"
    suffix = "_v2" if start_year == 2020 else ""
    return f"ACHIEVEMENT_{year_token(start_year)}{suffix}.csv"


def is_regional(start_year: int) -> bool:
    """One achievement file per NHS region from 2022-23 (the publisher's 2022-23 code)."""
    return start_year >= 2022


def list_sizes(counts: np.ndarray) -> dict[str, np.ndarray]:
    """Each list type's size per practice from the quinary counts (female 20 bands, male 20 bands):
    the bands above an age, plus the part of the band the age falls in (a fifth per year)."""
    per_band = counts[:, :20] + counts[:, 20:]
    total = per_band.sum(axis=1)

    def over(age: int) -> np.ndarray:
        band, years_in = divmod(age, 5)
        above = per_band[:, band + 1 :].sum(axis=1)
        return np.round(above + per_band[:, band] * (5 - years_in) / 5).astype(np.int64)

    return {
        "TOTAL": total.astype(np.int64),
        "06OV": over(6),
        "16OV": over(16),
        "17OV": over(17),
        "18OV": over(18),
        "50OV": over(50),
    }


def _csv(header: Sequence[str], rows: list[Sequence[str]]) -> bytes:
    # CRLF, as pandas' to_csv writes on the publisher's Windows machines (UNVERIFIED for these files)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _points(value: float) -> str:
    return f"{round(value, 2):g}"


def _financial_years(months: Sequence[date]) -> list[int]:
    """Financial years (by start year) whose last month, March, was generated."""
    return sorted({m.year - 1 for m in months if m.month == 3})


def _lists_for(start_year: int, counts_at: dict[date, np.ndarray]) -> np.ndarray:
    """The quinary counts at 1 April after the year, else the latest month of the year held."""
    after = date(start_year + 1, 4, 1)
    if after in counts_at:
        return counts_at[after]
    held = [m for m in counts_at if date(start_year, 4, 1) <= m < after]
    return counts_at[max(held)]


def write_qof(
    geo,
    seed: int,
    out: Path,
    months: Sequence[date],
    counts_at: dict[date, np.ndarray],
    receive: Receive,
) -> list[PlantedGap]:
    """Write the QOF prevalence and achievement releases; return the planted gaps. `counts_at`
    holds the list-size feed's quinary counts of (at least) each March and April generated."""
    years = _financial_years(months)
    if not years:
        return []
    rng = np.random.default_rng(seed + SEED_OFFSET)
    p = geo.practices
    codes = [str(c) for c in p["code"]]
    by_code = {s.code: s for s in geo.sub_icbs}
    older = np.asarray(p["older"], dtype=float)
    # A practice's case-finding is much the same every year: one effect per practice and group.
    effects = rng.lognormal(0, 0.18, size=(geo.n, len(GROUPS)))

    first, last = years[0], years[-1]
    exceeds = int(rng.integers(geo.n))
    suppressed = int((exceeds + 1 + rng.integers(geo.n - 1)) % geo.n)
    closed_code = f"{codes[0][0]}79002"
    if closed_code in codes:
        raise ValueError(f"{closed_code} is a generated practice; pick another code for the closed one")
    gaps = [
        PlantedGap(
            "qof_register_exceeds_list",
            QOF_PREVALENCE.name,
            f"{first}-04",
            codes[exceeds],
            "AST register larger than the practice's list of patients aged 6 and over (06OV)",
        ),
        PlantedGap(
            "qof_suppressed_register",
            QOF_PREVALENCE.name,
            f"{last}-04",
            codes[suppressed],
            "DEM register published as `*` (suppressed)",
        ),
        PlantedGap(
            "qof_suppressed_achievement",
            QOF_ACHIEVEMENT.name,
            f"{last}-04",
            codes[suppressed],
            "DEM004 DENOMINATOR and PCAS published as `*` (denominator under 2 with a PCA)",
        ),
        PlantedGap(
            "qof_practice_closed_mid_year",
            QOF_PREVALENCE.name,
            f"{first}-04",
            closed_code,
            f"practice closed 31 October {first}: registers published, every list size 0 at 1 April "
            f"{first + 1}",
        ),
    ]

    def arrived(feed: str, start: int, path: Path) -> None:
        receive(feed, date(start, 4, 1), path, RECEIVED_DAY, months_after=RECEIVED_MONTHS_AFTER)

    for start in years:
        lists = list_sizes(_lists_for(start, counts_at))
        registers = np.zeros((geo.n, len(GROUPS)), dtype=np.int64)
        for j, group in enumerate(GROUPS):
            age = 0.55 + 0.9 * older if group.with_age else np.ones(geo.n)
            rate = np.clip(group.level * age * effects[:, j], 0, 0.9)
            registers[:, j] = rng.binomial(lists[group.list_type], rate)
        ast = [g.code for g in GROUPS].index("AST")
        if start == first:
            registers[exceeds, ast] = int(lists["06OV"][exceeds] * 1.08) + 1
        # the closed practice: registers drawn on the list it had before it closed
        closed_registers = None
        if start == first:
            closed_registers = [
                int(
                    rng.binomial(
                        CLOSED_PRACTICE_LIST, group.level * (1.0 if group.list_type == "TOTAL" else 0.8)
                    )
                )
                for group in GROUPS
            ]

        prevalence_rows: list[tuple[str, str, str, str, str]] = []
        for i in range(geo.n):
            for j, group in enumerate(GROUPS):
                register = str(registers[i, j])
                if start == last and i == suppressed and group.code == "DEM":
                    register = "*"
                size = str(lists[group.list_type][i])
                prevalence_rows.append((codes[i], group.code, register, group.list_type, size))
        if closed_registers is not None:
            prevalence_rows += [
                (closed_code, group.code, str(n), group.list_type, "0")
                for group, n in zip(GROUPS, closed_registers, strict=True)
            ]
        prevalence_rows.sort(key=lambda r: (r[0], r[1]))
        assert QOF_PREVALENCE.variant("prevalence_practice_list_2020").matches(PREVALENCE_PRACTICE_LIST_2020)
        path = out / QOF_PREVALENCE.name / f"{start}-04" / prevalence_file_name(start)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_csv(PREVALENCE_PRACTICE_LIST_2020, prevalence_rows))
        arrived(QOF_PREVALENCE.name, start, path)

        # ---- achievement: register indicators and the programme's fractional indicators ----
        practices = [
            (codes[i], by_code[p["sub_icb"][i]], {g.code: int(registers[i, j]) for j, g in enumerate(GROUPS)})
            for i in range(geo.n)
        ]
        if closed_registers is not None:
            practices.append(
                (
                    closed_code,
                    geo.sub_icbs[0],
                    {g.code: n for g, n in zip(GROUPS, closed_registers, strict=True)},
                )
            )
        rows_by_region: dict[tuple[str, str, str], list[tuple[str, ...]]] = {}
        for code, sub, group_registers in sorted(practices, key=lambda x: x[0]):
            region = (sub.region_code, sub.ons_region_code, sub.region_name.upper().replace(" ", "_"))
            rows = rows_by_region.setdefault(region, [])
            for group_code, (register_indicator, fractional) in INDICATORS.items():
                register = group_registers[group_code]
                indicator_rows = [
                    (register_indicator, "REGISTER", str(register)),
                    (register_indicator, "ACHIEVED_POINTS", _points(REGISTER_POINTS if register else 0)),
                ]
                for indicator in fractional:
                    pcas = int(rng.binomial(register, 0.06))
                    denominator = int(rng.binomial(max(register - pcas, 0), 0.85))
                    numerator = int(rng.binomial(denominator, float(rng.uniform(0.55, 0.95))))
                    shown_denominator, shown_pcas = str(denominator), str(pcas)
                    if start == last and code == codes[suppressed] and indicator == "DEM004":
                        numerator, shown_denominator, shown_pcas = 0, "*", "*"
                    share = numerator / denominator if denominator else 0.0
                    points = FRACTIONAL_POINTS * float(np.clip((share - 0.4) / 0.5, 0, 1))
                    indicator_rows += [
                        (indicator, "NUMERATOR", str(numerator)),
                        (indicator, "DENOMINATOR", shown_denominator),
                        (indicator, "PCAS", shown_pcas),
                        (indicator, "ACHIEVED_POINTS", _points(points)),
                    ]
                for indicator, measure, value in sorted(indicator_rows, key=lambda r: r[0]):
                    rows.append((*region, code, indicator, measure, value))
        folder = out / QOF_ACHIEVEMENT.name / f"{start}-04"
        folder.mkdir(parents=True, exist_ok=True)
        if is_regional(start):
            for region, rows in sorted(rows_by_region.items()):
                path = folder / achievement_file_name(start, region[2])
                path.write_bytes(_csv(ACHIEVEMENT_REGIONAL_2022, rows))
                arrived(QOF_ACHIEVEMENT.name, start, path)
        else:
            national = sorted((r[3:] for rows in rows_by_region.values() for r in rows), key=lambda r: r[0])
            path = folder / achievement_file_name(start)
            path.write_bytes(_csv(ACHIEVEMENT_NATIONAL, national))
            arrived(QOF_ACHIEVEMENT.name, start, path)
    return gaps


class QofWriter:
    """A release per financial year whose March is in the run, its lists the list-size feed's."""

    label = "Quality and Outcomes Framework"

    def steps(self, ctx: WriteContext) -> int:
        return 1 if len(ctx.months) >= MIN_MONTHS else 0

    def write(self, ctx: WriteContext) -> list[PlantedGap]:
        if len(ctx.months) < MIN_MONTHS:
            return []
        return write_qof(ctx.geo, ctx.seed, ctx.out, ctx.months, ctx.shared.lists.counts, ctx.receive)
