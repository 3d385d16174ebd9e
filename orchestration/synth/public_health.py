"""Fingertips downloads for the generated geography: indicator data (API export, 27 columns) and
indicator metadata, with the publisher's quirks (England listed twice, blank suppressed values)
and planted gaps. Confidence limits come from the project's own stats macros.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from orchestration.defs.public_health.feeds import FINGERTIPS_DATA, FINGERTIPS_METADATA, METADATA_COLUMNS
from orchestration.stats.install import install
from orchestration.synth.context import WriteContext
from orchestration.synth.manifest import PlantedGap, Receive
from orchestration.synth.plan import MIN_MONTHS


@dataclass(frozen=True)
class Indicator:
    indicator_id: int
    name: str
    kind: str  # proportion (%), dsr (per 100,000) or score
    age: str
    england: float  # England value
    spread: float  # relative spread between areas
    practice_level: bool
    polarity: str
    provenance: str


# IDs: 93553 from a real export; 40401, 40501, 40701 as used in third-party code reading
# Fingertips; 241, 40601 and 92443 are widely cited but unverified here. Values are plausible, not real.
INDICATORS = (
    Indicator(
        241,
        "Diabetes: QOF prevalence (17+)",
        "proportion",
        "17+ yrs",
        7.3,
        0.18,
        True,
        "RAG - Low is good",
        "unverified id",
    ),
    Indicator(
        40401,
        "Under 75 mortality rate from all cardiovascular diseases",
        "dsr",
        "<75 yrs",
        70.4,
        0.22,
        False,
        "RAG - Low is good",
        "third-party code",
    ),
    Indicator(
        40501,
        "Under 75 mortality rate from cancer",
        "dsr",
        "<75 yrs",
        125.1,
        0.12,
        False,
        "RAG - Low is good",
        "third-party code",
    ),
    Indicator(
        40701,
        "Under 75 mortality rate from respiratory disease",
        "dsr",
        "<75 yrs",
        29.6,
        0.25,
        False,
        "RAG - Low is good",
        "third-party code",
    ),
    Indicator(
        40601,
        "Under 75 mortality rate from liver disease",
        "dsr",
        "<75 yrs",
        20.3,
        0.3,
        False,
        "RAG - Low is good",
        "unverified id (same 40x01 series as 40401/40501/40701)",
    ),
    Indicator(
        92443,
        "Smoking Prevalence in adults (18+) - current smokers (APS)",
        "proportion",
        "18+ yrs",
        13.0,
        0.22,
        False,
        "RAG - Low is good",
        "unverified id",
    ),
    Indicator(
        93553,
        "Deprivation score (IMD 2019)",
        "score",
        "All ages",
        21.7,
        0.4,
        True,
        "BOB - Blue orange blue",
        "real export",
    ),
)

SUPPRESSION_NOTE = "Value suppressed for disclosure control due to small count"


def _period_label(year: int, kind: str) -> tuple[str, int]:
    if kind == "proportion":
        return f"{year}/{str(year + 1)[2:]}", year * 10000
    return str(year), year * 10000


def _missing_sub(geo):
    """The sub-ICB location planted without indicator 40701's latest period."""
    return geo.sub_icbs[len(geo.sub_icbs) // 2]


def _suppressed_practice(geo) -> str:
    """The practice whose indicator 241 value is suppressed."""
    return str(geo.practices["code"][-1])


def planted_gaps(geo, missing_year: int) -> list[PlantedGap]:
    return [
        PlantedGap(
            "missing_indicator_area_period",
            FINGERTIPS_DATA.name,
            f"{missing_year}",
            _missing_sub(geo).ons_code,
            "indicator 40701 has no row for this sub-ICB location in the latest period",
        ),
        PlantedGap(
            "suppressed_small_practice",
            FINGERTIPS_DATA.name,
            "all",
            _suppressed_practice(geo),
            "indicator 241 value blank with a disclosure-control note (small count)",
        ),
    ]


def fingertips_rows(geo, by_code, rng: np.random.Generator, years: list[int]) -> pd.DataFrame:
    """Every indicator × area × period row, values shaped by each area's deprivation tilt."""
    practices = geo.practices
    sub_tilt = {s.code: rng.normal(0, 1) for s in geo.sub_icbs}
    rows = []
    missing_sub = _missing_sub(geo)
    suppressed_practice = _suppressed_practice(geo)
    for ind in INDICATORS:
        for year in years:
            label, sortable = _period_label(year, ind.kind)
            base = dict(
                indicator_id=ind.indicator_id, name=ind.name, age=ind.age, period=label, sortable=sortable
            )
            england_den = float(practices["list_size"].sum())
            rows.append(
                {
                    **base,
                    "parent": "",
                    "parent_name": "",
                    "code": "E92000001",
                    "area": "England",
                    "type": "England",
                    "value": ind.england,
                    "den": england_den,
                }
            )
            rows.append({**rows[-1], "parent": "E92000001", "parent_name": "England"})  # the quirk
            for sub in geo.sub_icbs:
                if ind.indicator_id == 40701 and year == years[-1] and sub is missing_sub:
                    continue  # planted: one area without the latest period
                den = float(practices["list_size"][practices["sub_icb"] == sub.code].sum())
                value = ind.england * (1 + ind.spread * sub_tilt[sub.code] * 0.5 + rng.normal(0, 0.02))
                rows.append(
                    {
                        **base,
                        "parent": sub.ons_icb_code,
                        "parent_name": sub.icb_name,
                        "code": sub.ons_code,
                        "area": sub.name,
                        "type": "Sub-ICB",
                        "value": max(value, 0.1),
                        "den": den,
                    }
                )
            if ind.practice_level:
                for i in range(geo.n):
                    sub = by_code[practices["sub_icb"][i]]
                    den = float(practices["list_size"][i])
                    value = ind.england * (1 + ind.spread * (sub_tilt[sub.code] * 0.5 + rng.normal(0, 0.6)))
                    rows.append(
                        {
                            **base,
                            "parent": sub.ons_code,
                            "parent_name": sub.name,
                            "code": str(practices["code"][i]),
                            "area": str(practices["name"][i]),
                            "type": "GP",
                            "value": max(value, 0.1),
                            "den": den,
                        }
                    )
    frame = pd.DataFrame(rows)
    frame["suppress"] = (frame["code"] == suppressed_practice) & (frame["indicator_id"] == 241)
    return frame


def _with_limits(frame: pd.DataFrame) -> pd.DataFrame:
    """Counts and confidence limits with the stats macros (Wilson for %, Byar's-scaled for DSRs)."""
    kinds = {i.indicator_id: i.kind for i in INDICATORS}
    frame = frame.assign(kind=frame["indicator_id"].map(kinds))
    conn = duckdb.connect()
    install(conn)
    conn.register("f", frame)
    out = conn.execute(
        """select *,
            case kind when 'proportion' then round(value / 100 * den)
                      when 'dsr' then round(value / 100000 * den * 0.8) end as cnt
        from f"""
    ).df()
    conn.register("g", out)
    out = conn.execute(
        """select *,
          case kind when 'proportion' then stats.wilson_lower(cnt, den, 0.95) * 100
                    when 'dsr' then value * stats.byars_lower(cnt, 0.95) / nullif(cnt, 0) end as l95,
          case kind when 'proportion' then stats.wilson_upper(cnt, den, 0.95) * 100
                    when 'dsr' then value * stats.byars_upper(cnt, 0.95) / nullif(cnt, 0) end as u95,
          case kind when 'proportion' then stats.wilson_lower(cnt, den, 0.998) * 100
                    when 'dsr' then value * stats.byars_lower(cnt, 0.998) / nullif(cnt, 0) end as l998,
          case kind when 'proportion' then stats.wilson_upper(cnt, den, 0.998) * 100
                    when 'dsr' then value * stats.byars_upper(cnt, 0.998) / nullif(cnt, 0) end as u998
        from g"""
    ).df()
    conn.close()
    return out


def _csv(frame: pd.DataFrame) -> str:
    def num(series: pd.Series) -> pd.Series:
        return series.map(lambda v: "" if pd.isna(v) else repr(float(v)))

    suppressed = frame["suppress"]
    published = pd.DataFrame(
        {
            "Indicator ID": frame["indicator_id"],
            "Indicator Name": frame["name"],
            "Parent Code": frame["parent"],
            "Parent Name": frame["parent_name"],
            "Area Code": frame["code"],
            "Area Name": frame["area"],
            "Area Type": frame["type"],
            "Sex": "Persons",
            "Age": frame["age"],
            "Category Type": "",
            "Category": "",
            "Time period": frame["period"],
            "Value": num(frame["value"].where(~suppressed)),
            "Lower CI 95.0 limit": num(frame["l95"].where(~suppressed)),
            "Upper CI 95.0 limit": num(frame["u95"].where(~suppressed)),
            "Lower CI 99.8 limit": num(frame["l998"].where(~suppressed)),
            "Upper CI 99.8 limit": num(frame["u998"].where(~suppressed)),
            "Count": num(frame["cnt"].where(~suppressed)),
            "Denominator": num(frame["den"]),
            "Value note": np.where(suppressed, SUPPRESSION_NOTE, ""),
            "Recent Trend": "Cannot be calculated",
            "Compared to England value or percentiles": "Not compared",
            "Compared to percentiles": "Not compared",
            "Time period Sortable": frame["sortable"],
            "New data": "",
            "Compared to goal": "",
            "Time period range": "1y",
        }
    )
    assert FINGERTIPS_DATA.variant("api_export_27").matches(tuple(published.columns))
    return published.to_csv(index=False, lineterminator="\r\n")


def metadata_csv() -> str:
    rows = []
    for ind in INDICATORS:
        row = dict.fromkeys(METADATA_COLUMNS, "")
        row.update(
            {
                "Indicator ID": ind.indicator_id,
                "Indicator": ind.name,
                "Definition": f"{ind.name} (synthetic sample metadata)",
                "Value type": {
                    "proportion": "Proportion",
                    "dsr": "Directly standardised rate",
                    "score": "Score",
                }[ind.kind],
                "Unit": {"proportion": "%", "dsr": "per 100,000", "score": "Score"}[ind.kind],
                "Polarity": ind.polarity,
                "Frequency": "Annual",
                "Year type": "Financial" if ind.kind == "proportion" else "Calendar",
                "Data source": "Synthetic: orchestration/synth/public_health.py",
            }
        )
        rows.append(row)
    buffer = io.StringIO()
    pd.DataFrame(rows, columns=list(METADATA_COLUMNS)).to_csv(buffer, index=False, lineterminator="\r\n")
    return buffer.getvalue()


def write_fingertips(
    geo, by_code, rng: np.random.Generator, out: Path, months: list[date], receive: Receive
) -> list[PlantedGap]:
    """Two releases: the first with every indicator for earlier years, the last adding a year
    (the one the planted gaps are in); return the planted gaps."""
    last_year = months[-1].year - 1
    releases = {
        months[0]: [last_year - 2, last_year - 1],
        months[-1]: [last_year - 2, last_year - 1, last_year],
    }
    for release, years in releases.items():
        frame = _with_limits(fingertips_rows(geo, by_code, rng, years))
        folder = out / FINGERTIPS_DATA.name / f"{release:%Y-%m}"
        folder.mkdir(parents=True, exist_ok=True)
        for indicator_id, part in frame.groupby("indicator_id", sort=True):
            path = folder / f"indicator-data_{indicator_id}.csv"
            path.write_bytes(_csv(part).encode("utf-8"))
            receive(FINGERTIPS_DATA.name, release, path, 8)
        meta = out / FINGERTIPS_METADATA.name / f"{release:%Y-%m}" / "indicator-metadata.csv"
        meta.parent.mkdir(parents=True, exist_ok=True)
        meta.write_bytes(metadata_csv().encode("utf-8"))
        receive(FINGERTIPS_METADATA.name, release, meta, 8)
    return planted_gaps(geo, last_year)


class FingertipsWriter:
    label = "public health"

    def steps(self, ctx: WriteContext) -> int:
        return 1 if len(ctx.months) >= MIN_MONTHS else 0

    def write(self, ctx: WriteContext) -> list[PlantedGap]:
        if len(ctx.months) < MIN_MONTHS:
            return []
        return write_fingertips(ctx.geo, ctx.by_code, ctx.rng, ctx.out, ctx.months, ctx.receive)
