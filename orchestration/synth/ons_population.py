"""ONS mid-year population estimates for the generated geography, as Nomis serves them.

One CSV per reference year at sub-ICB-location geography (ONS E38 codes) plus England, by sex
(Male, Female, Total) and single year of age ("Age 0" … "Age 89", "Aged 90+", "All Ages"). The
resident population is a little below the registered list (list inflation), with the same age
mix as the area's practices.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import numpy as np

from orchestration.defs.population.feeds import ONS_POPULATION
from orchestration.synth.context import WriteContext
from orchestration.synth.manifest import PlantedGap, Receive
from orchestration.synth.plan import MIN_MONTHS
from orchestration.synth.population import OLDER, YOUNG

AGE_LABELS = [f"Age {a}" for a in range(90)] + ["Aged 90+"]


def _single_years(quinary: np.ndarray) -> np.ndarray:
    """20 quinary shares (0-4 … 90-94, 95+) → 91 single-year shares (0 … 89, 90+)."""
    singles = np.repeat(quinary[:18] / 5, 5)
    return np.append(singles, quinary[18:].sum())


def write_ons_population(
    geo, rng: np.random.Generator, out: Path, years: list[int], receive: Receive
) -> None:
    practices = geo.practices
    buffer_by_year = {}
    for year in years:
        rows = []
        totals = np.zeros((2, 91))
        for sub in geo.sub_icbs:
            members = practices["sub_icb"] == sub.code
            registered = practices["list_size"][members].sum()
            older = float(np.average(practices["older"][members], weights=practices["list_size"][members]))
            mix = (1 - older) * YOUNG + older * OLDER
            resident = registered * rng.uniform(0.93, 0.99)
            cells = np.round(resident * np.vstack([_single_years(mix[:20]), _single_years(mix[20:])]))
            totals += cells
            rows.append((sub.ons_code, sub.name, cells))
        rows.append(("E92000001", "England", totals))
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(ONS_POPULATION.variants[0].columns)
        for code, name, cells in rows:
            for gender, values in (("Female", cells[0]), ("Male", cells[1]), ("Total", cells.sum(axis=0))):
                writer.writerow(
                    [year, name, code, gender, "All Ages", "Value", int(values.sum()), "Normal Value"]
                )
                for label, value in zip(AGE_LABELS, values, strict=True):
                    writer.writerow([year, name, code, gender, label, "Value", int(value), "Normal Value"])
        buffer_by_year[year] = buffer.getvalue()
    release = date(max(years) + 1, 6, 1)  # mid-year estimates follow about a year later
    folder = out / ONS_POPULATION.name / f"{release:%Y-%m}"
    folder.mkdir(parents=True, exist_ok=True)
    for year, text in buffer_by_year.items():
        path = folder / f"nomis_mid_year_estimates_{year}_sub_icb.csv"
        path.write_bytes(text.encode("utf-8"))
        receive(ONS_POPULATION.name, release, path, 24)


class OnsPopulationWriter:
    """The mid-year estimates of the two years before the run's last month's year (no gaps)."""

    label = "ONS population"

    def steps(self, ctx: WriteContext) -> int:
        return 1 if len(ctx.months) >= MIN_MONTHS else 0

    def write(self, ctx: WriteContext) -> list[PlantedGap]:
        if len(ctx.months) < MIN_MONTHS:
            return []
        last = ctx.months[-1].year
        write_ons_population(ctx.geo, ctx.rng, ctx.out, [last - 2, last - 1], ctx.receive)
        return []
