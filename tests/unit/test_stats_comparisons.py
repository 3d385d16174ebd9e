"""Fingertips' comparisons with a benchmark (stats.compare_*) on Fingertips' own unit tests.

Transcribed from ukhsa-collaboration/fingertips-open, PholioVisualisationWS/AnalysisTest/:
- SingleOverlappingCIsComparatorTest.cs @ 286a466bfb4b158d748440d7f698f02edb3d9af5 (8 tests,
  16 assertions; the same cases @ 80667f3779d723ad422b662226e9002a47ddd170 with the 95% limits)
  and SingleOverlappingCIsForOneCILevelComparatorTest.cs @ bffd3f011c903f472f41cbb42a3eb622e95f4ac0
  (the same 8 tests and 16 assertions, for the one-CI-level comparer);
- SingleOverlappingCIsForTwoCILevelsComparerTest.cs @ 678089724a516138232d273c4c7f511ed3c5a338
  (5 tests, 10 assertions) and its earlier version @ bffd3f011c903f472f41cbb42a3eb622e95f4ac0
  (5 tests, 9 assertions: 5 agree with the current comparer; TestLower95 and TestHigher95 assert
  the direction the comparer had before 678089 turned it round, see TWO_LEVEL_BFFD3F0);
- DoubleOverlappingCIsComparerTest.cs @ 286a466bfb4b158d748440d7f698f02edb3d9af5 (3 tests,
  10 assertions; @ 80667f3 and @ 65f4ee772ebf29dd3f3d7501d636555444228fcc the missing-limits
  test has both limits missing: 2 more cases);
- SpcForProportionsComparerTest.cs @ 286a466 (3 tests, 12 assertions, both confidence levels);
- SpcForDsrComparerTest.cs @ 286a466 (1 test, 6 assertions, both confidence levels);
- NoComparisonComparerTest.cs @ 286a466 (1 test, 1 assertion).
Not transcribed: IndicatorComparerFactoryTest.cs (@ 286a466 and 80667f3) tests which C# class the
factory builds and that it needs a PholioReader, not arithmetic; its method-to-comparer mapping is
stats.compare_by_method's, which every case below also goes through.

Fingertips' tests set PolarityId 0 (RAG low is good) or 1 (RAG high is good) only. The other
polarities (99 Blue-Orange-Blue, here no_judgement; -1 not applicable) are derived from the same
inputs by the C#'s own rule (IndicatorComparer.AdjustForPolarity flips Better/Worse and Best/Worst
for polarity 0 only; CanComparisonGoAhead refuses -1), not asserted by Fingertips: see `derived`.
CoreDataSet.NullValue (-1, "no value") is NULL here.
"""

from __future__ import annotations

import pytest
from scipy.stats import poisson

from orchestration.stats import methods

LOW, HIGH, BOB, NA = 0, 1, 99, -1  # Fingertips' PolarityIds
POLARITY = {LOW: "low_is_good", HIGH: "high_is_good", BOB: "no_judgement", NA: "not_applicable"}
# Fingertips' Significance after AdjustForPolarity, in words: RAG, then Blue-Orange-Blue
WORDS = {
    "None": ("Not compared", "Not compared"),
    "Same": ("Similar", "Similar"),
    "Better": ("Better", "Higher"),
    "Worse": ("Worse", "Lower"),
    "Best": ("Best", "Highest"),
    "Worst": ("Worst", "Lowest"),
}
FLIP = {"Better": "Worse", "Worse": "Better", "Best": "Worst", "Worst": "Best"}


@pytest.fixture(scope="module")
def conn():
    return methods._connection()


def label(significance: str, polarity: int) -> str:
    if polarity == NA:
        return "Not compared"
    return WORDS[significance][1 if polarity == BOB else 0]


def derived(cases: list[tuple]) -> list[tuple]:
    """Each case (name, *inputs, polarity, significance) at every polarity: the C# comparers
    compute a direction (Better = higher) and AdjustForPolarity flips it for low is good only."""
    out = []
    for name, *inputs, polarity, significance in cases:
        higher = FLIP.get(significance, significance) if polarity == LOW else significance
        for other in (LOW, HIGH, BOB, NA):
            got = FLIP.get(higher, higher) if other == LOW else higher
            source = "asserted" if other == polarity else f"derived from PolarityId {polarity}"
            out.append(pytest.param(*inputs, other, label(got, other), id=f"{name}-{other}-{source}"))
    return out


