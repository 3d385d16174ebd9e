"""Synthetic practices placed in the real sub-ICB / ICB / region geography of the seeds.

Codes of organisations above practice level are real (seeds/reference); practices, PCNs,
names and postcodes are synthetic but follow the published patterns.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from orchestration.lib import settings

# The two geography changes the generated years cross: the April 2021 CCG mergers (a merged
# location's practices are published under their predecessor codes before it) and the July 2022
# switch from CCGs to sub-ICB locations (names, and STP columns becoming ICB columns).
MERGER_2021 = date(2021, 4, 1)
SUB_ICB_ERA = date(2022, 7, 1)

# Sample geography: about a dozen sub-ICB locations across all seven regions, including
# Calderdale, Somerset and Wirral, and two formed by the April 2021 mergers (D2P2L, W2U3Z)
# so the sample's first months carry their predecessor CCG codes.
SAMPLE_SUB_ICBS = (
    "02T",
    "15F",
    "36J",
    "11X",
    "15N",
    "12F",
    "99A",
    "D2P2L",
    "52R",
    "W2U3Z",
    "16C",
    "97R",
    "06Q",
)

# ODS practice codes start with a letter tied to the old regional grouping.
REGION_LETTER = {"Y56": "E", "Y58": "L", "Y59": "H", "Y60": "M", "Y61": "D", "Y62": "N", "Y63": "B"}

POSTCODE_AREAS = {
    "02T": "HX",
    "15F": "LS",
    "36J": "BD",
    "11X": "TA",
    "15N": "EX",
    "12F": "CH",
    "99A": "L",
    "D2P2L": "WV",
    "52R": "NG",
    "W2U3Z": "UB",
    "16C": "TS",
    "97R": "BN",
    "06Q": "CM",
}

NAME_PARTS = (
    (
        "THE",
        "PARK",
        "HIGH STREET",
        "VALLEY",
        "RIVERSIDE",
        "KINGS",
        "QUEENS",
        "ST JOHNS",
        "MILL",
        "CHURCH VIEW",
        "ABBEY",
        "STATION ROAD",
        "MEADOW",
        "BRIDGE",
        "ELM TREE",
        "OAK",
        "WILLOW",
        "NORTH",
        "SOUTH",
        "EAST",
        "WEST",
        "CASTLE",
        "MARKET",
        "GREEN LANE",
    ),
    ("SURGERY", "MEDICAL CENTRE", "HEALTH CENTRE", "MEDICAL PRACTICE", "FAMILY PRACTICE"),
)


PCN_WORDS = ("NORTH", "SOUTH", "CENTRAL", "EAST", "WEST", "RURAL", "TOWN", "VALLEY")


@dataclass(frozen=True)
class SubIcb:
    code: str
    name: str
    ons_code: str
    icb_code: str
    icb_name: str
    ons_icb_code: str
    region_code: str
    region_name: str
    ons_region_code: str
    ccg_name: str
    stp_code: str
    stp_name: str
    ons_stp_code: str
    # predecessor CCG codes (April 2021 mergers) → name, for months before 2021-04
    predecessors: tuple[tuple[str, str], ...]


@dataclass
class Geography:
    sub_icbs: list[SubIcb]
    practices: dict[str, np.ndarray]  # column → array, one row per practice

    @property
    def n(self) -> int:
        return len(self.practices["code"])


def _read(name: str) -> list[dict[str, str]]:
    with (settings.SEEDS_DIR / "reference" / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


def load_sub_icbs(codes: tuple[str, ...] | None) -> list[SubIcb]:
    locations = {r["sub_icb_location_code"]: r for r in _read("sub_icb_locations.csv")}
    ccgs = {r["ccg_code"]: r for r in _read("ccg_2021.csv")}
    preds: dict[str, list[tuple[str, str]]] = {}
    for row in _read("org_successions.csv"):
        if row["effective_date"] == "2021-04-01":
            preds.setdefault(row["successor_code"], []).append(
                (row["predecessor_code"], row["predecessor_name"])
            )
    wanted = codes or tuple(sorted(locations))
    unknown = [c for c in wanted if c not in locations]
    if unknown:
        raise ValueError(
            f"unknown sub-ICB location codes {unknown}; see seeds/reference/sub_icb_locations.csv"
        )
    result = []
    for code in wanted:
        loc, ccg = locations[code], ccgs.get(code, {})
        result.append(
            SubIcb(
                code=code,
                name=loc["sub_icb_location_name"],
                ons_code=loc["ons_sub_icb_location_code"],
                icb_code=loc["icb_code"],
                icb_name=loc["icb_name"],
                ons_icb_code=loc["ons_icb_code"],
                region_code=loc["region_code"],
                region_name=loc["region_name"],
                ons_region_code=loc["ons_region_code"],
                ccg_name=ccg.get("ccg_name", loc["former_ccg_name"]),
                stp_code=ccg.get("stp_code", loc["icb_code"]),
                stp_name=ccg.get("stp_name", loc["icb_name"]),
                ons_stp_code=ccg.get("ons_stp_code", loc["ons_icb_code"]),
                predecessors=tuple(sorted(preds.get(code, []))),
            )
        )
    return result


def build_geography(
    sub_icbs: list[SubIcb], practices_per_sub_icb: np.ndarray, rng: np.random.Generator
) -> Geography:
    """Place practices in each sub-ICB location with codes, names, PCNs and list sizes."""
    rows: dict[str, list] = {
        k: []
        for k in (
            "code",
            "name",
            "postcode",
            "sub_icb",
            "predecessor",
            "pcn_code",
            "pcn_name",
            "list_size",
            "older",
            "growth",
            "open_date",
        )
    }
    region_ordinal: dict[str, int] = {}
    pcn_counter = 0
    for sub, count in zip(sub_icbs, practices_per_sub_icb, strict=True):
        ordinal = region_ordinal.get(sub.region_code, 0)
        region_ordinal[sub.region_code] = ordinal + 1
        letter = REGION_LETTER.get(sub.region_code, "Y")
        area = POSTCODE_AREAS.get(sub.code) or (sub.code[:2] if sub.code[:2].isalpha() else "ZZ")
        # Some places are older (coastal, rural), some younger (cities): a sub-ICB tilt.
        tilt = rng.normal(0, 0.15)
        n_pcn = max(1, round(count / 6))
        pcns = [
            (
                f"U{pcn_counter + i:05d}",
                f"{area} {PCN_WORDS[i % 8]} {i // 8 + 1} PCN",
            )
            for i in range(n_pcn)
        ]
        pcn_counter += n_pcn
        for i in range(int(count)):
            rows["code"].append(
                f"{letter}{80 + ordinal % 20:02d}{i + 1:03d}"
                if ordinal < 20
                else f"{letter}{ordinal:02d}{i + 1:03d}"
            )
            first, second = NAME_PARTS
            rows["name"].append(f"{first[rng.integers(len(first))]} {second[rng.integers(len(second))]}")
            rows["postcode"].append(
                f"{area}{rng.integers(1, 30)} {rng.integers(1, 10)}"
                f"{chr(65 + rng.integers(26))}{chr(65 + rng.integers(26))}"
            )
            rows["sub_icb"].append(sub.code)
            rows["predecessor"].append(
                sub.predecessors[i % len(sub.predecessors)][0] if sub.predecessors else sub.code
            )
            pcn = pcns[i % n_pcn]
            rows["pcn_code"].append(pcn[0])
            rows["pcn_name"].append(pcn[1])
            # Practice list sizes are right-skewed: median about 8,300 (mean ~9,600), a few above 30,000.
            rows["list_size"].append(int(np.clip(rng.lognormal(np.log(8300), 0.55), 1200, 60000)))
            rows["older"].append(float(np.clip(rng.beta(2, 2) + tilt, 0, 1)))
            rows["growth"].append(float(rng.normal(0.0008, 0.0015)))
            rows["open_date"].append(
                date(1974, 4, 1) if rng.random() < 0.8 else date(int(rng.integers(1980, 2015)), 4, 1)
            )
    practices = {
        k: np.array(
            v,
            dtype=object
            if k
            in {
                "code",
                "name",
                "postcode",
                "sub_icb",
                "predecessor",
                "pcn_code",
                "pcn_name",
                "open_date",
            }
            else float,
        )
        for k, v in rows.items()
    }
    return Geography(sub_icbs=sub_icbs, practices=practices)


def commissioner(sub: SubIcb, predecessor: str, month: date) -> tuple[str, str, str]:
    """(code, name, ONS code) a practice's commissioner was published under in a month."""
    if month < MERGER_2021 and sub.predecessors:
        return predecessor, dict(sub.predecessors)[predecessor], ""
    if month < SUB_ICB_ERA:
        return sub.code, sub.ccg_name, sub.ons_code
    return sub.code, sub.name, sub.ons_code


def sub_icb_index(geo: Geography) -> dict[str, SubIcb]:
    return {s.code: s for s in geo.sub_icbs}


def seeds_path() -> Path:
    return settings.SEEDS_DIR / "reference"
