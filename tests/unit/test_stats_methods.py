"""Every published case in ../shared/reference/indicator_cases through the SQL macros.

Tolerance: 1e-6 relative (the README's, with exact z values); funnel outputs rounded upstream to
6 dp are compared to 1e-6 absolute; Poisson funnel limits, which upstream finds by bisection,
to 5e-5 relative (the README measures the closed form within 4.7e-5). Only the columns upstream
asserts (`asserted_columns` / `asserted`) are checked; the README's Q6 lists values it does not.
"""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from orchestration.stats import methods
from tests.conftest import SHARED, requires_real_formats

CASES = SHARED / "reference" / "indicator_cases"
pytestmark = pytest.mark.skipif(not CASES.is_dir(), reason=f"indicator cases not found at {CASES}")
_ = requires_real_formats


def read(relative: str) -> pd.DataFrame:
    return pd.read_csv(CASES / relative, keep_default_na=True)


def close(actual, expected, rel=1e-6, abs_=1e-9) -> bool:
    if pd.isna(expected):
        return actual is None or pd.isna(actual)
    if isinstance(expected, str):
        return actual == expected
    return (
        actual is not None
        and not pd.isna(actual)
        and math.isclose(actual, expected, rel_tol=rel, abs_tol=abs_)
    )


def assert_columns(actual: pd.Series, expected: pd.Series, columns, label, rel=1e-6, abs_=1e-9) -> int:
    bad = [
        f"{c}: got {actual[c]!r}, expected {expected[c]!r}"
        for c in columns
        if not close(actual[c], expected[c], rel, abs_)
    ]
    assert not bad, f"{label}: " + "; ".join(bad)
    return len(columns)


def asserted(row) -> list[str]:
    return [c for c in str(row["asserted_columns"]).split(";") if c and c != "nan"]


# ---- Byar's and Wilson primitives ---------------------------------------------------------------


def test_byars_and_wilson_primitives():
    conn = methods._connection()
    cases = read("byars_wilson/byars_wilson_cases.csv")
    for row in cases.to_dict("records"):
        level = 0.95 if row["confidence"] == "95%" else 0.998
        if row["method"] == "Byars":
            got = conn.execute(
                "select stats.byars_lower(?, ?), stats.byars_upper(?, ?)", [row["x"], level, row["x"], level]
            ).fetchone()
        else:
            got = conn.execute(
                "select stats.wilson_lower(?, ?, ?), stats.wilson_upper(?, ?, ?)",
                [row["x"], row["n"], level] * 2,
            ).fetchone()
        assert close(got[0], row["lowercl"]) and close(got[1], row["uppercl"]), (row, got)
    assert len(cases) == 13


# ---- crude rates and proportions -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "folder"),
    [(methods.crude_rate, "rates/rate_cases.csv"), (methods.proportion, "proportions/proportion_cases.csv")],
)
def test_rates_and_proportions_row_by_row(method, folder):
    cases = read(folder)
    checks = 0
    for multiplier, group in cases.groupby("multiplier"):
        result = method(group, "Numerator", "Denominator", multiplier=multiplier)
        for (_, got), (_, want) in zip(result.iterrows(), group.iterrows(), strict=True):
            checks += assert_columns(got, want, asserted(want), want["case_id"])
    assert checks >= 3 * len(cases)  # every case row checks at least its value and both 95% limits


@pytest.mark.parametrize(
    ("method", "cases", "grouped"),
    [
        (methods.crude_rate, "rates/rate_cases.csv", "rates/rate_grouped_expected.csv"),
        (
            methods.proportion,
            "proportions/proportion_cases.csv",
            "proportions/proportion_grouped_expected.csv",
        ),
    ],
)
def test_grouped_sums_propagate_missing_values(method, cases, grouped):
    expected = read(grouped).set_index("Area")
    multiplier = expected["multiplier"].iloc[0]
    result = method(
        read(cases), "Numerator", "Denominator", multiplier=multiplier, group_by=["Area"]
    ).set_index("Area")
    result = result.rename(
        columns={
            "lower95": "lowercl",
            "upper95": "uppercl",
            "numerator": "Numerator",
            "denominator": "Denominator",
        }
    )
    for area, want in expected.iterrows():
        assert_columns(
            result.loc[area],
            want,
            ["Numerator", "Denominator", "value", "lowercl", "uppercl", "method"],
            area,
        )