def one(conn, sql: str, args: list):
    return conn.execute(sql, args).fetchone()[0]


# ---- single overlapping CIs (method 1) ----------------------------------------------------------
# SingleOverlappingCIsComparatorTest.cs @ 286a466 (and @ 80667f3), identical in
# SingleOverlappingCIsForOneCILevelComparatorTest.cs @ bffd3f0:
# (test method, value, lower, upper, benchmark, polarity, Significance)
SINGLE = [
    ("TestSameExactly", 11, 10, 12, 11, LOW, "Same"),
    ("TestSameExactly", 11, 10, 12, 11, HIGH, "Same"),
    ("TestSame", 3.05, 2.7, 3.1, 3.0, LOW, "Same"),
    ("TestHigher", 3.3, 3.2, 3.5, 3.0, LOW, "Worse"),
    ("TestHigher", 3.3, 3.2, 3.5, 3.0, HIGH, "Better"),
    ("TestLower", 2.5, 2.2, 2.8, 3.0, LOW, "Better"),
    ("TestLower", 2.5, 2.2, 2.8, 3.0, HIGH, "Worse"),
    ("TestMinusOneData", None, None, None, 3.0, LOW, "None"),
    ("TestMinusOneData", None, None, None, 3.0, HIGH, "None"),
    ("TestMinusOneParent", 2.5, 2.2, 2.8, None, LOW, "None"),
    ("TestMinusOneParent", 2.5, 2.2, 2.8, None, HIGH, "None"),
    ("TestMinusOneBoth", None, None, None, None, LOW, "None"),
    ("TestMinusOneBoth", None, None, None, None, HIGH, "None"),
    # the parent's own limits (3.0, 3.0) play no part in the single overlap
    ("TestNoCIsOnLocalDataReturnNoneSignificance/no lower", 4.0, None, 4.1, 3.0, LOW, "None"),
    ("TestNoCIsOnLocalDataReturnNoneSignificance/no upper", 4.0, 4.0, None, 3.0, LOW, "None"),
    ("TestNoCIsOnLocalDataReturnNoneSignificance/neither", 4.0, None, None, 3.0, LOW, "None"),
]


@pytest.mark.parametrize(("value", "lower", "upper", "benchmark", "polarity", "expected"), derived(SINGLE))
def test_single_overlapping_ci(conn, value, lower, upper, benchmark, polarity, expected):
    args = [value, lower, upper, benchmark, POLARITY[polarity]]
    assert one(conn, "select stats.compare_single_overlap(?, ?, ?, ?, ?)", args) == expected
    # the marts' older name is the same comparison
    assert one(conn, "select stats.compare_with_benchmark(?, ?, ?, ?, ?)", args) == expected
    # and so is the method dispatch, at either level (the limits passed are the level's)
    for level in (0.95, 0.998):
        got = one(
            conn,
            "select stats.compare_by_method('single_overlap', ?, ?, ?, ?, null, null, null, ?, ?, 1)",
            [value, lower, upper, benchmark, POLARITY[polarity], level],
        )
        assert got == expected


