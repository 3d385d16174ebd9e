"""`make run`'s entry point on a temporary warehouse: builds, is idempotent, blocks bad data.

Runs `python -m orchestration.run_all` in a subprocess (as `make run` does) with its own
WAREHOUSE_PATH, LANDING_DIR and DAGSTER_HOME, on three months of the shipped sample that
cross the July 2022 switch from CCGs to sub-ICB locations (the `e2e_workspace` of conftest.py).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.release.store import ReleaseStore
from tests.helpers import REPO_ROOT, SAMPLE, run_all

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e_workspace")]  # one worker: conftest.py
MONTHS = ("2022-05", "2022-06", "2022-07")


@pytest.fixture(scope="module")
def workspace(e2e_workspace):
    return e2e_workspace


def _snapshot(root):
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as conn:
        return {
            "fct": conn.execute(
                "select count(*), sum(number_of_patients) from marts.fct_registered_population"
            ).fetchone(),
            "months": conn.execute(
                "select list(distinct month order by month) from marts.fct_registered_population"
            ).fetchone()[0],
            "july": conn.execute(
                "select sum(number_of_patients) from marts.fct_registered_population "
                "where month = '2022-07-01'"
            ).fetchone()[0],
            "area": conn.execute("select count(*) from marts.fct_registered_population_area").fetchone()[0],
            "dims": conn.execute(
                "select (select count(*) from marts.dim_practice), "
                "(select count(*) from marts.dim_sub_icb), (select count(*) from marts.dim_icb)"
            ).fetchone(),
            "activity": conn.execute(
                "select (select count(*) from marts.fct_apc_spell), "
                "(select round(sum(cost), 2) from marts.fct_apc_spell), "
                "(select count(*) from marts.fct_outpatient_attendance), "
                "(select count(*) from marts.fct_ae_attendance), "
                "(select sum(activity) from marts.mart_commissioning_summary)"
            ).fetchone(),
            "load_log": conn.execute(
                "select count(*), max(loaded_at) filter (where feed = 'ods_epraccur') from meta.load_log"
            ).fetchone(),
        }


@pytest.fixture(scope="module")
def first_run(workspace, e2e_first_run):
    root, _, _ = workspace
    return e2e_first_run.result, _snapshot(root)


def test_the_main_job_builds_every_mart_for_the_landed_months(first_run):
    result, snap = first_run
    assert "Run succeeded" in result.stdout
    assert snap["months"] == [date(2022, 5, 1), date(2022, 6, 1), date(2022, 7, 1)]
    practices = 182
    assert snap["fct"][0] == practices * 40 * 3  # every practice, 2 sexes × 20 bands, 3 months
    assert snap["dims"][1] == 106 + 142  # every current sub-ICB code and every merged CCG code
    assert snap["dims"][2] == 42
    assert "marts.fct_registered_population" in result.stdout  # rows per mart are reported
    # quiet: one line per step, not Dagster's and dbt's event stream (that is in the log file)
    lines = result.stdout.splitlines()
    assert len(lines) < 200, len(lines)
    assert not [line for line in lines if " - DEBUG - " in line or "START test" in line]
    dbt_line = r"^\[ *\d+\] ok +dbt_models +\d+\.\d s +\d+ assets +checks \d+ passed"
    assert re.search(dbt_line, result.stdout, re.M)
    (log,) = re.findall(r"^Full log: +(\S+)$", result.stdout, re.M)
    assert "STEP_SUCCESS" in Path(log).read_text()  # the full event log is kept
    (report,) = re.findall(r"^Gap report: (\S+) \((\d+) pages\)$", result.stdout, re.M)
    assert Path(report[0]).is_file() and int(report[1]) >= 13


def test_population_is_attributed_across_the_ccg_to_sub_icb_switch(workspace, first_run):
    root, _, _ = workspace
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as conn:
        unattributed = conn.execute(
            "select count(*) from marts.fct_registered_population where sub_icb_location_code is null"
        ).fetchone()[0]
        england, sub_icbs = conn.execute(
            """select sum(number_of_patients) filter (where area_type = 'england'),
                      sum(number_of_patients) filter (where area_type = 'sub_icb_location')
               from marts.fct_registered_population_area where month = '2022-06-01'"""
        ).fetchone()
    assert unattributed == 0
    assert england == sub_icbs


def test_fingertips_areas_are_counted_once_and_keyed_to_our_geography(workspace, first_run):
    root, _, _ = workspace
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as conn:
        england = conn.execute(
            """select count(*), count(distinct indicator_id || time_period)
               from marts.fct_public_health_indicator where area_code = 'E92000001'"""
        ).fetchone()
        unmapped = conn.execute(
            """select count(*) from marts.fct_public_health_indicator
               where area_level in ('sub_icb_location', 'gp_practice') and org_code is null"""
        ).fetchone()[0]
        suppressed = conn.execute(
            """select count(*) from marts.fct_public_health_indicator
               where is_missing_value and value_note like 'Value suppressed%'"""
        ).fetchone()[0]
        polarity = conn.execute(
            "select count(*) from marts.dim_indicator where polarity_code is null"
        ).fetchone()[0]
    from orchestration.synth.public_health import INDICATORS

    assert england[0] == england[1] == len(INDICATORS) * 3  # one England row per indicator and period
    assert unmapped == 0
    assert suppressed == 3  # the planted small practice, one row per period
    assert polarity == 0


def test_the_needs_profile_agrees_with_the_facts_it_summarises(workspace, first_run):
    root, _, _ = workspace
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as conn:
        locations, measures = conn.execute(
            "select count(distinct sub_icb_location_code), count(distinct measure) "
            "from marts.mart_needs_profile"
        ).fetchone()
        mismatched = conn.execute(
            """select count(*) from marts.mart_needs_profile as p
               join (select area_code, sum(number_of_patients) as n from marts.fct_registered_population_area
                     where area_type = 'sub_icb_location' and month = '2022-07-01' group by 1) as f
                 on p.sub_icb_location_code = f.area_code
               where p.measure = 'registered_patients' and p.value != f.n"""
        ).fetchone()[0]
        resident_sum, england = conn.execute(
            """select sum(value), any_value(england_value) from marts.mart_needs_profile
               where measure = 'resident_population'"""
        ).fetchone()
        unplaced = conn.execute(
            "select sum(resident_population) from marts.dim_lsoa where sub_icb_location_code is null"
        ).fetchone()[0]
    from orchestration.synth.public_health import INDICATORS

    assert (locations, measures) == (13, 9 + len(INDICATORS))  # 9 population/deprivation measures
    assert mismatched == 0
    assert resident_sum == england  # ONS estimates: England is the sum of the sampled areas
    assert unplaced > 0  # the planted LSOA missing from the lookup has no sub-ICB location


def test_a_second_run_is_idempotent(workspace, first_run):
    root, _, env = workspace
    _, before = first_run
    result = run_all(env)
    assert result.returncode == 0, result.stdout[-4000:]
    after = _snapshot(root)
    assert after == before  # same rows, and unchanged ODS releases are not reloaded


def test_a_bad_redelivery_is_blocked_and_the_last_good_marts_stay(workspace, first_run):
    root, landing, env = workspace
    _, good = first_run
    target = landing / "gp_registered_patients" / "2022-07" / "gp-reg-pat-prac-quin-age.zip"
    shutil.copy(landing / "gp_registered_patients" / "2022-06" / "gp-reg-pat-prac-quin-age.zip", target)
    release = ReleaseStore(root / "published").current_id()
    result = run_all(env)
    assert result.returncode == 1
    assert ReleaseStore(root / "published").current_id() == release  # a blocked run publishes nothing
    assert f"Published release {release}" in result.stdout  # and says which release readers still see
    assert "raw/gp_registered_patients:structure (error)" in result.stdout
    assert "extract_month_matches_period" in result.stdout
    after = _snapshot(root)
    assert after["july"] == good["july"]
    assert after["fct"] == good["fct"]


def test_hospital_activity_is_spelled_costed_attributed_and_reconciles(workspace, first_run):
    root, _, _ = workspace
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as conn:
        months = conn.execute(
            "select list(distinct discharge_month order by discharge_month) from marts.fct_apc_spell"
        ).fetchone()[0]
        # Every spell is priced or says why not; no priced spell costs zero.
        silent = conn.execute(
            "select count(*) from marts.fct_apc_spell where (cost is null) != (unpriced_reason is not null) "
            "or cost <= 0"
        ).fetchone()[0]
        unattributed = conn.execute(
            "select count(*) from marts.fct_apc_spell where sub_icb_location_code is null"
        ).fetchone()[0]
        # The planted trust missing from July's extract has no July spells but has June's.
        gap = next(
            g
            for g in __import__("json").loads((SAMPLE / "_manifest.json").read_text())["gaps"]
            if g["kind"] == "missing_provider_month" and g["feed"] == "hes_apc"
        )
        by_month = dict(
            conn.execute(
                "select strftime(discharge_month, '%Y-%m'), count(*) from marts.fct_apc_spell "
                "where provider_code = ? group by 1",
                [gap["org_code"]],
            ).fetchall()
        )
        # The summary mart reconciles with the facts, month by month, at both area levels.
        facts = dict(
            conn.execute(
                """select month, sum(n) from (
                     select discharge_month as month, count(*) as n from marts.fct_apc_spell group by 1
                     union all
                     select appointment_month, count(*) from marts.fct_outpatient_attendance group by 1
                     union all select arrival_month, count(*) from marts.fct_ae_attendance group by 1
                     union all select month, sum(items) from marts.fct_prescribing group by 1)
                   group by 1"""
            ).fetchall()
        )
        summary = conn.execute(
            "select month, area_level, sum(activity) from marts.mart_commissioning_summary group by all"
        ).fetchall()
        weights = conn.execute(
            "select min(weight), max(weight), sum(weight * person_months) / sum(person_months) "
            "from marts.dim_age_sex_cost_weight"
        ).fetchone()
    assert gap["period"] in MONTHS
    assert months == [date(2022, 5, 1), date(2022, 6, 1), date(2022, 7, 1)]
    assert silent == 0
    assert unattributed == 0
    assert by_month.get(gap["period"], 0) == 0 and all(
        by_month.get(m, 0) > 0 for m in MONTHS if m != gap["period"]
    )
    assert all(total == facts[month] for month, _, total in summary)
    assert weights[0] < 1 < weights[1] and abs(weights[2] - 1) < 1e-9  # mean weight over the population is 1


def test_outcome_indicators_come_from_the_definitions_with_sound_intervals(workspace, first_run):
    root, _, _ = workspace
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as conn:
        defined = conn.execute("select count(*) from reference.ois_indicators").fetchone()[0]
        built = conn.execute("select count(distinct indicator_id) from marts.mart_ois_indicator").fetchone()[
            0
        ]
        england = dict(
            conn.execute(
                "select indicator_id, value from marts.mart_ois_indicator "
                "where area_level = 'england' and period = '2022/23' and method in ('dsr', 'isr')"
            ).fetchall()
        )
        unsound = conn.execute(
            "select count(*) from marts.mart_ois_indicator "
            "where value is not null and method != 'fingertips' "
            "and not (lower_ci_998 <= lower_ci_95 and lower_ci_95 <= value and value <= upper_ci_95 "
            "and upper_ci_95 <= upper_ci_998)"
        ).fetchone()[0]
        small = conn.execute(
            "select count(*) from marts.mart_ois_indicator where method = 'dsr' and count < 10 "
            "and (value is not null or value_note not like '%fewer than 10 events%')"
        ).fetchone()[0]
        labels = {
            label
            for (label,) in conn.execute(
                "select distinct compared_to_england_95 from marts.mart_ois_indicator"
            ).fetchall()
        }
        funnel = conn.execute("select count(*) from marts.mart_ois_funnel").fetchone()[0]
    assert built == defined == 18
    assert england["ois_2_06"] > 0 and england["ois_3_02"] > 0
    assert unsound == 0
    assert small == 0
    assert labels <= {"Better", "Similar", "Worse", "Lower", "Higher", "Not compared"}
    assert funnel > 0


def test_peers_and_opportunities_link_outcomes_to_spend(workspace, first_run):
    root, _, _ = workspace
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as conn:
        peers = conn.execute(
            "select count(*), count(distinct sub_icb_location_code), min(peer_rank), max(peer_rank), "
            "count(*) filter (where peer_sub_icb_location_code = sub_icb_location_code) "
            "from marts.mart_sub_icb_peers where is_latest_month"
        ).fetchone()
        opportunity = conn.execute(
            "select count(*) filter (where events_avoidable < 0 or spend_avoidable < 0), "
            "count(*) filter (where spend_avoidable > 0), "
            "count(*) filter (where value < best_five_peer_mean and events_avoidable > 0) "
            "from marts.mart_ois_peer_opportunity"
        ).fetchone()
    assert peers == (13 * 10, 13, 1, 10, 0)  # the sample's 13 locations, 10 peers each, never itself
    assert opportunity[0] == 0 and opportunity[1] > 0 and opportunity[2] == 0


def test_unit_tests_hold_inside_any_monthly_window(workspace, first_run):
    """Every dbt unit test passes (a run of the pipeline does not run them: they test the SQL,
    not the data), and within a month window: a fixture outside it must still count."""
    root, _, env = workspace
    window = {"CW_PERIOD_START": "2030-01-01", "CW_PERIOD_END": "2030-02-01"}
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "test",
            "--select",
            "test_type:unit",
            "--profiles-dir",
            ".",
            "--target-path",
            str(root / "dbt_target"),
        ],
        cwd=REPO_ROOT / "dbt_project",
        env={**env, **window},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "ERROR=0" in result.stdout
    manifest = __import__("json").loads((REPO_ROOT / "dbt_project" / "target" / "manifest.json").read_text())
    assert f"PASS={len(manifest['unit_tests'])} " in result.stdout  # every one of them ran


def test_planted_missing_submissions_are_rows_in_the_coverage_grid(workspace, first_run):
    root, _, _ = workspace
    planted = {
        (g["feed"], g["org_code"], g["period"])
        for g in __import__("json").loads((SAMPLE / "_manifest.json").read_text())["gaps"]
        if g["kind"] in ("missing_provider_month", "missing_practice_month")
        and g["feed"] in ("hes_apc", "hes_opa", "ecds", "epd")
        and g["period"] == MONTHS[-1]  # the window's last month has two months of history
    }
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as conn:
        missing = set(
            conn.execute(
                "select feed, org_code, strftime(month, '%Y-%m') from marts.dq_submission_coverage "
                "where status = 'missing'"
            ).fetchall()
        )
    assert len(planted) == 3  # APC and ECDS trusts, an EPD practice
    assert planted <= missing
