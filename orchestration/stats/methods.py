"""Run the stats macros on plain inputs (pandas DataFrames): a thin layer, no maths of its own.

Each function registers its input on a DuckDB connection with the macros installed and runs
one SQL statement built from them, so the numbers are those the warehouse computes. Outputs
carry both confidence levels: `lower95`, `upper95`, `lower998`, `upper998`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import duckdb
import pandas as pd

from orchestration.stats.install import install

LEVELS = {"95": 0.95, "998": 0.998}


@cache
def _connection() -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect()
    install(conn)
    return conn


def _run(sql: str, **frames: pd.DataFrame) -> pd.DataFrame:
    conn = _connection().cursor()
    for name, frame in frames.items():
        conn.register(name, frame)
    try:
        return conn.execute(sql).df()
    finally:
        for name in frames:
            conn.unregister(name)
        conn.close()


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _strict_sum(column: str) -> str:
    """sum() where one missing value makes the group missing (as PHE's grouped outputs do)."""
    return f"case when count(*) filter (where {_q(column)} is null) > 0 then null else sum({_q(column)}) end"


def _group(group_by: Sequence[str]) -> tuple[str, str]:
    keys = ", ".join(_q(g) for g in group_by)
    return (keys + ", " if keys else ""), (f"group by {keys}" if keys else "")


def _limits(macro: str, args: str) -> str:
    return ", ".join(
        f"stats.{macro}_lower({args}, {level}) as lower{suffix}, "
        f"stats.{macro}_upper({args}, {level}) as upper{suffix}"
        for suffix, level in LEVELS.items()
    )


def _numerator_denominator(numerator: str, denominator: str, group_by: Sequence[str]) -> str:
    """Rows as given, or grouped sums in which one missing value makes the group missing."""
    if not group_by:
        return f"select *, {_q(numerator)} as numerator, {_q(denominator)} as denominator from data"
    keys, group = _group(group_by)
    return (
        f"select {keys}{_strict_sum(numerator)} as numerator, {_strict_sum(denominator)} as denominator "
        f"from data {group}"
    )


def crude_rate(
    data: pd.DataFrame,
    numerator: str,
    denominator: str,
    multiplier: float = 100_000,
    group_by: Sequence[str] = (),
    exact_below: int = 10,
) -> pd.DataFrame:
    """Rate = numerator / denominator × multiplier; exact limits below `exact_below` events, else Byar's."""
    source = _numerator_denominator(numerator, denominator, group_by)
    limits = ", ".join(
        f"stats.crude_rate_lower(numerator, denominator, {multiplier}, {level}, {exact_below}) as lower{s}, "
        f"stats.crude_rate_upper(numerator, denominator, {multiplier}, {level}, {exact_below}) as upper{s}"
        for s, level in LEVELS.items()
    )
    return _run(
        f"select *, stats.crude_rate(numerator, denominator, {multiplier}) as value, {limits}, "
        f"stats.poisson_method(numerator, {exact_below}) as method from ({source})",
        data=data,
    )


def proportion(
    data: pd.DataFrame,
    numerator: str,
    denominator: str,
    multiplier: float = 1,
    group_by: Sequence[str] = (),
) -> pd.DataFrame:
    """Proportion with Wilson score limits (× multiplier: 1 for a proportion, 100 for a percentage)."""
    source = _numerator_denominator(numerator, denominator, group_by)
    limits = ", ".join(
        f"stats.wilson_lower(numerator, denominator, {level}) * {multiplier} as lower{s}, "
        f"stats.wilson_upper(numerator, denominator, {level}) * {multiplier} as upper{s}"
        for s, level in LEVELS.items()
    )
    return _run(
        f"select *, stats.proportion(numerator, denominator, {multiplier}) as value, {limits}, "
        f"'Wilson' as method from ({source})",
        data=data,
    )


def mean(data: pd.DataFrame, value: str, group_by: Sequence[str] = ()) -> pd.DataFrame:
    """Mean with Student's t limits (sample standard deviation, n − 1)."""
    keys, group = _group(group_by)
    return _run(
        f"select *, {_limits('mean', 'value, stdev, value_count')} from ("
        f"select {keys}sum({_q(value)}) as value_sum, count({_q(value)}) as value_count, "
        f"stddev_samp({_q(value)}) as stdev, avg({_q(value)}) as value from data {group})",
        data=data,
    )


def dsr(
    data: pd.DataFrame,
    count: str,
    population: str,
    standard_population: str,
    group_by: Sequence[str],
    multiplier: float = 100_000,
    age_band: str | None = None,
    event_frequency: str | None = None,
) -> pd.DataFrame:
    """Directly standardised rate with Dobson limits; NULL value and limits below 10 events.

    Missing counts count as 0; a missing or non-positive population is an error. For
    non-independent events give `age_band` and `event_frequency`: `count` is then the number of
    persons with exactly that many events, and the variance is weighted by frequency squared.
    """
    bad = data[data[population].isna() | (data[population] <= 0)]
    if len(bad):
        raise ValueError(
            f"DSR needs a positive population in every band; {len(bad)} row(s) have a missing or "
            f"zero {population!r} (first: {bad.iloc[0].to_dict()})"
        )
    if (data[standard_population] < 0).any():
        raise ValueError(f"negative standard population in {standard_population!r}")
    keys, group = _group(group_by)
    freq = _q(event_frequency) if event_frequency else "1"
    band_keys = [*group_by, age_band] if age_band else None
    if band_keys:
        bkeys = ", ".join(_q(k) for k in band_keys)
        bands = (
            f"select {bkeys}, sum({freq} * coalesce({_q(count)}, 0)) as events, "
            f"sum({freq} * {freq} * coalesce({_q(count)}, 0)) as events_sq, "
            f"any_value({_q(population)}) as pop, any_value({_q(standard_population)}) as std "
            f"from data group by {bkeys}"
        )
    else:
        bands = (
            f"select *, coalesce({_q(count)}, 0) as events, coalesce({_q(count)}, 0) as events_sq, "
            f"{_q(population)} as pop, {_q(standard_population)} as std from data"
        )
    sums = (
        f"select {keys}sum(events) as total_count, sum(pop) as total_pop, "
        "sum(std * events / pop) as weighted_sum, "
        "sum(std * std * events_sq / (pop * pop)) as weighted_sq_sum, "
        f"sum(std) as std_total from ({bands}) {group}"
    )
    args = "weighted_sum, weighted_sq_sum, std_total, total_count"
    limits = ", ".join(
        f"stats.dobson_lower({args}, {level}, {multiplier}) as lower{s}, "
        f"stats.dobson_upper({args}, {level}, {multiplier}) as upper{s}"
        for s, level in LEVELS.items()
    )
    return _run(
        f"select *, stats.dsr(weighted_sum, std_total, total_count, {multiplier}) as value, {limits}, "
        f"case when total_count < 10 then 'dsr NA for total count < 10' "
        f"else 'dsr per {multiplier:g}' end as statistic from ({sums})",
        data=data,
    )


def isr(
    data: pd.DataFrame,
    count: str,
    population: str,
    group_by: Sequence[str],
    reference: pd.DataFrame | None = None,
    ref_count: str = "refcount",
    ref_population: str = "refpop",
    age_band: str = "ageband",
    kind: str = "ratio",
    scale: float = 1,
    observed: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Indirectly standardised ratio (`kind='ratio'`, × `scale` 1 or 100) or rate (`kind='rate'`,
    per `scale`, e.g. 100,000), with exact limits below 10 events and Byar's from 10.

    The reference rates come from `reference` (joined on `age_band`) or from the rows' own
    `ref_count`/`ref_population` columns. Missing counts, populations and reference counts count
    as 0 (a zero population is allowed). `observed`, if given, supplies the totals per group.
    """
    if kind not in {"ratio", "rate"}:
        raise ValueError("kind is 'ratio' or 'rate'")
    keys, group = _group(group_by)
    if reference is not None:
        rows = (
            f"select d.*, r.{_q(ref_count)} as rc, r.{_q(ref_population)} as rp from data as d "
            f"join reference as r using ({_q(age_band)})"
        )
        frames = {"data": data, "reference": reference}
    else:
        rows = f"select *, {_q(ref_count)} as rc, {_q(ref_population)} as rp from data"
        frames = {"data": data}
    totals = (
        f"select {keys}sum(coalesce({_q(count)}, 0)) as band_observed, "
        f"sum(coalesce(rc, 0) / rp * coalesce({_q(population)}, 0)) as expected, "
        f"sum(coalesce(rc, 0)) / sum(rp) * {scale} as ref_rate from ({rows}) {group}"
    )
    if observed is not None:
        frames["observed_totals"] = observed
        on = ", ".join(_q(g) for g in group_by)
        joined = f"select t.*, o.observed from ({totals}) as t join observed_totals as o using ({on})"
    else:
        joined = f"select *, band_observed as observed from ({totals})"
    factor = "ref_rate" if kind == "rate" else str(scale)
    limits = ", ".join(
        f"stats.isr_lower(observed, expected, {factor}, {level}) as lower{s}, "
        f"stats.isr_upper(observed, expected, {factor}, {level}) as upper{s}"
        for s, level in LEVELS.items()
    )
    return _run(
        f"select *, stats.isr(observed, expected, {factor}) as value, {limits}, "
        f"stats.poisson_method(observed) as method from ({joined})",
        **frames,
    )


# ---- funnel plots ------------------------------------------------------------------------------


def funnel_proportion_limits(
    denominators: Sequence[float], average: float, multiplier: float = 100
) -> pd.DataFrame:
    """Control limits at each axis denominator, capped at 0 and 100 (as PHEindicatormethods does)."""
    axis = pd.DataFrame({"denominator": list(denominators)})
    cols = ", ".join(
        f"greatest(0, least(100, "
        f"stats.funnel_proportion_{side}({average}, denominator, {level}) * {multiplier})) "
        f"as {side}_{tag}_limit"
        for tag, level in (("2s", 0.95), ("3s", 0.998))
        for side in ("lower", "upper")
    )
    return _run(f"select denominator, {cols}, {average * multiplier} as baseline from axis", axis=axis)


def funnel_proportion_significance(data: pd.DataFrame, numerator: str, denominator: str) -> pd.Series:
    average = data[numerator].sum() / data[denominator].sum()
    result = _run(
        "select stats.funnel_proportion_significance("
        f"{_q(numerator)}, {_q(denominator)}, {average}) as label "
        "from data",
        data=data,
    )
    return result["label"]


def funnel_ratio_limits(observed: Sequence[int]) -> pd.DataFrame:
    """For each observed count, the expected counts at the control limits and the ratios there."""
    axis = pd.DataFrame({"observed": list(observed)})
    cols = []
    for tag, level in (("2s", 0.95), ("3s", 0.998)):
        for side, macro in (("lower", "funnel_low_expected"), ("upper", "funnel_high_expected")):
            cols.append(
                f"stats.{macro}(observed, {level}) as {side}_{tag}_exp_events, "
                f"observed / stats.{macro}(observed, {level}) - 1 as {side}_{tag}_count, "
                f"observed / stats.{macro}(observed, {level}) * 100 as {side}_{tag}_isr"
            )
    return _run(f"select observed, {', '.join(cols)} from axis", axis=axis)


def funnel_ratio_significance(data: pd.DataFrame, observed: str, expected: str) -> pd.Series:
    return _run(
        f"select stats.funnel_poisson_significance({_q(observed)}, {_q(expected)}, 1) as label from data",
        data=data,
    )["label"]


def funnel_rate_limits(
    events: Sequence[int], average: float, multiplier: float, years: int = 1
) -> pd.DataFrame:
    """Rate funnel limits; `average` is events per unit of denominator (not multiplied)."""
    axis = pd.DataFrame({"events": list(events)})
    cols = []
    for tag, level in (("2s", 0.95), ("3s", 0.998)):
        for side, macro in (("lower", "funnel_low_expected"), ("upper", "funnel_high_expected")):
            cols.append(
                f"stats.{macro}(events, {level}) / {average} / {years} as {side}_{tag}_population_1_year, "
                f"stats.funnel_rate_{side}(events, {average}, {level}, {multiplier}) as {side}_{tag}_limit"
            )
    return _run(f"select events, {', '.join(cols)}, {average * multiplier} as baseline from axis", axis=axis)


def derived_denominator(
    events: pd.Series, rate: pd.Series, multiplier: float, denominator: pd.Series | None = None
) -> pd.Series:
    """multiplier × events / rate; with a denominator supplied, zero-event rows use it."""
    derived = multiplier * events / rate.where(rate != 0)
    if denominator is not None:
        derived = derived.where(events != 0, denominator)
    return derived


def funnel_rate_significance(
    data: pd.DataFrame,
    events: str,
    rate: str,
    multiplier: float,
    rate_type: str,
    denominator: str | None = None,
) -> pd.Series:
    """Labels for rate funnels; DSRs with fewer than 10 events are not assessed."""
    frame = data.copy()
    frame["_derived"] = derived_denominator(
        frame[events], frame[rate], multiplier, frame[denominator] if denominator else None
    )
    if rate_type == "dsr":
        frame.loc[frame[events] == 0, "_derived"] = None
    used = frame["_derived"].notna()
    average = frame.loc[used, events].sum() / frame.loc[used, "_derived"].sum()
    labels = _run(
        f"select stats.funnel_poisson_significance({_q(events)}, _derived, {average}) as label from data",
        data=frame,
    )["label"]
    if rate_type == "dsr":
        labels = labels.where(frame[events] >= 10, "Not applicable for events less than 10 for dsrs")
    return labels


# ---- recent trend ------------------------------------------------------------------------------


def recent_trend(
    data: pd.DataFrame,
    period: str,
    group_by: Sequence[str] = (),
    count: str = "count",
    denominator: str = "denominator",
    value: str = "value",
    lower_95: str | None = None,
    upper_95: str | None = None,
    value_type: str = "proportion",
    polarity: str | None = None,
    year_range: int = 1,
    trend_test: str | None = None,
) -> pd.DataFrame:
    """Fingertips' recent trend per group, from one row per period (any order; sorted by `period`).

    Returns the group keys, `points`, `check` (Fingertips' reason when no trend can be
    calculated, else None), `marker` and `label` (worded for `polarity`). A missing period must
    be a row with empty values, or the series reads as unbroken.
    """
    keys, group = _group(group_by)

    def ordered(column: str | None) -> str:
        return f"list({_q(column)} order by {_q(period)})" if column else "null::double[]"

    series = (
        f"select {keys}count(*) as points, {ordered(value)} as vals, {ordered(count)} as counts, "
        f"{ordered(denominator)} as denominators, {ordered(lower_95)} as lower_95, "
        f"{ordered(upper_95)} as upper_95 from data {group}"
    )
    markers = (
        f"select {keys}points, stats.recent_trend_check(?, ?, vals, counts, denominators) as check, "
        "stats.recent_trend_marker(?, vals, counts, denominators, lower_95, upper_95, "
        f"year_range := ?, trend_test := ?) as marker from ({series})"
    )
    conn = _connection().cursor()
    conn.register("data", data)
    try:
        return conn.execute(
            f"select *, stats.recent_trend_label(marker, ?) as label from ({markers}) order by all",
            [polarity, value_type, year_range, value_type, year_range, trend_test],
        ).df()
    finally:
        conn.unregister("data")
        conn.close()