# ---- single overlapping CIs for two CI levels (method 17) ---------------------------------------
# SingleOverlappingCIsForTwoCILevelsComparerTest.cs @ 678089, GetData(): lower 99.8% 2.3,
# lower 95% 2.5, value 2.6, upper 95% 2.7, upper 99.8% 2.9.
# (test method, value, lower95, upper95, lower998, upper998, benchmark, polarity, Significance)
DATA_678089 = (2.6, 2.5, 2.7, 2.3, 2.9)
TWO_LEVEL = [
    ("Test_Benchmark_Value_Higher_Than_Upper_99_8", *DATA_678089, 3.0, LOW, "Best"),
    ("Test_Benchmark_Value_Higher_Than_Upper_99_8", *DATA_678089, 3.0, HIGH, "Worst"),
    ("Test_Benchmark_Value_Between_Upper_CIs", *DATA_678089, 2.8, LOW, "Better"),
    ("Test_Benchmark_Value_Between_Upper_CIs", *DATA_678089, 2.8, HIGH, "Worse"),
    ("TestSame", *DATA_678089, 2.6, LOW, "Same"),
    ("TestSame", *DATA_678089, 2.6, HIGH, "Same"),
    ("Test_Benchmark_Value_Between_Lower_CIs", *DATA_678089, 2.4, LOW, "Worse"),
    ("Test_Benchmark_Value_Between_Lower_CIs", *DATA_678089, 2.4, HIGH, "Better"),
    ("Test_Benchmark_Value_Lower_Than_Upper_99_8", *DATA_678089, 2.2, LOW, "Worst"),
    ("Test_Benchmark_Value_Lower_Than_Upper_99_8", *DATA_678089, 2.2, HIGH, "Best"),
]
# The same file @ bffd3f0, (value, lower95, upper95, lower998, upper998) per test. Its comparer
# returned Worse (before polarity) for a benchmark between the lower limits and Better between
# the upper ones, the wrong way round: 678089 turned both round, with its tests. TestLower95 and
# TestHigher95 asserted the old direction (bffd3f0: TestLower95 low is good Better, high is good
# Worse; TestHigher95 low is good Worse, high is good Better), so their inputs are taken here with
# the answers of the comparer @ 678089; the other three tests hold at both commits.
TWO_LEVEL_BFFD3F0 = [
    ("TestLower99_8", 3.0, 3.4, 3.6, 3.2, 3.8, 4.0, LOW, "Best"),
    ("TestLower99_8", 3.0, 3.4, 3.6, 3.2, 3.8, 4.0, HIGH, "Worst"),
    ("TestLower95 (answer @ 678089)", 3.2, 3.2, 3.5, 2.8, 3.7, 3.0, LOW, "Worse"),
    ("TestLower95 (answer @ 678089)", 3.2, 3.2, 3.5, 2.8, 3.7, 3.0, HIGH, "Better"),
    ("TestSame", 2.3, 2.7, 3.3, 2.5, 3.7, 3.0, HIGH, "Same"),
    ("TestHigher95 (answer @ 678089)", 3.0, 2.7, 2.9, 2.5, 3.5, 3.0, LOW, "Better"),
    ("TestHigher95 (answer @ 678089)", 3.0, 2.7, 2.9, 2.5, 3.5, 3.0, HIGH, "Worse"),
    ("TestHigher99_8", 3.0, 2.5, 2.7, 2.3, 2.9, 3.0, LOW, "Worst"),
    ("TestHigher99_8", 3.0, 2.5, 2.7, 2.3, 2.9, 3.0, HIGH, "Best"),
]


@pytest.mark.parametrize(
    ("value", "lower95", "upper95", "lower998", "upper998", "benchmark", "polarity", "expected"),
    derived(TWO_LEVEL) + derived(TWO_LEVEL_BFFD3F0),
)
def test_single_overlapping_cis_for_two_ci_levels(
    conn, value, lower95, upper95, lower998, upper998, benchmark, polarity, expected
):
    got = one(
        conn,
        "select stats.compare_two_level(?, ?, ?, ?, ?, ?, ?)",
        [value, lower95, upper95, lower998, upper998, benchmark, POLARITY[polarity]],
    )
    assert got == expected


def test_two_levels_need_both_levels_limits(conn):
    # the C# refuses when Are95CIsValid or Are99_8CIsValid is false (no test of its own asserts it)
    for missing in range(4):
        limits = [2.5, 2.7, 2.3, 2.9]
        limits[missing] = None
        got = one(conn, "select stats.compare_two_level(2.6, ?, ?, ?, ?, 3.0, 'low_is_good')", limits)
        assert got == "Not compared"


def test_two_levels_at_one_level_are_the_single_overlaps(conn):
    # compare_by_method('two_level') per level is each level's single overlap: the mart's
    # compared_to_england_95 / _998 columns for a two-level indicator
    value, lower95, upper95, lower998, upper998 = DATA_678089
    for benchmark, at_95, at_998 in (
        (3.0, "Better", "Better"),
        (2.8, "Better", "Similar"),
        (2.6, "Similar", "Similar"),
    ):
        got = [
            one(
                conn,
                "select stats.compare_by_method("
                "'two_level', ?, ?, ?, ?, null, null, null, 'low_is_good', ?, 1)",
                [value, lower, upper, benchmark, level],
            )
            for lower, upper, level in ((lower95, upper95, 0.95), (lower998, upper998, 0.998))
        ]
        assert got == [at_95, at_998]


