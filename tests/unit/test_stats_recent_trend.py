"""Fingertips' recent trend (stats.recent_trend_*) on Fingertips' own published test cases.

Transcribed from ukhsa-collaboration/fingertips-open, PholioVisualisationWS/:
- @ 678089724a516138232d273c4c7f511ed3c5a338 (the current calculator, Analysis/TrendMarkers/):
  AnalysisTest/TrendMarkerCalculatorTest.cs (5 tests) and AnalysisTest/TrendRequestTest.cs (6);
- @ 8510d6a71bfb7e130820d50e85c92ffe3f746401: AnalysisTest/WhenUsingTrendMarkerCalculator.cs
  (all 16 tests). That version ran the chi-squared test for trend on the 5 most recent points,
  then 6, 7 ... until one was significant at 99.8%; every expectation below is decided by the
  five most recent points, which is all the current calculator uses;
- @ f716dcc79f39a35bdad52240f60835790ba876da: the same file's DSR case (chi-squared 1.4948 over
  7 points) and FormattingTest/TrendMarkerLabelProviderTest.cs (4 tests, 7 assertions);
- @ 286a466bfb4b158d748440d7f698f02edb3d9af5: the same file's chi-squared values (over 5, 6 and 7
  points) and slopes (ordinary least squares of logit / log value on year). Its markers came
  from a 95% test on windows growing from the oldest point, so only the statistics and the two
  markers about the number of points are taken from it.
Fingertips compares with FaultTolerance 0.00005 after Math.Round(x, 4) (or Round(x, 2) == y);
so do these tests. Cases Fingertips does not assert (the direction of two significant trends,
the edge cases) are worked by hand in the comments.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from orchestration.stats import methods

CANNOT = "Cannot be calculated"
NO_CHANGE = "No significant change"


@pytest.fixture(scope="module")
def conn():
    return methods._connection()


def chi_square(conn, counts, denominators) -> float:
    return conn.execute("select stats.recent_trend_chi_square(?, ?)", [counts, denominators]).fetchone()[0]


def marker(conn, value_type, vals, counts, denominators, lower=None, upper=None, **named) -> str:
    extra = "".join(f", {name} := ?" for name in named)
    return conn.execute(
        "select stats.recent_trend_marker(?, ?::double[], ?::double[], ?::double[], ?::double[], ?::double[]"
        f"{extra})",
        [value_type, vals, counts, denominators, lower, upper, *named.values()],
    ).fetchone()[0]


def check(conn, value_type, year_range, vals, counts, denominators) -> str | None:
    return conn.execute(
        "select stats.recent_trend_check(?, ?, ?::double[], ?::double[], ?::double[])",
        [value_type, year_range, vals, counts, denominators],
    ).fetchone()[0]


def percentages(counts, denominators) -> list[float]:
    """Fingertips' ToProportionCoreDataList: Value = Count / Denominator × 100."""
    return [c / d * 100 for c, d in zip(counts, denominators, strict=True)]


def fingertips_close(actual: float, expected: float, digits: int = 4) -> bool:
    return abs(round(actual, digits) - expected) < 0.00005


# ---- 678089 TrendMarkerCalculatorTest.cs: the current calculator ----------------------------------

# GetTrendData_Set1 / GetTrendDataForProportion_Set1 (2014 … 2018, listed newest first there)
SET1 = {
    "counts": [994, 1023, 1199, 1332, 1367],
    "denominators": [40299, 41527, 42811, 44064, 44701],
    "values": [24.67, 24.6, 28, 30.2, 30.6],
    "lower": [23.16, 23.15, 26.44, 28.63, 28.98],
    "upper": [26.25, 26.19, 29.64, 31.9, 32.25],
}
# GetTrendData_Set2 (2014 … 2018)
SET2 = {
    "counts": [209, 213, 213, 239, 210],
    "denominators": [1017, 1087, 1119, 1117, 1139],
    "values": [20.5506, 19.5952, 19.0349, 21.3966, 18.4372],
    "lower": [18.1803, 17.3444, 16.8421, 19.0918, 16.2925],
    "upper": [23.1427, 22.0602, 21.4394, 23.8975, 20.7941],
}


