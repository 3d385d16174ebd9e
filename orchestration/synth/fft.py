"""Friends and Family Test monthly files for the generated geography, in the raw layouts.

Two trusts per ICB of the geography (invented codes `R` + 2 characters, parent = the real ICB
code), one CSV per month per setting: `fft_inpatient/<YYYY-MM>/FFT-inpatient-raw-<Mon>-<YYYY>.csv`
and `fft_ae/<YYYY-MM>/FFT-ae-raw-<Mon>-<YYYY>.csv`. Percentage positive is about 0.94 for
inpatients and 0.80 for A&E, as published nationally. Planted (both in fft_inpatient): a trust
missing from one month's file, and a trust with 3 responses in a month (exercises suppression).
"""

from __future__ import annotations

import string
import zlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from orchestration.defs.experience.fft import FFT_AE, FFT_INPATIENT, LIKERT, MONTHS
from orchestration.synth.context import WriteContext
from orchestration.synth.geography import Geography
from orchestration.synth.manifest import PlantedGap, Receive
from orchestration.synth.plan import MIN_MONTHS

# Share of responses per answer (Very Good … Don't Know): positive = first two.
LIKERT_SHARES = {
    "fft_inpatient": (0.78, 0.16, 0.03, 0.012, 0.012, 0.006),  # positive 0.94
    "fft_ae": (0.64, 0.16, 0.06, 0.045, 0.075, 0.02),  # positive 0.80
}
# Eligible patients per trust-month and response rate.
ELIGIBLE = {"fft_inpatient": (1500, 7000), "fft_ae": (6000, 20000)}
RESPONSE_RATE = {"fft_inpatient": 0.22, "fft_ae": 0.12}
TITLE = {"fft_inpatient": "Inpatient", "fft_ae": "A&E"}  # meaning of raw `Title` is not documented
FILE_PREFIX = {"fft_inpatient": "FFT-inpatient-raw", "fft_ae": "FFT-ae-raw"}
PUBLICATION_DAY = 14
TRUST_KINDS = ("TEACHING HOSPITALS NHS FOUNDATION TRUST", "UNIVERSITY HOSPITALS NHS TRUST")


@dataclass(frozen=True)
class Trust:
    code: str
    name: str
    icb_code: str
    icb_name: str
    tilt: float  # trust-level shift of the positive share


def _place(icb_name: str) -> str:
    name = icb_name.upper().removeprefix("NHS ")
    for suffix in (" INTEGRATED CARE BOARD", " ICB"):
        name = name.removesuffix(suffix)
    return name


def trusts_for(geo: Geography, rng: np.random.Generator, per_icb: int = 2) -> list[Trust]:
    """`per_icb` invented trusts for each ICB of the geography, codes RA0, RA1, RB0 … by ICB code."""
    icbs = sorted({(s.icb_code, s.icb_name) for s in geo.sub_icbs})
    trusts = []
    for i, (icb_code, icb_name) in enumerate(icbs):
        for k in range(per_icb):
            n = i * per_icb + k
            code = f"R{string.ascii_uppercase[n // 10 % 26]}{n % 10}"
            name = f"{_place(icb_name)} {TRUST_KINDS[k % len(TRUST_KINDS)]}"
            trusts.append(Trust(code, name, icb_code, icb_name, float(rng.normal(0, 0.015))))
    return trusts


def financial_year(month: date) -> str:
    """Yearnumber: 2025_26 from April 2025, 2024-25 before (both styles are published)."""
    start = month.year if month.month >= 4 else month.year - 1
    separator = "_" if start >= 2025 else "-"
    return f"{start}{separator}{(start + 1) % 100:02d}"


def _counts(setting: str, trust: Trust, total: int, rng: np.random.Generator) -> np.ndarray:
    shares = np.array(LIKERT_SHARES[setting])
    shares[0] = max(shares[0] + trust.tilt, 0.05)
    shares = rng.dirichlet(shares / shares.sum() * 400)
    return rng.multinomial(total, shares)