# ---- double overlapping CIs (method 12) ---------------------------------------------------------
# DoubleOverlappingCIsComparerTest.cs @ 286a466: Compare(data, parent, polarity 0).
# (test method, value, lower, upper, benchmark, benchmark lower, benchmark upper, polarity, Significance)
D1, D2 = (3.0, 2.7, 3.6), (4.0, 3.5, 4.5)
D1_WIDE = (3.0, 2.7, 4.1)
D1_APART = (3.0, 2.7, 3.1)
DOUBLE = [
    ("TestSame/data above parent", *D2, *D1, LOW, "Same"),
    ("TestSame/data below parent", *D1, *D2, LOW, "Same"),
    ("TestSame/CI reaches the value, data below", *D1_WIDE, *D2, LOW, "Same"),
    ("TestSame/CI reaches the value, data above", *D2, *D1_WIDE, LOW, "Same"),
    ("TestDifferent/data above parent", *D2, *D1_APART, LOW, "Worse"),
    ("TestDifferent/data below parent", *D1_APART, *D2, LOW, "Better"),
    ("TestNoCIsReturnNoneSignificance/no lower, data", *D2, 3.0, None, 3.1, LOW, "None"),
    ("TestNoCIsReturnNoneSignificance/no lower, parent", 3.0, None, 3.1, *D2, LOW, "None"),
    ("TestNoCIsReturnNoneSignificance/no upper, data", *D2, 3.0, 2.9, None, LOW, "None"),
    ("TestNoCIsReturnNoneSignificance/no upper, parent", 3.0, 2.9, None, *D2, LOW, "None"),
    # @ 80667f3 (LowerCI95 = UpperCI95 = null) and @ 65f4ee7 (both ValueData.NullValue)
    ("TestNoCIsReturnNoneSignificance@80667f3/neither, data", *D2, 3.0, None, None, LOW, "None"),
    ("TestNoCIsReturnNoneSignificance@80667f3/neither, parent", 3.0, None, None, *D2, LOW, "None"),
]


@pytest.mark.parametrize(
    ("value", "lower", "upper", "benchmark", "benchmark_lower", "benchmark_upper", "polarity", "expected"),
    derived(DOUBLE),
)
def test_double_overlapping_cis(
    conn, value, lower, upper, benchmark, benchmark_lower, benchmark_upper, polarity, expected
):
    args = [value, lower, upper, benchmark, benchmark_lower, benchmark_upper, POLARITY[polarity]]
    assert one(conn, "select stats.compare_double_overlap(?, ?, ?, ?, ?, ?, ?)", args) == expected
    got = one(
        conn,
        "select stats.compare_by_method('double_overlap', ?, ?, ?, ?, ?, ?, null, ?, 0.95, 1)",
        args,
    )
    assert got == expected


# ---- SPC for proportions (method 5) -------------------------------------------------------------
# SpcForProportionsComparerTest.cs @ 286a466 (and @ 80667f3): New95_0 (ConfidenceVariable 1.96)
# and New99_8 (3.0902), both PolarityId 0; Unit 100 (values are percentages).
# (test method/area, value, denominator, benchmark, confidence, polarity, Significance)
SAME = "TestComparisionWithDifferentConfidencesWhereSignifancesSame"  # IndicatorId 1, 2010
DIFFERENT = "TestComparisionWithDifferentConfidencesWhereSignifancesDifferent"  # IndicatorId 514, 2010
ENGLAND_1, ENGLAND_514 = 8.9611086876279327, 12.8379546895717
SPC_PROPORTION = [
    # TestDenominatorInvalid: benchmark 10, value 10 (limits 11, 12 play no part); no Unit is set
    # there, as the C# returns before reading it
    ("TestDenominatorInvalid/0", 10, 0, 10, 0.95, LOW, "None"),
    ("TestDenominatorInvalid/-1", 10, -1, 10, 0.95, LOW, "None"),
    (f"{SAME}/5PP", 7.7065767284991562, 5930, ENGLAND_1, 0.95, LOW, "Better"),
    (f"{SAME}/5PP", 7.7065767284991562, 5930, ENGLAND_1, 0.998, LOW, "Better"),
    (f"{SAME}/5PN", 9.8988121425428961, 2273, ENGLAND_1, 0.95, LOW, "Same"),
    (f"{SAME}/5PN", 9.8988121425428961, 2273, ENGLAND_1, 0.998, LOW, "Same"),
    (f"{SAME}/5PR", 12.474645030425965, 1972, ENGLAND_1, 0.95, LOW, "Worse"),
    (f"{SAME}/5PR", 12.474645030425965, 1972, ENGLAND_1, 0.998, LOW, "Worse"),
    (f"{DIFFERENT}/5PY", 10.9783420463032, 1339, ENGLAND_514, 0.95, LOW, "Better"),
    (f"{DIFFERENT}/5PY", 10.9783420463032, 1339, ENGLAND_514, 0.998, LOW, "Same"),
    (f"{DIFFERENT}/5GC", 15.9065628476085, 899, ENGLAND_514, 0.95, LOW, "Worse"),
    (f"{DIFFERENT}/5GC", 15.9065628476085, 899, ENGLAND_514, 0.998, LOW, "Same"),
]