def test_apho_rates_use_exact_limits_below_389():
    cases = read("apho_tool/initial_testdata_rates_exact_below_389.csv")
    for multiplier, group in cases.groupby("multiplier"):
        result = methods.crude_rate(group, "numerator", "denominator", multiplier=multiplier, exact_below=389)
        for (_, got), (_, want) in zip(result.iterrows(), group.iterrows(), strict=True):
            assert_columns(
                got, want, ["value", "lower95", "upper95", "lower998", "upper998"], str(want.to_dict())
            )


# ---- means ----------------------------------------------------------------------------------------


def test_means_with_students_t():
    inputs = read("means/mean_inputs.csv")
    expected = read("means/mean_expected.csv").set_index("area")
    columns = ["value_sum", "value_count", "stdev", "value", "lower95", "upper95", "lower998", "upper998"]
    by_area = methods.mean(inputs, "values", group_by=["area"]).set_index("area")
    for area in ("Area1", "Area2"):
        assert_columns(by_area.loc[area], expected.loc[area], columns, area)
    overall = methods.mean(inputs, "values").iloc[0]
    assert_columns(overall, expected.loc["No grouping"], columns, "No grouping")


# ---- directly standardised rates -----------------------------------------------------------------


def _dsr_case(row) -> pd.Series:
    inputs = read(row["input_file"])
    # the ESP1976 file holds one unnamed area
    inputs = inputs[inputs["area"] == row["area"]] if "area" in inputs else inputs.assign(area=row["area"])
    standard = "esp1976" if "esp1976" in inputs else "esp2013"
    if row["independent_events"]:
        result = methods.dsr(inputs, "count", "pop", standard, ["area"], multiplier=row["multiplier"])
    else:
        result = methods.dsr(
            inputs,
            "persons",
            "pop",
            standard,
            ["area"],
            multiplier=row["multiplier"],
            age_band="ageband",
            event_frequency="eventfreq",
        )
    return result.iloc[0]


def test_directly_standardised_rates_with_dobson_limits():
    expected = read("dsr/dsr_expected.csv")
    checked = 0
    for row in expected.to_dict("records"):
        got, want = _dsr_case(row), pd.Series(row)
        # the non-independent rows are rounded to 8 dp in the sheet
        rel = 1e-6 if row["independent_events"] else 1e-9
        abs_ = 1e-9 if row["independent_events"] else 5e-9
        checked += assert_columns(got, want, asserted(want), row["case_id"], rel=rel, abs_=abs_)
        if isinstance(want["statistic"], str) and "NA" in want["statistic"]:
            assert got["statistic"] == want["statistic"] and pd.isna(got["value"])
    assert checked >= 50


def test_dsr_refuses_a_zero_or_missing_population():
    inputs = read("dsr/dsr_inputs_multiarea.csv")
    inputs = inputs[inputs["area"] == "testdata_big"].copy()
    inputs.loc[inputs.index[3], "pop"] = 0
    with pytest.raises(ValueError, match="positive population"):
        methods.dsr(inputs, "count", "pop", "esp2013", ["area"])


# ---- indirectly standardised ratios and rates -----------------------------------------------------