def _rows(
    setting: str,
    trusts: list[Trust],
    month: date,
    rng: np.random.Generator,
    skip: str | None,
    small: str | None,
) -> pd.DataFrame:
    spec = FFT_INPATIENT if setting == FFT_INPATIENT.name else FFT_AE
    variant = spec.variant("raw_organisation")
    header = {canonical: published for canonical, published in variant.mapping.items()}
    modes = [c for c in variant.mapping if c.startswith("mode_")]
    low, high = ELIGIBLE[setting]
    rows = []
    for trust in trusts:
        # A trust's eligible patients are stable month to month (its size, from its code) with
        # a few per cent of noise: a real trust's FFT volume does not halve without a reason.
        size = low + zlib.crc32(f"{setting}{trust.code}".encode()) % (high - low)
        eligible = max(int(size * rng.normal(1, 0.05)), 1)
        total = int(rng.binomial(eligible, RESPONSE_RATE[setting]))
        if trust.code == skip:
            continue
        if trust.code == small:
            total = 3
        likert = _counts(setting, trust, total, rng)
        by_mode = rng.multinomial(total, rng.dirichlet(np.ones(len(modes)) * 2))
        row = {
            "financial_year": financial_year(month),
            "period_name": MONTHS[month.month - 1],
            "parent_org_code": trust.icb_code,
            "parent_name": trust.icb_name.upper(),
            "org_code": trust.code,
            "org_name": trust.name,
            "title": TITLE[setting],
            **{name: int(likert[i]) for i, name in enumerate(LIKERT)},
            "total_responses": total,
            "total_eligible": eligible,
            "response_rate": repr(float(total / eligible)),
            "prop_pos": repr(float((likert[0] + likert[1]) / total)) if total else "",
            **{m: int(by_mode[i]) for i, m in enumerate(modes)},
        }
        rows.append({header[k]: v for k, v in row.items()})
    frame = pd.DataFrame(rows, columns=list(variant.columns))
    assert variant.matches(tuple(frame.columns))
    return frame


def write_fft(
    geo: Geography, rng: np.random.Generator, out: Path, months: list[date], receive: Receive
) -> list[PlantedGap]:
    """Write both settings for every month; return the planted gaps."""
    trusts = trusts_for(geo, rng)
    missing_trust, small_trust = (trusts[i].code for i in rng.choice(len(trusts), 2, replace=False))
    missing_month = months[len(months) // 2]
    small_month = months[-1]
    gaps = [
        PlantedGap(
            "fft_missing_trust_month",
            FFT_INPATIENT.name,
            f"{missing_month:%Y-%m}",
            missing_trust,
            "fft_inpatient: trust left out of the month's raw file while present in other months",
        ),
        PlantedGap(
            "fft_small_count",
            FFT_INPATIENT.name,
            f"{small_month:%Y-%m}",
            small_trust,
            "fft_inpatient: 3 responses in the month (first-level suppression; its ICB sibling second-level)",
        ),
    ]
    for month in months:
        for spec in (FFT_INPATIENT, FFT_AE):
            inpatient = spec is FFT_INPATIENT
            frame = _rows(
                spec.name,
                trusts,
                month,
                rng,
                skip=missing_trust if inpatient and month == missing_month else None,
                small=small_trust if inpatient and month == small_month else None,
            )
            path = out / spec.name / f"{month:%Y-%m}" / f"{FILE_PREFIX[spec.name]}-{month:%b-%Y}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(frame.to_csv(index=False, lineterminator="\r\n").encode("utf-8"))
            receive(spec.name, month, path, PUBLICATION_DAY)
    return gaps


class FftWriter:
    label = "Friends and Family Test"

    def steps(self, ctx: WriteContext) -> int:
        return 1 if len(ctx.months) >= MIN_MONTHS else 0

    def write(self, ctx: WriteContext) -> list[PlantedGap]:
        if len(ctx.months) < MIN_MONTHS:
            return []
        return write_fft(ctx.geo, ctx.rng, ctx.out, ctx.months, ctx.receive)