@pytest.mark.parametrize(
    ("value", "denominator", "benchmark", "confidence", "polarity", "expected"), derived(SPC_PROPORTION)
)
def test_spc_for_proportions(conn, value, denominator, benchmark, confidence, polarity, expected):
    args = [value, denominator, benchmark, POLARITY[polarity], confidence]
    sql = "select stats.compare_spc_proportion(?, ?, ?, ?, ?, multiplier := 100)"
    assert one(conn, sql, args) == expected
    # as proportions (multiplier 1), and through the method dispatch
    as_proportion = [value / 100, denominator, benchmark / 100, POLARITY[polarity], confidence]
    assert one(conn, "select stats.compare_spc_proportion(?, ?, ?, ?, ?)", as_proportion) == expected
    got = one(
        conn,
        "select stats.compare_by_method('spc_proportion', ?, null, null, ?, null, null, ?, ?, ?, 100)",
        [value, benchmark, denominator, POLARITY[polarity], confidence],
    )
    assert got == expected


def test_spc_for_proportions_keeps_its_answers_with_fingertips_rounded_z(conn):
    """Fingertips' tests use z = 1.96 and 3.0902; the macro uses the exact z. The answers are
    the same because no case lies between the two sets of limits: the limits for 1.96 / 3.0902,
    worked with the C#'s formula here, sit on the same side of every value."""
    for _, value, denominator, benchmark, confidence, _, significance in SPC_PROPORTION[2:]:
        z = 1.96 if confidence == 0.95 else 3.0902
        e = denominator * benchmark / 100
        b = z * (z**2 + 4 * e * (1 - e / denominator)) ** 0.5
        lower, upper = ((2 * e + z**2 - b), (2 * e + z**2 + b))
        lower, upper = lower / (2 * (denominator + z**2)), upper / (2 * (denominator + z**2))
        p = value / 100
        rounded = "Worse" if upper < p else "Better" if lower > p else "Same"  # low is good
        assert rounded == significance
        exact = conn.execute(
            "select stats.wilson_lower(? * ?, ?, ?), stats.wilson_upper(? * ?, ?, ?)",
            [denominator, benchmark / 100, denominator, confidence] * 2,
        ).fetchone()
        assert (exact[1] < p, exact[0] > p) == (upper < p, lower > p)


def test_spc_for_proportions_refuses_a_benchmark_that_is_not_a_proportion(conn):
    # the C# takes the square root of a negative (NaN: "Same"); here Not compared
    for benchmark in (-5, 120):
        got = one(
            conn,
            "select stats.compare_spc_proportion(50, 100, ?, 'low_is_good', 0.95, multiplier := 100)",
            [benchmark],
        )
        assert got == "Not compared"
    assert (
        one(conn, "select stats.compare_spc_proportion(0.5, 100, 0.4, 'low_is_good', 0.9)", [])
        == "Not compared"
    )


# ---- SPC for DSRs (method 6) --------------------------------------------------------------------
# SpcForDsrComparerTest.cs @ 286a466 (and @ 80667f3), TestCompare: IndicatorId 501 (MRSA per
# 100,000 population, 2011), England 2.132708657734625, Unit 100000; New95_0 (ConfidenceVariable
# 0.025, the tail of a 95% interval) and New99_8 (0.001), both PolarityId 0.
# (test method/area, value, Denominator2, benchmark, confidence, polarity, Significance)
MRSA = 2.132708657734625
SPC_DSR = [
    ("TestCompare/5PP Cams PCT", 1.1358436559886544, 616282, MRSA, 0.95, LOW, "Better"),
    ("TestCompare/5PP Cams PCT", 1.1358436559886544, 616282, MRSA, 0.998, LOW, "Same"),
    ("TestCompare/5PT Suffolk PCT", 2.657913272289925, 601976, MRSA, 0.95, LOW, "Same"),
    ("TestCompare/5PT Suffolk PCT", 2.657913272289925, 601976, MRSA, 0.998, LOW, "Same"),
    ("TestCompare/5PG Birmingham and East PCT", 4.1515156695295845, 409489, MRSA, 0.95, LOW, "Worse"),
    ("TestCompare/5PG Birmingham and East PCT", 4.1515156695295845, 409489, MRSA, 0.998, LOW, "Same"),
]


