"""Small areas for the generated geography: IoD File 7 (2019 and 2025 editions) and the ONS LSOA →
sub-ICB → ICB → local authority lookup, in their published layouts.

LSOA and local-authority codes are synthetic (E0199…, E0899…, outside the ranges in use);
deprivation follows each sub-ICB location's tilt, so areas differ plausibly. Ranks and deciles
are computed within the generated set (nationally at national scale).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from orchestration.defs.population.feeds import IOD2019_COLUMNS, IOD2025_COLUMNS, IOD_FILE7, LSOA_LOOKUP
from orchestration.synth.context import WriteContext
from orchestration.synth.manifest import PlantedGap, Receive
from orchestration.synth.plan import MIN_MONTHS

LSOA_POPULATION = 1650  # people per LSOA, roughly


def lsoa_code(serial: int) -> str:
    """A synthetic LSOA 2011-style code, nine characters like the real ones: E0199nnnn for the
    first 9,999 (the sample's), then E0190nnnn onwards (a national geography has ~33,000)."""
    return f"E01{990000 + serial:06d}" if serial < 10000 else f"E01{900000 + serial - 10000:06d}"


# The same numbering in DuckDB SQL, for generators that write LSOAs set-based ({serial}: an
# integer expression).
LSOA_CODE_SQL = (
    "case when {serial} < 10000 then printf('E01%06d', 990000 + {serial}) "
    "else printf('E01%06d', 900000 + {serial} - 10000) end"
)


def lsoa_ranges(geo) -> dict[str, tuple[int, int]]:
    """sub-ICB → (first serial, count) of its synthetic LSOAs: one per ~1,650 registered
    patients, at least 3, numbered in sub-ICB order. The activity generators place patients in
    them with the same numbering, without this module's random draws."""
    practices = geo.practices
    ranges, serial = {}, 0
    for sub in geo.sub_icbs:
        registered = float(practices["list_size"][practices["sub_icb"] == sub.code].sum())
        count = max(3, round(registered / LSOA_POPULATION))
        ranges[sub.code] = (serial + 1, count)
        serial += count
    return ranges


def _lsoas(geo, rng: np.random.Generator) -> list[dict]:
    rows = []
    ranges = lsoa_ranges(geo)
    for index, sub in enumerate(geo.sub_icbs):
        tilt = rng.normal(0, 0.35)
        first, count = ranges[sub.code]
        for local, serial in enumerate(range(first, first + count)):
            rows.append(
                {
                    "code": lsoa_code(serial),
                    "name": f"{sub.name.split(' - ')[-1]} {local // 26 + 1:03d}{chr(65 + local % 26)}",
                    "lad_code": f"E0899{index:04d}",
                    "lad_name": f"Synthetic district {sub.code}",
                    "sub": sub,
                    "score": float(np.clip(rng.lognormal(np.log(18) + tilt, 0.55), 1.0, 80.0)),
                    "population": int(rng.normal(LSOA_POPULATION, 250)),
                }
            )
    scores = np.array([r["score"] for r in rows])
    # A stable sort: scores clipped to 1 or 80 tie, and an unstable (SIMD) sort orders ties
    # differently from one CPU to another, which changed the sample's bytes.
    ranks = (-scores).argsort(kind="stable").argsort(kind="stable") + 1  # 1 = most deprived
    for row, rank in zip(rows, ranks, strict=True):
        row["rank"] = int(rank)
        row["decile"] = int(np.ceil(rank / len(rows) * 10))
    return rows


def _file7(rows: list[dict], columns: tuple[str, ...], rng: np.random.Generator) -> str:
    """Every column of File 7 filled: the IMD itself from the rows, domains shaped on it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        values = [row["code"], row["name"], row["lad_code"], row["lad_name"]]
        share = row["score"] / 80
        for column in columns[4:]:
            if column.startswith("Index of Multiple Deprivation (IMD) Score"):
                values.append(f"{row['score']:.3f}")
            elif column.startswith("Index of Multiple Deprivation (IMD) Rank"):
                values.append(row["rank"])
            elif column.startswith("Index of Multiple Deprivation (IMD) Decile"):
                values.append(row["decile"])
            elif "Rank" in column:
                values.append(int(np.clip(row["rank"] + rng.normal(0, 80), 1, 10**6)))
            elif "Decile" in column:
                values.append(int(np.clip(row["decile"] + rng.integers(-1, 2), 1, 10)))
            elif "(rate)" in column:
                values.append(f"{np.clip(share * 0.6 + rng.normal(0, 0.02), 0, 1):.3f}")
            elif "population" in column.lower() or "Children aged" in column:
                fraction = 1.0 if column.startswith("Total") else 0.2
                values.append(int(row["population"] * fraction))
            else:
                values.append(f"{rng.normal(share * 2 - 0.5, 0.3):.3f}")
        writer.writerow(values)
    return buffer.getvalue()


def _lookup(rows: list[dict], skip: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(
        [
            "LSOA21CD",
            "LSOA21NM",
            "SICBL22CD",
            "SICBL22CDH",
            "SICBL22NM",
            "ICB22CD",
            "ICB22CDH",
            "ICB22NM",
            "LAD22CD",
            "LAD22NM",
            "ObjectId",
        ]
    )
    for object_id, row in enumerate(rows, start=1):
        if row["code"] == skip:
            continue
        sub = row["sub"]
        writer.writerow(
            [
                row["code"],
                row["name"],
                sub.ons_code,
                sub.code,
                sub.name,
                sub.ons_icb_code,
                sub.icb_code,
                sub.icb_name,
                row["lad_code"],
                row["lad_name"],
                object_id,
            ]
        )
    return buffer.getvalue()


def write_deprivation(geo, rng: np.random.Generator, out: Path, receive: Receive) -> list[PlantedGap]:
    """Write both File 7 editions and the lookup; return the planted gaps."""
    from datetime import date

    rows = _lsoas(geo, rng)
    missing = rows[len(rows) // 3]["code"]
    editions = (
        (
            date(2019, 9, 1),
            IOD2019_COLUMNS,
            "File_7_-_All_IoD2019_Scores__Ranks__Deciles_and_Population_Denominators_3.csv",
        ),
        (
            date(2025, 10, 1),
            IOD2025_COLUMNS,
            "File_7_IoD2025_All_Ranks_Scores_Deciles_Population_Denominators.csv",
        ),
    )
    for published, columns, name in editions:
        path = out / IOD_FILE7.name / f"{published:%Y-%m}" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_file7(rows, columns, rng).encode("utf-8"))
        receive(IOD_FILE7.name, published, path, 30)
    path = out / LSOA_LOOKUP.name / "2022-07" / "LSOA21_SICBL22_ICB22_LAD22_EN_LU.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_lookup(rows, missing).encode("utf-8"))
    receive(LSOA_LOOKUP.name, date(2022, 7, 1), path, 20)
    return [
        PlantedGap(
            "lsoa_without_commissioner",
            LSOA_LOOKUP.name,
            "2022-07",
            missing,
            "LSOA left out of the ONS lookup: its residents belong to no sub-ICB location",
        )
    ]


class DeprivationWriter:
    label = "deprivation"

    def steps(self, ctx: WriteContext) -> int:
        return 1 if len(ctx.months) >= MIN_MONTHS else 0

    def write(self, ctx: WriteContext) -> list[PlantedGap]:
        if len(ctx.months) < MIN_MONTHS:
            return []
        return write_deprivation(ctx.geo, ctx.rng, ctx.out, ctx.receive)
