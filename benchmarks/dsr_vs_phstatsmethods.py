"""DSRs with Dobson limits through the stats macros, against PHStatsMethods on identical input.

    make benchmark-stats        # installs the `bench` extra (phstatsmethods) and runs this

Input: a national geography (6,500 practices, 106 sub-ICB locations, 42 ICBs), 19 ESP2013 bands
× 2 sexes × 10 years × 10 indicators, with Poisson counts on realistic band populations.
1. DuckDB computes every DSR (practice, sub-ICB and ICB; both CI levels) in one SQL statement.
2. PHStatsMethods `ph_dsr` and the same SQL both run on one indicator-year (~13,300 area-sex
   groups, the scale the issue quotes); values are compared to 1e-9 relative and the speed ratio
   is reported.
"""

from __future__ import annotations

import argparse
import resource
import time

import duckdb
import numpy as np
import pandas as pd

from orchestration.stats.install import install

ESP19 = [
    5000,
    5500,
    5500,
    5500,
    6000,
    6000,
    6500,
    7000,
    7000,
    7000,
    7000,
    6500,
    6000,
    5500,
    5000,
    4000,
    2500,
    1500,
    1000,
]
BAND_SHARE = np.array(
    [5.5, 5.8, 5.9, 5.6, 6.3, 7.2, 7.3, 6.9, 6.4, 6.3, 6.7, 6.5, 5.8, 5.0, 4.7, 3.4, 2.3, 1.3, 0.8]
)
BAND_RATE = np.geomspace(2e-3, 0.25, 19)  # events per person-year rise steeply with age

SUMS = "sum(esp * count / pop), sum(esp * esp * count / (pop * pop)), sum(esp), sum(count)"
DSR_SQL = f"""
select area_type, area_code, indicator, year, sex,
    sum(count) as total_count, sum(pop) as total_pop,
    stats.dsr(sum(esp * count / pop), sum(esp), sum(count)) as value,
    stats.dobson_lower({SUMS}, 0.95) as lower95, stats.dobson_upper({SUMS}, 0.95) as upper95,
    stats.dobson_lower({SUMS}, 0.998) as lower998, stats.dobson_upper({SUMS}, 0.998) as upper998
from {{source}}
group by area_type, area_code, indicator, year, sex
"""


def practice_inputs(practices: int, years: int, indicators: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    list_size = np.clip(rng.lognormal(np.log(8300), 0.55, practices), 1200, 60000)
    shares = BAND_SHARE / BAND_SHARE.sum()
    # practice × sex × band populations, then × years × indicators
    pop = np.maximum(
        np.round(
            list_size[:, None, None] / 2 * shares[None, None, :] * rng.uniform(0.7, 1.3, (practices, 2, 19))
        ),
        1,
    )
    index = pd.MultiIndex.from_product(
        [range(indicators), range(years), range(practices), (1, 2), range(19)],
        names=["indicator", "year", "practice", "sex", "band"],
    )
    pops = np.tile(pop.reshape(-1), indicators * years)
    factor = np.repeat(rng.uniform(0.2, 1.5, indicators), years * practices * 2 * 19)
    rates = np.tile(np.tile(BAND_RATE, practices * 2), indicators * years) * factor
    counts = rng.poisson(pops * rates)
    frame = index.to_frame(index=False)
    frame["count"] = counts
    frame["pop"] = pops
    frame["esp"] = np.tile(ESP19, len(frame) // 19)
    frame["sub_icb"] = frame["practice"] % 106
    frame["icb"] = frame["sub_icb"] % 42
    return frame


def build_areas(conn: duckdb.DuckDBPyConnection, practices: pd.DataFrame) -> None:
    conn.register("practices", practices)
    conn.execute(
        """create or replace table inputs as
        select 'practice' as area_type, practice as area_code, indicator, year, sex, band, count, pop, esp
        from practices
        union all
        select 'sub_icb', sub_icb, indicator, year, sex, band, sum(count), sum(pop), any_value(esp)
        from practices group by all
        union all
        select 'icb', icb, indicator, year, sex, band, sum(count), sum(pop), any_value(esp)
        from practices group by all"""
    )
    conn.unregister("practices")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--practices", type=int, default=6500)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--indicators", type=int, default=10)
    args = parser.parse_args()

    from PHStatsMethods import ph_dsr

    conn = duckdb.connect()
    install(conn)
    started = time.perf_counter()
    build_areas(conn, practice_inputs(args.practices, args.years, args.indicators, 20130401))
    rows, groups = conn.execute("select count(*), count(*) / 19 from inputs").fetchone()
    print(
        f"input: {rows:,} band rows, {groups:,.0f} area × sex × year × indicator groups "
        f"(built in {time.perf_counter() - started:.1f} s)"
    )

    started = time.perf_counter()
    conn.execute("create or replace table dsr_all as " + DSR_SQL.format(source="inputs"))
    full = time.perf_counter() - started
    calculated = conn.execute("select count(*) filter (where value is not null) from dsr_all").fetchone()[0]
    print(
        f"DuckDB macros, everything: {full:.2f} s for {groups:,.0f} DSRs ({calculated:,} with ≥ 10 events), "
        f"{groups / full:,.0f} DSRs/s"
    )

    subset = conn.execute("select * from inputs where indicator = 0 and year = 0").df()
    keys = ["area_type", "area_code", "indicator", "year", "sex"]
    started = time.perf_counter()
    ours = conn.execute(DSR_SQL.format(source="subset")).df()
    ours_s = time.perf_counter() - started
    started = time.perf_counter()
    theirs = ph_dsr(
        subset,
        "count",
        "pop",
        "esp",
        group_cols=keys,
        euro_standard_pops=False,
        confidence=[0.95, 0.998],
        metadata=False,
    )
    theirs_s = time.perf_counter() - started

    merged = ours.merge(theirs, on=keys)
    assert len(merged) == len(ours) == len(theirs)
    pairs = {
        "value": "Value",
        "lower95": "lower_95_ci",
        "upper95": "upper_95_ci",
        "lower998": "lower_99_8_ci",
        "upper998": "upper_99_8_ci",
    }
    valid = merged["total_count"] >= 10
    worst = 0.0
    for mine, their in pairs.items():
        a, b = merged.loc[valid, mine].to_numpy(), merged.loc[valid, their].to_numpy()
        worst = max(worst, float(np.max(np.abs(a - b) / np.abs(b))))
    assert merged.loc[~valid, "value"].isna().all()
    print(
        f"one indicator-year: {len(ours):,} groups; DuckDB {ours_s:.3f} s, PHStatsMethods {theirs_s:.2f} s "
        f"→ {theirs_s / ours_s:,.0f}× faster"
    )
    print(
        f"agreement: max relative difference {worst:.2e} over {valid.sum():,} DSRs × 5 values (target ≤ 1e-9)"
    )
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")


if __name__ == "__main__":
    main()