@pytest.mark.parametrize(
    ("value", "denominator", "benchmark", "confidence", "polarity", "expected"), derived(SPC_DSR)
)
def test_spc_for_dsrs(conn, value, denominator, benchmark, confidence, polarity, expected):
    args = [value, denominator, benchmark, POLARITY[polarity], confidence]
    assert one(conn, "select stats.compare_spc_dsr(?, ?, ?, ?, ?)", args) == expected
    got = one(
        conn,
        "select stats.compare_by_method('spc_dsr', ?, null, null, ?, null, null, ?, ?, ?, 100000)",
        [value, benchmark, denominator, POLARITY[polarity], confidence],
    )
    assert got == expected


def test_spc_dsr_limits_are_fingertips_poisson_limits_of_the_expected_events(conn):
    """5PP: E = 2.1327 x 616,282 / 100,000 = 13.14 expected events. Fingertips' PoisLow(E, p)
    finds the mean at which P(X >= E) = p, summing whole counts k >= E (so k >= 14), and
    PoisHigh the mean at which P(X <= E) = p (k <= 13): the exact limits of 14 and of 13 events."""
    lower, upper = conn.execute(
        "select stats.spc_dsr_lower(?, 616282, 0.95), stats.spc_dsr_upper(?, 616282, 0.95)", [MRSA, MRSA]
    ).fetchone()
    expected_events = MRSA * (616282 / 100000)
    assert 13 < expected_events < 14
    low_mean, high_mean = lower / 100000 * 616282, upper / 100000 * 616282
    assert poisson.sf(13, low_mean) == pytest.approx(0.025, rel=1e-9)  # P(X >= 14)
    assert poisson.cdf(13, high_mean) == pytest.approx(0.025, rel=1e-9)  # P(X <= 13)
    assert (round(low_mean, 4), round(high_mean, 4)) == (7.6539, 22.2304)
    assert lower > 1.1358436559886544  # 5PP's rate is below the lower limit: better (low is good)


def test_spc_for_dsrs_refuses_what_the_csharp_refuses(conn):
    # IsDenominator2Valid (> 0), and missing value or benchmark
    for value, denominator, benchmark in (
        (1.0, 0, MRSA),
        (1.0, -1, MRSA),
        (None, 616282, MRSA),
        (1.0, 616282, None),
    ):
        got = one(
            conn,
            "select stats.compare_spc_dsr(?, ?, ?, 'low_is_good', 0.95)",
            [value, denominator, benchmark],
        )
        assert got == "Not compared"


# ---- no comparison (method -1) ------------------------------------------------------------------


def test_no_comparison_is_not_compared(conn):
    # NoComparisonComparerTest.cs @ 286a466, TestCompareSignificanceIsNone (empty CoreDataSets);
    # here with a full set of inputs too: the method alone decides
    for value in (None, 2.5):
        for method in ("none", None):
            got = one(
                conn,
                "select stats.compare_by_method(?, ?, 2.2, 2.8, 3.0, 2.9, 3.1, 100, 'low_is_good', 0.95, 1)",
                [method, value],
            )
            assert got == "Not compared"


def test_every_label_fingertips_has(conn):
    got = {
        polarity: [
            one(conn, "select stats.benchmark_label(?, ?)", [significance, polarity])
            for significance in (2, 1, 0, -1, -2, None)
        ]
        for polarity in ("high_is_good", "low_is_good", "no_judgement", "not_applicable")
    }
    assert got == {
        "high_is_good": ["Best", "Better", "Similar", "Worse", "Worst", "Not compared"],
        "low_is_good": ["Worst", "Worse", "Similar", "Better", "Best", "Not compared"],
        "no_judgement": ["Highest", "Higher", "Similar", "Lower", "Lowest", "Not compared"],
        "not_applicable": ["Not compared"] * 6,
    }
