"""GP Patient Survey practice results for the generated geography, one CSV a survey year.

Files are written in the layouts of orchestration/defs/experience/gpps.py: lower-case with
STP/commissioning-region columns for 2021, mixed-case with ICS columns for later years (see
that module for which parts of those layouts are verified). Values are plausible, not real:
overall experience follows the published practice means (0.834 in 2021, 0.734, 0.727, 0.754 in
2022-2024; feeds_and_methods §5.2) with a persistent practice effect, 80-300 questionnaires
returned a practice (each question's base is the share who answered it), and the weighted
proportion differs slightly from count/base, as weighting makes it.

Planted gaps:
- `gpps_negative_code`: the smallest practice has -97 in its q28 base, count and proportion in
  the latest survey year;
- `gpps_missing_practice`: one other practice is absent from one survey year's file.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import numpy as np

from orchestration.defs.experience.gpps import GPPS_PRACTICE, LOWER_CASE_2021, MIXED_CASE, QUESTIONS
from orchestration.synth.context import WriteContext
from orchestration.synth.manifest import PlantedGap, Receive
from orchestration.synth.plan import MIN_MONTHS

SUPPRESSION_CODE = -97
PUBLICATION_DAY = 11  # published around July (month and day unverified)

# Practice mean share "good" by survey year and question (q28 from the reference; the others are
# plausible levels for access, continuity and making an appointment, not published figures).
MEANS = {
    2021: {"q3": 0.68, "q9": 0.45, "q18": 0.71, "q28": 0.834},
    2022: {"q3": 0.53, "q9": 0.38, "q18": 0.56, "q28": 0.734},
    2023: {"q3": 0.50, "q9": 0.35, "q18": 0.54, "q28": 0.727},
    2024: {"q3": 0.50, "q9": 0.36, "q18": 0.56, "q28": 0.754},
}
# Share of respondents who answer each question (q18 and q9 only apply to some patients).
ANSWERED = {"q3": 0.9, "q9": 0.55, "q18": 0.7, "q28": 0.98}


def file_name(year: int) -> str:
    return f"GPPS_{year}_Practice_data_(weighted)_(csv)_PUBLIC.csv"


def _layout(year: int) -> tuple[str, ...]:
    return LOWER_CASE_2021 if year <= 2021 else MIXED_CASE


def _pct(value: float) -> str:
    return f"{value:.4f}"


def _practice_row(geo, index: int, sub, year: int, effect: float, rng: np.random.Generator) -> dict:
    """One practice's values, keyed by the lower-case names used in every layout."""
    p = geo.practices
    distributed = int(rng.integers(300, 650))
    resprate = float(np.clip(rng.normal(0.33, 0.05), 0.27, 0.46))
    received = int(np.clip(round(distributed * resprate), 80, 300))
    row = {
        "practice_code": str(p["code"][index]),
        "practice_name": str(p["name"][index]),
        "stp_code": sub.stp_code,
        "stp_name": sub.stp_name,
        "cr_code": sub.region_code,
        "cr_name": sub.region_name,
        "ccg_code": sub.code,
        "ccg_name": sub.ccg_name if year <= 2022 else sub.name,
        "ics_code": sub.icb_code,
        "ics_name": sub.icb_name,
        "distributed": str(distributed),
        "received": str(received),
        "resprate": _pct(received / distributed),
    }
    year_means = MEANS.get(year, MEANS[max(MEANS)])
    for q in QUESTIONS:
        base = max(1, int(rng.binomial(received, ANSWERED[q])))
        share = float(np.clip(year_means[q] + effect + rng.normal(0, 0.03), 0.05, 0.99))
        count = int(rng.binomial(base, share))
        weighted = float(np.clip(count / base + rng.normal(0, 0.01), 0, 1))
        row.update({f"{q}base": str(base), f"{q}_12": str(count), f"{q}_12pct": _pct(weighted)})
    # Columns of the 2021 layout the project does not map: plausible proportions.
    for name in LOWER_CASE_2021:
        if name not in row:
            row[name] = _pct(float(rng.uniform(0.02, 0.6)))
    return row


def practice_csv(rows: list[dict], year: int) -> str:
    """Rows in the year's published layout (header names as published, values in the same order)."""
    layout = _layout(year)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(layout)
    for row in rows:
        writer.writerow(row[name.lower()] for name in layout)
    return buffer.getvalue()


def write_gpps(
    geo, rng: np.random.Generator, out: Path, survey_years: list[int], receive: Receive
) -> list[PlantedGap]:
    """Write `out/gpps_practice_results/<YYYY>-07/GPPS_<YYYY>_…_PUBLIC.csv` for each survey year;
    return the planted gaps."""
    p = geo.practices
    by_code = {s.code: s for s in geo.sub_icbs}
    years = sorted(survey_years)
    effects = rng.normal(0, 0.05, geo.n)  # a practice's patients rate it similarly every year

    small = int(np.argmin(p["list_size"]))
    others = [i for i in range(geo.n) if i != small]
    missing = others[int(rng.integers(len(others)))]
    negative_year, missing_year = years[-1], years[len(years) // 2]
    gaps = [
        PlantedGap(
            "gpps_negative_code",
            GPPS_PRACTICE.name,
            f"{negative_year}-07",
            str(p["code"][small]),
            f"q28base, q28_12 and q28_12pct published as {SUPPRESSION_CODE} (small practice)",
        ),
        PlantedGap(
            "gpps_missing_practice",
            GPPS_PRACTICE.name,
            f"{missing_year}-07",
            str(p["code"][missing]),
            "practice absent from the survey year's practice file",
        ),
    ]

    for year in years:
        rows = []
        for i in range(geo.n):
            row = _practice_row(geo, i, by_code[p["sub_icb"][i]], year, float(effects[i]), rng)
            if i == missing and year == missing_year:
                continue
            if i == small and year == negative_year:
                row.update(dict.fromkeys(("q28base", "q28_12", "q28_12pct"), str(SUPPRESSION_CODE)))
            rows.append(row)
        layout = _layout(year)
        variant = "lower_case_stp_2021" if layout is LOWER_CASE_2021 else "mixed_case_ics"
        assert GPPS_PRACTICE.variant(variant).matches(layout)
        release = date(year, 7, 1)
        path = out / GPPS_PRACTICE.name / f"{release:%Y-%m}" / file_name(year)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(practice_csv(rows, year).encode("utf-8"))
        receive(GPPS_PRACTICE.name, release, path, PUBLICATION_DAY)
    return gaps


def survey_years(months: list[date]) -> list[int]:
    """The survey years published in the run: one file each July."""
    return sorted({m.year for m in months if m.month >= 7})


class GppsWriter:
    label = "GP Patient Survey"

    def steps(self, ctx: WriteContext) -> int:
        return 1 if len(ctx.months) >= MIN_MONTHS else 0

    def write(self, ctx: WriteContext) -> list[PlantedGap]:
        if len(ctx.months) < MIN_MONTHS:
            return []
        return write_gpps(ctx.geo, ctx.rng, ctx.out, survey_years(ctx.months), ctx.receive)
