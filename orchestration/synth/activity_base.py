"""What every activity and cost generator shares: providers, populations, scales, HRGs, writing.

- Providers: the acute trusts of the geography, the same codes and names as the FFT generator
  (`R` + letter + digit, two per ICB), so a trust's A&E, admissions, costs and FFT line up.
- Populations: the expected registered population per practice × 40 age-sex cells in a month,
  computed without drawing random numbers, so activity generators never disturb other feeds.
- Randomness: each feed draws from its own generator seeded by (plan seed, feed name), so a feed
  can be added, changed or dropped without changing another feed's bytes.
- Scale: the shipped sample writes admitted care at real volume, outpatients and A&E at a
  fraction of it (`SAMPLE_FRACTION`, recorded in the manifest), over the 12 months from
  `FIRST_ACTIVITY_MONTH_SAMPLE`; `national` is every month asked for at real volume.
- Writing: large files are assembled in DuckDB (integer draws from numpy, strings by join) and
  written with `COPY … TO`, never row by row in Python.
"""

from __future__ import annotations

import hashlib
import string
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import numpy as np

from orchestration.synth import population
from orchestration.synth.geography import Geography

TRUST_KINDS = ("TEACHING HOSPITALS NHS FOUNDATION TRUST", "UNIVERSITY HOSPITALS NHS TRUST")
# The sample's record-level feeds (and EPD) start here: 12 months, crossing the July 2022 switch to
# sub-ICB locations. Starting in 2021-04 would complete 2021/22, but 21 months of admitted care at
# real volume are 42 MB alone; a complete year with nothing after 2022-03 would leave the sample's
# last nine months without activity. So 2021/22 has 3 months ("Partial year") and 2022/23 has 9.
FIRST_ACTIVITY_MONTH_SAMPLE = date(2022, 1, 1)

# Share of the real volume the sample writes per record-level feed (national writes 1 for all).
# Admitted care is at real volume, so that every sample area has enough events for each HES-based
# OIS indicator (a DSR on fewer than 10 is not calculated): in 2022/23's nine months an area of
# 14 practices (85,000-175,000 patients) has 34-57 emergency admissions of children with LRTI
# and 36-91 for alcohol-related liver disease, the rarest numerators. At 5% most had none. That
# is 24.0 MB of the sample's 38.3 (a month ~2 MB zipped). Outpatients and A&E share what is left
# under 40 MB: a month at real volume is ~10.6 MB and ~1.7 MB zipped, so a pound of A&E spend
# costs the sample a quarter of the bytes a pound of outpatient spend does. A&E also needs the
# volume: at 5-12% a trust's monthly ECDS count is small enough that its summer rise (SEASON in
# urgent_care.py) plus noise passes dq_volume_anomaly's 25% step one sample in five (simulated),
# at 20% one in 23. So outpatients are 3% of the real and A&E 20%; the manifest records it.
SAMPLE_FRACTION = {
    "hes_apc": 1.0,
    "hes_opa": 0.03,
    "ecds": 0.2,
}


@dataclass(frozen=True)
class Provider:
    code: str  # 3-character trust code (PROCODE3)
    name: str
    icb_code: str
    icb_name: str
    region_code: str
    region_name: str

    @property
    def site_code(self) -> str:
        """The main site (PROCODE5 / Der_Provider_Site_Code)."""
        return f"{self.code}01"


def _place(icb_name: str) -> str:
    name = icb_name.upper().removeprefix("NHS ")
    for suffix in (" INTEGRATED CARE BOARD", " ICB"):
        name = name.removesuffix(suffix)
    return name