def set_args(data):
    return data["values"], data["counts"], data["denominators"], data["lower"], data["upper"]


def test_invalid_trend_request_has_a_message_and_no_trend(conn):
    # TestCalculateTrendInvalidTrendRequest: YearRange = 3
    message = check(conn, "proportion", 3, SET1["values"], SET1["counts"], SET1["denominators"])
    assert message == "The recent trend cannot be calculated for this year range"
    assert marker(conn, "proportion", *set_args(SET1), year_range=3) == CANNOT


def test_weighted_regression_is_significant_with_chi_square_46_77(conn):
    # TestIsSignificantReturnsTrue: default comparator → IsSignificant (the regression on values)
    got = conn.execute(
        "select stats.recent_trend_weighted_chi_square(?, "
        "[stats.recent_trend_weight(x[1], x[2]) for x in list_zip(?::double[], ?::double[])])",
        [SET1["values"], SET1["lower"], SET1["upper"]],
    ).fetchone()[0]
    assert round(got, 2) == 46.77
    # Fingertips asserts significance only; the values rise 24.67 → 30.6, so the trend increases
    got = marker(conn, "proportion", *set_args(SET1), trend_test="weighted_regression")
    assert got == "Increasing"


def test_weighted_regression_not_significant(conn):
    # TestIsSignificantReturnsFalse
    assert marker(conn, "proportion", *set_args(SET2), trend_test="weighted_regression") == NO_CHANGE


def test_chi_square_for_trend_is_significant_with_47_9(conn):
    # TestIsSignificantForProportionsReturnsTrue
    assert round(chi_square(conn, SET1["counts"], SET1["denominators"]), 2) == 47.9
    # significance asserted by Fingertips; direction: 994/40299 = 2.47% … 1367/44701 = 3.06%, rising
    # (the C# would report "Decreasing" here: its proportion path never sets the slope it reads)
    assert marker(conn, "proportion", *set_args(SET1)) == "Increasing"


def test_count_equal_to_denominator_cannot_be_calculated(conn):
    # TestIsSignificantForProportionsCannotBeCalculated: 5 of 5 in 2012
    counts, denominators = [5, 3, 1, 1, 2], [5, 5, 5, 4, 4]
    values = [100, 60, 20, 25, 50]
    assert (
        check(conn, "proportion", 1, values, counts, denominators) == "The recent trend cannot be calculated"
    )
    assert marker(conn, "proportion", values, counts, denominators, [0] * 5, [0] * 5) == CANNOT


# ---- 678089 TrendRequestTest.cs: which requests are valid ----------------------------------------

DATA_LIST = {"values": [2] * 5, "counts": [8] * 5, "denominators": [4] * 5}  # 2001 … 2005


@pytest.mark.parametrize(
    ("name", "value_type", "year_range", "values", "expected"),
    [
        ("TestTrendRequest_IsValid_True", "proportion", 1, [2] * 5, None),
        ("TestTrendRequest_IsValid_True_If_Enough_Recent_Values", "proportion", 1, [2] * 5, None),
        # an invalid point (2000) before the five most recent valid ones
        ("TestTrendRequest_IsValid_True_If_Enough_Valid_Values", "proportion", 1, [None, *[2] * 5], None),
        # dataList[0] (2001) has no value: only four valid points back from 2005
        (
            "TestTrendRequest_IsValid_False_If_Value_Invalid",
            "proportion",
            1,
            [None, 2, 2, 2, 2],
            "Not enough data points with valid values to calculate recent trend",
        ),
        (
            "TestTrendRequestIsInvalidForYearRangeGreaterThan1",
            "proportion",
            3,
            [2] * 5,
            "The recent trend cannot be calculated for this year range",
        ),
        (
            "TestTrendRequestIsInvalidForNonRelevantValueType",
            "count",
            1,
            [2] * 5,
            "The recent trend cannot be calculated for this value type",
        ),
    ],
)
def test_trend_request_validity(conn, name, value_type, year_range, values, expected):
    points = len(values)
    assert check(conn, value_type, year_range, values, [8] * points, [4] * points) == expected, name


