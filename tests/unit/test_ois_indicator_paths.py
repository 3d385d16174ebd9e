"""The indicator mart's method paths, run by dbt on published worked examples.

`mart_ois_indicator` is built by `dbt run` on a small warehouse whose parent tables hold the
PHEindicatormethods DSR test data (../shared/reference/indicator_cases/dsr) as indicator inputs,
and bad input (too few events, a band with events but no population, a survey count above its
base, a negative count). Values are checked against the published outputs, not our own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration.lib import settings
from tests.conftest import SHARED, requires_real_formats

CASES = SHARED / "reference" / "indicator_cases" / "dsr"
pytestmark = pytest.mark.skipif(not CASES.is_dir(), reason=f"published cases not found at {CASES}")

PARENTS = """
create schema reference; create schema intermediate; create schema marts;
create table reference.ois_indicators as select * from (values
  ('ois_x_dsr', '9.9', 'Test rate', 1, 'hes_apc', 'dsr', 'l', 'emergency_admission', 0, 120, 'persons',
   'registered_population', 100000, 'low_is_good', 'single_overlap', 'per 100000', null, null, 'test',
   'verified', date '2030-01-01'),
  ('ois_x_prop', '', 'Test share', 4, 'gpps_practice_results', 'proportion', null, null, 16, 120, 'persons',
   'survey_responses', 100, 'high_is_good', 'single_overlap', '%', null, 'overall_experience', 'test',
   'verified', date '2030-01-01')
) as t(indicator_id, ois_code, title, domain, source, method, numerator_list, event_filter, age_from, age_to,
       sex_filter, denominator, multiplier, polarity, comparator, unit, fingertips_indicator_id,
       experience_measure, reference, certainty, review_date);
create table reference.sub_icb_locations (sub_icb_location_code varchar, icb_code varchar,
  region_code varchar);
insert into reference.sub_icb_locations values ('S1', 'I1', 'R1'), ('T1', 'I1', 'R1'), ('Z1', 'I1', 'R1');
create table reference.esp2013 (band_scheme varchar, age_band varchar, age_from integer, age_to integer,
  weight integer);
create table marts.dim_practice (practice_code varchar, sub_icb_location_code varchar);
insert into marts.dim_practice values ('P1', 'S1'), ('P2', 'S1');
create table intermediate.int_ois_rate_inputs (indicator_id varchar, financial_year_start date,
  area_level varchar, area_code varchar, age_band varchar, months_covered bigint, person_years double,
  events bigint, standard_population double);
create table intermediate.int_ois_readmissions (indicator_id varchar, spell_key varchar, discharge_date date,
  discharge_month date, financial_year_start date, practice_code varchar, sub_icb_location_code varchar,
  icb_code varchar, region_code varchar, sex varchar, age integer, is_readmitted boolean);
create table intermediate.int_dq_gap_notes (area_level varchar, area_code varchar, month date,
  feed varchar, is_provisional boolean, gaps varchar);
insert into intermediate.int_dq_gap_notes values
  ('sub_icb_location', 'T1', date '2022-07-01', 'hes_apc', true, 'missing submission (hes_apc RX1)');
create table marts.fct_patient_experience (source varchar, measure varchar, org_level varchar,
  org_code varchar, period varchar, period_start date, responses bigint, positive_responses bigint);
insert into marts.fct_patient_experience values
  ('gpps', 'overall_experience', 'practice', 'P1', '2022', date '2022-01-01', 10, 12),
  ('gpps', 'overall_experience', 'practice', 'P2', '2022', date '2022-01-01', 200, 150);
create table marts.fct_public_health_indicator (indicator_id integer, area_level varchar, org_code varchar,
  time_period varchar, time_period_sortable integer, count double, denominator double, value double,
  lower_ci_95 double, upper_ci_95 double, lower_ci_998 double, upper_ci_998 double, value_note varchar,
  is_headline boolean, sex varchar, recent_trend varchar);