@pytest.mark.parametrize("route", ["reference_table", "own_columns", "observed_totals"])
def test_indirect_standardisation_all_three_routes(route):
    expected = read("isr/isr_expected.csv")
    expected = expected[expected["input_file"] == "isr/isr_inputs_multiarea.csv"]
    inputs = read("isr/isr_inputs_multiarea.csv")
    reference = read("isr/isr_refdata.csv")
    for row in expected.to_dict("records"):
        kwargs = {"kind": row["kind"], "scale": row["multiplier_or_refvalue"]}
        if route == "reference_table":
            kwargs["reference"] = reference
            data = inputs.drop(columns=["refcount", "refpop"])
        else:
            data = inputs
        if route == "observed_totals":
            kwargs["observed"] = read("isr/isr_observed_totals.csv").rename(
                columns={"total_count": "observed"}
            )
        got = methods.isr(data, "count", "pop", ["area"], **kwargs).set_index("area").loc[row["area"]]
        assert_columns(got, pd.Series(row), asserted(row), f"{route} {row['case_id']}")


def test_isr_allows_a_zero_population_band():
    expected = read("isr/isr_expected.csv")
    expected = expected[expected["input_file"] == "isr/isr_inputs_zero_pop.csv"]
    inputs, reference = read("isr/isr_inputs_zero_pop.csv"), read("isr/isr_refdata.csv")
    for row in expected.to_dict("records"):
        got = (
            methods.isr(
                inputs,
                "count",
                "pop",
                ["area"],
                reference=reference,
                kind=row["kind"],
                scale=row["multiplier_or_refvalue"],
            )
            .set_index("area")
            .loc[row["area"]]
        )
        assert_columns(got, pd.Series(row), asserted(row), row["case_id"])


def test_phstatsmethods_isr_with_supplied_observed_totals():
    keys = ["indicatorid", "year", "sex"]
    result = methods.isr(
        read("extras/phstatsmethods_isr_obs_inputs.csv"),
        "obs",
        "pop",
        keys,
        observed=read("extras/phstatsmethods_isr_obs_observed.csv"),
    ).set_index(keys)
    expected = read("extras/phstatsmethods_isr_obs_expected.csv").set_index(keys)
    assert len(expected) == 40
    for key, want in expected.iterrows():
        got = result.loc[key].rename(
            {"lower95": "lower_95_ci", "upper95": "upper_95_ci", "value": "Value", "method": "Method"}
        )
        assert_columns(
            got, want, ["observed", "expected", "Value", "lower_95_ci", "upper_95_ci", "Method"], str(key)
        )


# ---- the APHO tool's worked examples --------------------------------------------------------------


def test_apho_worked_examples():
    examples = json.loads((CASES / "apho_tool" / "apho_tool_worked_examples.json").read_text())
    p = examples["proportion"]
    got = methods.proportion(pd.DataFrame([p]), "numerator", "denominator").iloc[0]
    assert (
        close(got["value"], p["value"])
        and close(got["lower95"], p["lower"])
        and close(got["upper95"], p["upper"])
    )

    d = examples["direct_standardisation"]
    bands = pd.DataFrame({k: d[k] for k in ("ageband", "count", "pop", "stdpop")}).assign(area="x")
    got = methods.dsr(bands, "count", "pop", "stdpop", ["area"], multiplier=d["multiplier"]).iloc[0]
    assert close(got["value"], d["value"], rel=1e-5) and close(got["lower95"], d["lower"], rel=1e-5)
    assert close(got["upper95"], d["upper"], rel=1e-5)


# ---- funnel plots -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outputs", "max_denominator"),
    [
        ("funnels/testdata_funnel_prop_outputs.csv", None),
        ("funnels/testdata_funnel_prop_outputs_with_axis_variation.csv", 31_000),
    ],
)
def test_proportion_funnel_limits(outputs, max_denominator):
    inputs = read("funnels/testdata_funnel_prop_inputs.csv")
    if max_denominator:
        inputs = inputs[inputs["denominator"] < max_denominator]
    average = inputs["numerator"].sum() / inputs["denominator"].sum()
    expected = read(outputs)
    got = methods.funnel_proportion_limits(expected["Population"], average)
    columns = ["lower_2s_limit", "upper_2s_limit", "lower_3s_limit", "upper_3s_limit", "baseline"]
    for (_, g), (_, w) in zip(got.iterrows(), expected.iterrows(), strict=True):
        assert_columns(g, w, columns, f"population {w['Population']}", rel=0, abs_=1e-6)