# ---- 8510d6a WhenUsingTrendMarkerCalculator.cs: markers from counts and denominators ------------

DATA_1 = ([621, 599, 556, 535, 447], [3454, 3195, 3256, 3227, 3121])  # 2010 … 2014, indicator 20301
DATA_2 = ([2157, 2090, 2194, 2134.81, 2094], [3454, 3195, 3256, 3152, 3062])
DATA_3 = ([8116, 8145, 8222, 8506, 8728], [91530, 91773, 92088, 92238, 92665.890])  # indicator 1172
DATA_4 = ([5, 7, 6, 8, 8, 9], [22, 35, 42, 50, 100, 200])  # years 1 … 6
DATA_5 = ([5405, 5500, 5435, 5480, 5315], [18095, 18170, 18005, 17890, 17860])  # indicator 10101
DATA_6 = ([5645, *DATA_5[0]], [18285, *DATA_5[1]])  # 2007 added
DATA_7 = ([5455, *DATA_6[0]], [18590, *DATA_6[1]])  # 2006 added
DATA_5A = ([22435, 22445, 21365, 20955, 19055], [65880, 67900, 68705, 69835, 70910])
DATA_7A = ([22460, 23490, *DATA_5A[0]], [64600, 64830, *DATA_5A[1]])  # 2006, 2007 added
DATA_1_VALUES = [17.9791546033584, 18.7480438184664, 17.0761670761671, 16.5788658196467, 14.3223325857097]
DATA_2_VALUES = [62.4493341053851, 65.414710485133, 67.3832923832924, 67.7287436548223, 68.3866753755715]
DATA_3_VALUES = [8.86704, 8.87516, 8.92842, 9.2218, 9.41887]


@pytest.mark.parametrize(
    ("name", "counts", "denominators", "values", "expected"),
    [
        (
            "GetResults_Return_DecreasingTrend_For_Proportion_And_TrendData_1",
            *DATA_1,
            DATA_1_VALUES,
            "Decreasing",
        ),
        (
            "GetResults_Return_IncreasingTrend_For_Proportion_And_TrendData_2",
            *DATA_2,
            DATA_2_VALUES,
            "Increasing",
        ),
        (
            "GetResults_Return_IncreasingTrend_For_Proportion_And_TrendData_3",
            *DATA_3,
            DATA_3_VALUES,
            "Increasing",
        ),
        ("GetResults_Return_IncreasingTrend_For_Proportion_And_TrendData_4", *DATA_4, None, "Decreasing"),
        ("GetResults_Return_No_Change_For_Proportion_And_TrendData_5", *DATA_5, None, NO_CHANGE),
        ("GetResults_Return_No_Change_For_Proportion_And_TrendData_6", *DATA_6, None, NO_CHANGE),
        ("GetResults_Return_No_Change_For_Proportion_And_TrendData_7", *DATA_7, None, NO_CHANGE),
        ("GetResults_Return_DecreasingTrend_For_Proportion_And_TrendData_5a", *DATA_5A, None, "Decreasing"),
        ("GetResults_Return_IncreasingTrend_For_Proportion_And_TrendData_7a", *DATA_7A, None, "Decreasing"),
        # Count, Denominator and Value = ValueData.NullValue in years 1 and 2
        (
            "GetResults_Return_Not_Calculated_For_Invalid_Values",
            [None, None, 11024.38, 11681.04, 11738.96],
            [None, None, 2315677, 2330591, 2349351],
            [None, None, 48313, 50802, 50623],
            CANNOT,
        ),
        (
            "GetResults_Return_No_SignificanceValue_For_InsufficientTrendData",
            *(x[:4] for x in DATA_1),
            None,
            CANNOT,
        ),
    ],
)
def test_proportion_markers(conn, name, counts, denominators, values, expected):
    values = values or percentages(counts, denominators)
    assert marker(conn, "proportion", values, counts, denominators) == expected, name


def test_no_data_cannot_be_calculated(conn):
    # GetResults_Return_No_SignificanceValue_For_NullTrendData
    assert check(conn, "proportion", 1, None, None, None) == "No data points found"
    assert marker(conn, "proportion", None, None, None) == CANNOT