"""


def _rate_inputs(area_level: str, area_code: str, area: str) -> pd.DataFrame:
    data = pd.read_csv(CASES / "dsr_inputs_multiarea.csv")
    rows = data[data["area"] == area]
    return pd.DataFrame(
        {
            "indicator_id": "ois_x_dsr",
            "financial_year_start": pd.Timestamp("2022-04-01"),
            "area_level": area_level,
            "area_code": area_code,
            "age_band": rows["ageband"].to_numpy(),
            "months_covered": 12,
            "person_years": rows["pop"].astype(float).to_numpy(),
            "events": rows["count"].to_numpy(),
            "standard_population": rows["esp2013"].astype(float).to_numpy(),
        }
    )


@pytest.fixture(scope="module")
def mart(tmp_path_factory):
    warehouse = tmp_path_factory.mktemp("ois") / "commissioning.duckdb"
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute(PARENTS)
        big = _rate_inputs("england", "E92000001", "testdata_big")
        small = _rate_inputs("sub_icb_location", "S1", "testdata_small")
        tiny = _rate_inputs("sub_icb_location", "T1", "testdata_tiny")
        empty_band = _rate_inputs("sub_icb_location", "Z1", "testdata_big")
        empty_band.loc[0, "person_years"] = 0.0  # 127 events in a band with no registered population
        for frame in (big, small, tiny, empty_band):
            conn.register("frame", frame)
            conn.execute("insert into intermediate.int_ois_rate_inputs by name select * from frame")
            conn.unregister("frame")
    env = {**os.environ, "WAREHOUSE_PATH": str(warehouse)}
    subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "run",
            "--select",
            "mart_ois_indicator",
            "--quiet",
            "--profiles-dir",
            ".",
            "--target-path",
            str(warehouse.parent / "target"),
        ],
        cwd=settings.DBT_PROJECT_DIR,
        env=env,
        check=True,
    )
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return (
            conn.execute("select * from marts.mart_ois_indicator")
            .df()
            .set_index(["indicator_id", "area_code"])
        )


def _published(case_id: str) -> pd.Series:
    expected = pd.read_csv(CASES / "dsr_expected.csv")
    return expected[expected["case_id"] == case_id].iloc[0]


@requires_real_formats
def test_the_dsr_path_reproduces_the_published_worked_example(mart):
    england = mart.loc[("ois_x_dsr", "E92000001")]
    published = _published("dsr_05_testdata_big_x100000")
    assert england["count"] == published["total_count"]
    for ours, theirs in (
        ("value", "value"),
        ("lower_ci_95", "lower95"),
        ("upper_ci_95", "upper95"),
        ("lower_ci_998", "lower998"),
        ("upper_ci_998", "upper998"),
    ):
        assert england[ours] == pytest.approx(published[theirs], rel=1e-9)
    small = mart.loc[("ois_x_dsr", "S1")]
    published_small = _published("dsr_02_testdata_small_x10000")  # x 10 for per 100,000
    assert small["value"] == pytest.approx(10 * published_small["value"], rel=1e-9)
    assert small["upper_ci_95"] == pytest.approx(10 * published_small["upper95"], rel=1e-9)
    assert small["compared_to_england_95"] == "Better"  # far below England, low is good


def test_too_few_events_and_missing_populations_give_a_note_not_a_number(mart):
    tiny, empty = mart.loc[("ois_x_dsr", "T1")], mart.loc[("ois_x_dsr", "Z1")]
    assert pd.isna(tiny["value"]) and "fewer than 10 events" in tiny["value_note"]
    assert pd.isna(empty["value"]) and "127 events without a registered population" in empty["value_note"]
    assert tiny["compared_to_england_95"] == empty["compared_to_england_95"] == "Not compared"


def test_a_count_above_its_base_is_not_a_proportion(mart):
    bad, good = mart.loc[("ois_x_prop", "P1")], mart.loc[("ois_x_prop", "P2")]
    assert pd.isna(bad["value"]) and bad["value_note"].startswith("Value not calculated: numerator exceeds")
    assert good["value"] == pytest.approx(75.0)
    england = mart.loc[("ois_x_prop", "E92000001")]
    assert (
        england["count"] == 162 and england["denominator"] == 210
    )  # England adds the practices as published
    assert not mart[["value", "lower_ci_95", "upper_ci_95"]].isin([float("inf"), float("-inf")]).any().any()


def test_a_value_built_on_a_missing_submission_says_so(mart):
    """int_dq_gap_notes has APC from provider RX1 missing for T1 in July 2022: T1's 2022/23 value
    names it; S1's does not, and the survey indicator (another feed) is untouched."""
    tiny, small = mart.loc[("ois_x_dsr", "T1")], mart.loc[("ois_x_dsr", "S1")]
    assert tiny["value_note"].endswith(
        "Provisional, data gap upstream: missing submission (hes_apc RX1) in 2022-07"
    )
    assert "data gap" not in (small["value_note"] or "")
    assert not mart.loc["ois_x_prop"]["value_note"].fillna("").str.contains("data gap").any()