def acute_trusts(geo: Geography, per_icb: int = 2) -> list[Provider]:
    """`per_icb` trusts for each ICB of the geography, codes RA0, RA1, RB0 … in ICB-code order."""
    icbs = sorted({(s.icb_code, s.icb_name, s.region_code, s.region_name) for s in geo.sub_icbs})
    trusts = []
    for i, (icb_code, icb_name, region_code, region_name) in enumerate(icbs):
        for k in range(per_icb):
            n = i * per_icb + k
            code = f"R{string.ascii_uppercase[n // 10 % 26]}{n % 10}"
            name = f"{_place(icb_name)} {TRUST_KINDS[k % len(TRUST_KINDS)]}"
            trusts.append(Provider(code, name, icb_code, icb_name, region_code, region_name))
    return trusts


def practice_trust(geo: Geography, trusts: list[Provider], rng: np.random.Generator) -> np.ndarray:
    """For each record's practice, which trust (index into `trusts`) it mostly uses: one of its
    ICB's trusts. Returns per-practice (main, second) indices as an n × 2 array."""
    by_icb: dict[str, list[int]] = {}
    for index, trust in enumerate(trusts):
        by_icb.setdefault(trust.icb_code, []).append(index)
    icb_of = {s.code: s.icb_code for s in geo.sub_icbs}
    result = np.zeros((geo.n, 2), dtype=np.int64)
    for i, sub in enumerate(geo.practices["sub_icb"]):
        options = by_icb[icb_of[sub]]
        first = options[int(rng.integers(len(options)))]
        result[i] = (first, options[(options.index(first) + 1) % len(options)])
    return result


def feed_rng(seed: int, feed: str) -> np.random.Generator:
    """A generator of its own for each feed: (plan seed, feed name) → stable stream."""
    salt = int.from_bytes(hashlib.sha256(feed.encode()).digest()[:8], "little")
    return np.random.default_rng([seed, salt])


def expected_cells(geo: Geography, month_index: int) -> np.ndarray:
    """Expected registered patients per practice × 40 cells (female 20 bands, then male 20) in
    the `month_index`-th month of the plan: the list-size generator's expectation, no noise."""
    sizes = geo.practices["list_size"] * (1 + geo.practices["growth"]) ** month_index
    older = geo.practices["older"]
    shares = np.outer(1 - older, population.YOUNG) + np.outer(older, population.OLDER)
    shares /= shares.sum(axis=1, keepdims=True)
    return sizes[:, None] * shares


BAND_LOWER_AGES = np.array([int(b.split("_")[0].rstrip("+")) for b in population.BANDS])


def ages_in_band(band: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A whole age for each quinary band index (95+ → 95-104)."""
    return BAND_LOWER_AGES[band] + rng.integers(0, 5, size=band.shape) * np.where(band == 19, 2, 1)


def copy_to_csv(
    conn: duckdb.DuckDBPyConnection,
    query: str,
    path: Path,
    delimiter: str = ",",
    header: bool = True,
    quote_all: bool = False,
) -> Path:
    """Write a query's rows as a publisher-style CSV (LF line ends) with DuckDB's COPY."""
    path.parent.mkdir(parents=True, exist_ok=True)
    options = [f"delimiter '{delimiter}'", f"header {str(header).lower()}", "null ''"]
    if quote_all:
        options.append("force_quote *")
    conn.execute(f"copy ({query}) to '{path}' ({', '.join(options)})")
    return path


_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def zip_file(source: Path, target: Path, member: str | None = None) -> Path:
    """Zip one file (deterministic bytes) and remove the unzipped copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    info = zipfile.ZipInfo(member or source.name, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    # Deflate at level 9: the same format as the default level 6, about 3% smaller, which the
    # sample's size budget spends on outpatients and A&E. A ZipInfo passed to open() keeps its
    # own level (ZipFile's compresslevel is not applied to it); Python 3.13 names it compress_level.
    info._compresslevel = 9
    with (
        zipfile.ZipFile(target, "w") as archive,
        archive.open(info, "w", force_zip64=True) as dst,
        source.open("rb") as src,
    ):
        while chunk := src.read(1 << 22):
            dst.write(chunk)
    source.unlink()
    return target