def test_shuffled_rows_are_put_in_period_order(conn):
    # GetResults_Return_DecreasingTrend_For_Proportion_And_Shuffled_TrendData_1 (OrderBy Guid)
    rows = pd.DataFrame({"year": range(2010, 2015), "count": DATA_1[0], "denominator": DATA_1[1]})
    rows["value"] = DATA_1_VALUES
    shuffled = rows.sample(frac=1, random_state=7)
    assert list(shuffled["year"]) != sorted(shuffled["year"])
    result = methods.recent_trend(shuffled, "year", polarity="low_is_good")
    assert result.loc[0, "marker"] == "Decreasing"
    assert result.loc[0, "label"] == "Decreasing and getting better"


@pytest.mark.parametrize(
    ("name", "data", "values", "expected"),
    [
        (
            "GetResults_Return_DecreasingTrend_For_CrudeRate_And_TrendData_1",
            DATA_1,
            DATA_1_VALUES,
            "Decreasing",
        ),
        (
            "GetResults_Return_IncreasingTrend_For_CrudeRate_And_TrendData_2",
            DATA_2,
            DATA_2_VALUES,
            "Increasing",
        ),
    ],
)
def test_crude_rates_under_the_chi_square_test(conn, name, data, values, expected):
    # that version ran the chi-squared test for trend for crude rates too (no limits given)
    got = marker(conn, "crude_rate", values, *data, trend_test="chi_square_for_trend")
    assert got == expected, name
    # the current default for a crude rate is the regression, which needs 95% limits
    assert marker(conn, "crude_rate", values, *data) == CANNOT


# ---- the statistic itself over 5, 6 and 7 points (286a466, f716dcc) ------------------------------

OLD_DATA_1 = ([5, 7, 6, 7, 8, 10], [22, 35, 42, 48, 54, 150])  # 2006 … 2011


@pytest.mark.parametrize(
    ("name", "counts", "denominators", "expected"),
    [
        ("GetResults_Return_Correct_SignificanceValue_For_TrendData_1 (6 points)", *OLD_DATA_1, 8.0237),
        ("GetResults_Return_IncreasingTrend_For_Proportion_And_TrendData_5", *DATA_5, 0.018),
        ("GetResults_Return_IncreasingTrend_For_Proportion_And_TrendData_6", *DATA_6, 1.3987),
        ("GetResults_Return_IncreasingTrend_For_Proportion_And_TrendData_7", *DATA_7, 0.3925),
        ("GetResults_Return_IncreasingTrend_For_Proportion_And_TrendData_5a", *DATA_5A, 978.2845),
        (
            "f716dcc GetResults_Return_IncreasingTrend_For_Proportion_And_TrendData_8 (DSR, 7 points)",
            [10936.06, 11274.7, 11369.44, 11106.21, 11024.38, 11681.04, 11738.96],
            [2252383, 2268354, 2285373, 2300469, 2315677, 2330591, 2349351],
            1.4948,
        ),
    ],
)
def test_chi_square_for_trend_values(conn, name, counts, denominators, expected):
    assert fingertips_close(chi_square(conn, counts, denominators), expected), name


def test_five_points_are_enough_and_four_are_not(conn):
    # 286a466 GetResults_Return_SignificanceValue_For_SufficientTrendData: first 5 of TrendData_1
    counts, denominators = (x[:5] for x in OLD_DATA_1)
    assert marker(conn, "proportion", percentages(counts, denominators), counts, denominators) == NO_CHANGE
    # … _InsufficientTrendData: first 4
    counts, denominators = (x[:4] for x in OLD_DATA_1)
    assert marker(conn, "proportion", percentages(counts, denominators), counts, denominators) == CANNOT


@pytest.mark.parametrize(("transform", "expected"), [("logit", -0.2326), ("log", -0.2003)])
def test_least_squares_slope_of_the_trend_line(conn, transform, expected):
    # 286a466 …DecreasingTrend_For_Proportion_And_TrendData_1 (-0.2326) and _For_CrudeRate_ (-0.2003):
    # slope of ln(x / (1 - x)) or ln(x) on year, x = Value / 100, over the six points
    x = np.array([0.22727, 0.20000, 0.14286, 0.14583, 0.14815, 0.06667])
    ys = np.log(x / (1 - x)) if transform == "logit" else np.log(x)
    slopes = conn.execute("select stats.recent_trend_slopes(?, null)", [list(ys)]).fetchone()[0]
    assert len(slopes) == 7
    assert fingertips_close(slopes[0], expected)