def test_proportion_funnel_significance():
    inputs = read("funnels/testdata_funnel_prop_inputs.csv")
    labels = methods.funnel_proportion_significance(inputs, "numerator", "denominator")
    assert labels.tolist() == inputs["significance"].tolist()
    assert len(inputs) == 303


def test_ratio_funnel_limits():
    expected = read("funnels/testdata_funnel_ratio_outputs.csv")
    got = methods.funnel_ratio_limits(expected["Observed_events"].astype(int))
    columns = [c for c in expected.columns if c != "Observed_events"]
    for (_, g), (_, w) in zip(got.iterrows(), expected.iterrows(), strict=True):
        assert_columns(g, w, columns, f"observed {w['Observed_events']}", rel=5e-5, abs_=1e-8)


def test_ratio_funnel_significance():
    inputs = read("funnels/testdata_funnel_ratio_inputs.csv")
    labels = methods.funnel_ratio_significance(inputs, "obs", "expected")
    assert labels.tolist() == inputs["significance"].tolist()
    assert len(inputs) == 300


def _rate_funnel_inputs(variant: int) -> tuple[pd.DataFrame, str, str | None]:
    data = read("funnels/testdata_funnel_rate_input_funnels.csv")[["ev", "rate", "pop"]].copy()
    top = data["ev"].idxmax()
    if variant == 1:
        return data, "dsr", None
    if variant == 2:
        data.loc[top, "ev"] = 5
        return data, "crude", None
    data["pop"] = 1e5 * data["ev"] / data["rate"]
    data.loc[top, ["ev", "rate"]] = 0
    data = data[data["pop"] > data["pop"].max() / 2]
    return data, "crude", "pop"


@pytest.mark.parametrize("variant", [1, 2, 3])
def test_rate_funnel_limits(variant):
    expected = read(f"funnels/testdata_funnel_rate_outputs{'' if variant == 1 else f'_{variant}'}.csv")
    data, rate_type, denominator = _rate_funnel_inputs(variant)
    derived = methods.derived_denominator(
        data["ev"], data["rate"], 100_000, data[denominator] if denominator else None
    )
    if rate_type == "dsr":
        derived = derived.where(data["ev"] != 0)
    average = data.loc[derived.notna(), "ev"].sum() / derived.sum()
    assert close(average * 100_000, expected["baseline"].iloc[0], rel=1e-9)
    got = methods.funnel_rate_limits(expected["Events"].astype(int), average, 100_000, years=3)
    columns = [c for c in expected.columns if c.endswith(("_limit", "_year"))]
    for (_, g), (_, w) in zip(got.iterrows(), expected.iterrows(), strict=True):
        assert_columns(g, w, columns, f"variant {variant} events {w['Events']}", rel=5e-5, abs_=1e-8)


@pytest.mark.parametrize(
    "column",
    [
        "dsr_per_100000_with_0",
        "dsr_per_100000_without_0",
        "dsr_per_100_with_0",
        "dsr_per_100_without_0",
        "crude_per_100000_with_0",
        "crude_per_100000_without_0",
        "crude_per_100_with_0",
        "crude_per_100_without_0",
    ],
)
def test_rate_funnel_significance(column):
    data = read("funnels/testdata_funnel_rate_dsr_inputs.csv")
    rate_type, _, multiplier, zero, _ = column.split("_")
    rate_column = "rate_dsr" if rate_type == "dsr" else f"rate_crude_per_{multiplier}"
    if zero == "without":
        data = data[data["count"] != 0]
    labels = methods.funnel_rate_significance(
        data, "count", rate_column, float(multiplier), rate_type, denominator="pop"
    )
    assert labels.tolist() == data[column].tolist()
