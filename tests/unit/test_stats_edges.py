"""The macros' own rules: lookup tables, benchmark labels, and bad inputs that give NULL not infinity."""

from __future__ import annotations

import csv
import math

import pytest

from orchestration.stats import methods, tables


@pytest.fixture(scope="module")
def conn():
    return methods._connection()


def test_the_committed_quantile_tables_are_what_scipy_gives():
    committed = list(csv.reader((tables.DATA / "poisson_exact_limits.csv").open()))[1:]
    fresh = tables.poisson_rows()
    assert committed == fresh
    assert list(csv.reader((tables.DATA / "t_quantiles.csv").open()))[1:] == tables.t_rows()


def test_beyond_the_exact_table_byars_is_within_5e_8_of_exact(conn):
    from scipy.stats import chi2

    for observed in (5001, 12_345, 250_000):
        lower, upper = conn.execute(
            "select stats.exact_lower(?, 0.95), stats.exact_upper(?, 0.95)", [observed, observed]
        ).fetchone()
        assert math.isclose(lower, chi2.ppf(0.025, 2 * observed) / 2, rel_tol=5e-8)
        assert math.isclose(upper, chi2.ppf(0.975, 2 * observed + 2) / 2, rel_tol=5e-8)


def test_t_quantiles_beyond_the_table_follow_cornish_fisher(conn):
    from scipy.stats import t

    for df in (1001, 5000, 100_000):
        for level in (0.95, 0.998):
            got = conn.execute("select stats.t_quantile(?, ?)", [df, level]).fetchone()[0]
            assert math.isclose(got, t.ppf(1 - (1 - level) / 2, df), rel_tol=1e-10)


@pytest.mark.parametrize(
    ("value", "lower", "upper", "benchmark", "polarity", "label"),
    [
        (10, 8, 12, 11, "low_is_good", "Similar"),
        (10, 8, 12, 13, "low_is_good", "Better"),
        (10, 8, 12, 13, "high_is_good", "Worse"),
        (14, 13, 16, 11, "low_is_good", "Worse"),
        (14, 13, 16, 11, "high_is_good", "Better"),
        (14, 13, 16, 11, "no_judgement", "Higher"),
        (10, 8, 12, 13, "no_judgement", "Lower"),
        (10, 8, 12, 12, "low_is_good", "Similar"),  # a benchmark on the limit is inside it
        (10, None, 12, 13, "low_is_good", "Not compared"),
        (10, 8, 12, 13, None, "Not compared"),
    ],
)
def test_comparison_with_a_benchmark_as_fingertips_labels_it(
    conn, value, lower, upper, benchmark, polarity, label
):
    got = conn.execute(
        "select stats.compare_with_benchmark(?, ?, ?, ?, ?)", [value, lower, upper, benchmark, polarity]
    ).fetchone()[0]
    assert got == label


def test_bad_inputs_give_null_never_an_infinity(conn):
    row = conn.execute(
        """select
            stats.crude_rate(5, 0, 100000), stats.crude_rate_lower(5, 0, 100000, 0.95),
            stats.exact_lower(-1, 0.95), stats.byars_upper(-3, 0.95),
            stats.wilson_lower(12, 10, 0.95), stats.proportion(12, 10),
            stats.isr(5, 0, 100), stats.dsr(100, 0, 50), stats.z_value(0.9),
            stats.dsr(100, 1000, 9), stats.funnel_ratio_upper(0, 0.95)"""
    ).fetchone()
    assert row == (None,) * len(row)


def test_exact_and_byars_agree_with_the_readme_anchor_values(conn):
    # feeds_and_methods.md §8.9: O = 10 at 95%, Byar's [4.7874, 18.3915], exact [4.7954, 18.3904]
    byars = conn.execute("select stats.byars_lower(10, 0.95), stats.byars_upper(10, 0.95)").fetchone()
    exact = conn.execute("select stats.exact_lower(10, 0.95), stats.exact_upper(10, 0.95)").fetchone()
    assert [round(v, 4) for v in byars] == [4.7874, 18.3915]
    assert [round(v, 4) for v in exact] == [4.7954, 18.3904]