# ---- labels: f716dcc TrendMarkerLabelProviderTest.cs (+ TrendMarkerLabelProvider.cs @ 678089) ----


@pytest.mark.parametrize(
    ("polarity", "marker_", "label"),
    [
        (None, "Increasing", "Increasing"),  # Test_NotApplicable
        (None, "Decreasing", "Decreasing"),
        (None, NO_CHANGE, NO_CHANGE),
        (None, CANNOT, CANNOT),
        ("no_judgement", "Increasing", "Increasing"),  # Test_Blue_Orange_Blue
        ("low_is_good", "Increasing", "Increasing and getting worse"),  # Test_Rag_Low_Is_Good
        ("high_is_good", "Increasing", "Increasing and getting better"),  # Test_Rag_High_Is_Good
        ("low_is_good", "Decreasing", "Decreasing and getting better"),  # the provider's other labels
        ("high_is_good", "Decreasing", "Decreasing and getting worse"),
        ("high_is_good", NO_CHANGE, NO_CHANGE),
        ("low_is_good", CANNOT, CANNOT),
    ],
)
def test_labels_by_polarity(conn, polarity, marker_, label):
    assert conn.execute("select stats.recent_trend_label(?, ?)", [marker_, polarity]).fetchone()[0] == label


# ---- the rules the tests above do not reach ------------------------------------------------------


def test_critical_value_is_the_998_point_of_chi_square_with_1_df(conn):
    from scipy.stats import chi2

    critical = conn.execute("select pow(stats.z_value(0.998), 2)").fetchone()[0]
    assert critical == 9.54953570608324  # Fingertips' ChiSquareConfidence
    assert math.isclose(critical, chi2.ppf(0.998, 1), rel_tol=1e-14)
    rising = [1.0] * 6
    below, above = conn.execute(
        "select stats.recent_trend_significance(9.5495357060832, ?), "
        "stats.recent_trend_significance(9.5495357060833, ?)",
        [rising, rising],
    ).fetchone()
    assert (below, above) == (NO_CHANGE, "Increasing")


def test_an_outlier_that_carries_the_trend_is_no_significant_change(conn):
    # 12%, 11%, 10%, 9%, then 30% of 1,000: chi-squared 93.78, but without the last point the
    # logit slope is -0.107 while with it +0.207, so Fingertips' outlier check fails
    counts, denominators = [120, 110, 100, 90, 300], [1000] * 5
    assert chi_square(conn, counts, denominators) > 90
    slopes = conn.execute(
        "select stats.recent_trend_slopes([ln(r / (1000 - r)) for r in ?::double[]], null)", [counts]
    ).fetchone()[0]
    assert slopes[0] > 0 > slopes[5]
    assert marker(conn, "proportion", percentages(counts, denominators), counts, denominators) == NO_CHANGE


def test_hand_worked_rising_proportion(conn):
    # 600 … 800 of 1,000: N = 5,000, R = 3,500, sum(rt) = 11,000, sum(nt) = 15,000, sum(nt²) = 55,000
    # 5,000 × 2,500,000² / (3,500 × 1,500 × 50,000,000) = 119.0476…
    counts, denominators = [600, 650, 700, 750, 800], [1000] * 5
    assert math.isclose(chi_square(conn, counts, denominators), 3.125e16 / 2.625e14, rel_tol=1e-12)
    assert marker(conn, "proportion", percentages(counts, denominators), counts, denominators) == "Increasing"


def test_only_the_five_most_recent_points_count(conn):
    # a steep old fall followed by five flat years: no significant change now
    counts = [900, 800, 700, 500, 500, 500, 500, 500]
    denominators = [1000] * 8
    assert marker(conn, "proportion", percentages(counts, denominators), counts, denominators) == NO_CHANGE


@pytest.mark.parametrize(
    ("case", "values", "counts", "denominators", "message"),
    [
        ("four points", [50] * 4, [50] * 4, [100] * 4, "Not enough data points to calculate recent trend"),
        (
            "zero denominator in the newest point",
            [50] * 5,
            [50] * 5,
            [100, 100, 100, 100, 0],
            "Not enough data points with valid values to calculate recent trend",
        ),
        (
            "missing value breaks the run",
            [50, 50, None, 50, 50, 50],
            [50] * 6,
            [100] * 6,
            "Not enough data points with valid values to calculate recent trend",
        ),
        (
            "missing count",
            [50] * 5,
            [50, None, 50, 50, 50],
            [100] * 5,
            "Not enough data points with valid values to calculate recent trend",
        ),
        # the divide-by-zero guard covers the whole valid run, beyond the five used
        (
            "count equal to denominator in an older valid point",
            [100, 50, 50, 50, 50, 50],
            [100, 50, 50, 50, 50, 50],
            [100] * 6,
            "The recent trend cannot be calculated",
        ),
        ("directly standardised rate", [50] * 5, [50] * 5, [100] * 5, None),
    ],
)
def test_edge_cases_cannot_be_calculated(conn, case, values, counts, denominators, message):
    value_type = "dsr" if case == "directly standardised rate" else "proportion"
    expected = message or "The recent trend cannot be calculated for this value type"
    assert check(conn, value_type, 1, values, counts, denominators) == expected, case
    assert marker(conn, value_type, values, counts, denominators) == CANNOT, case


def test_an_invalid_point_before_the_five_does_not_matter(conn):
    counts, denominators = [None, 600, 650, 700, 750, 800], [None, *[1000] * 5]
    values = [None, 60, 65, 70, 75, 80]
    assert check(conn, "proportion", 1, values, counts, denominators) is None
    assert marker(conn, "proportion", values, counts, denominators) == "Increasing"


@pytest.mark.parametrize(
    ("counts", "case"), [([0, 10, 20, 30, 40], "zero count"), ([5, 10, 20, 30, 120], "over")]
)
def test_a_point_without_a_logit_cannot_be_calculated(conn, counts, case):
    # Fingertips would take ln(0) = -infinity or ln of a negative (NaN); no trend here instead
    denominators = [100] * 5
    values = [c / d * 100 for c, d in zip(counts, denominators, strict=True)]
    assert check(conn, "proportion", 1, values, counts, denominators) is None, case
    assert marker(conn, "proportion", values, counts, denominators) == CANNOT, case


def test_regression_skips_points_without_limits_and_needs_an_interval(conn):
    values, counts, denominators, lower, upper = set_args(SET1)
    # an extra newest point without limits is skipped: the same five points, the same result
    got = marker(
        conn,
        "crude_rate",
        [*values, 31.0],
        [*counts, 1400],
        [*denominators, 45000],
        [*lower, None],
        [*upper, None],
    )
    assert got == "Increasing"
    # with it, only four points have limits
    assert marker(conn, "crude_rate", values, counts, denominators, [*lower[:4], None], upper) == CANNOT
    # an empty interval has no weight
    assert (
        marker(conn, "crude_rate", values, counts, denominators, [*lower[:4], 30.6], [*upper[:4], 30.6])
        == CANNOT
    )


def test_wrapper_groups_and_reads_missing_values_as_missing():
    frame = pd.DataFrame(
        {
            "area": ["A"] * 5 + ["B"] * 5,
            "year": list(range(2018, 2023)) * 2,
            "count": [600, 650, 700, 750, 800, 700, 702, 698, 701, 699],
            "denominator": [1000] * 10,
        }
    )
    frame["value"] = frame["count"] / frame["denominator"] * 100
    frame.loc[(frame["area"] == "B") & (frame["year"] == 2018), "value"] = np.nan
    result = methods.recent_trend(frame, "year", group_by=["area"], polarity="high_is_good")
    assert list(result["area"]) == ["A", "B"]
    assert list(result["points"]) == [5, 5]
    assert list(result["label"]) == ["Increasing and getting better", CANNOT]
    assert result.loc[1, "check"] == "Not enough data points with valid values to calculate recent trend"
