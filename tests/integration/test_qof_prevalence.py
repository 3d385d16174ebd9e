"""fct_qof_prevalence built by dbt over the shipped sample: the QOF files and the reference feeds
the mart joins (ODS, the practice map, list sizes) go through the loader into a fresh warehouse,
then `dbt build` of the mart's lineage (models, seeds, their tests and the mart's unit test).
Every planted QOF gap is a flagged row with no prevalence; every other row is register / list."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.defs.primary_care.qof import QOF_ACHIEVEMENT, QOF_PREVALENCE
from orchestration.defs.reference.feeds import ECCG, EPRACCUR, GP_PRACTICE_MAP, GP_REGISTERED_PATIENTS
from orchestration.lib import landing
from orchestration.lib.loader import load_period
from tests.helpers import REPO_ROOT, SAMPLE

DBT = Path(sys.executable).parent / "dbt"
QOF_GAPS = [
    g
    for g in json.loads((SAMPLE / "_manifest.json").read_text())["gaps"]
    if g["feed"] in (QOF_PREVALENCE.name, QOF_ACHIEVEMENT.name)
]
# The list-size months the mart attributes practices by: April 2020 to April 2022 (the sample's
# list sizes start in January 2021).
MONTHS = [date(y, m, 1) for y, m in [(2021, m) for m in range(1, 13)] + [(2022, m) for m in range(1, 5)]]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("qof")
    path = root / "warehouse.duckdb"
    with duckdb.connect(str(path)) as conn:
        for spec in (EPRACCUR, ECCG, QOF_PREVALENCE, QOF_ACHIEVEMENT):
            for period in landing.available_periods(spec, SAMPLE):
                load_period(conn, spec, period, landing.files_for_period(spec, period, SAMPLE).files)
        for spec in (GP_PRACTICE_MAP, GP_REGISTERED_PATIENTS):
            for month in MONTHS:
                load_period(conn, spec, month, landing.files_for_period(spec, month, SAMPLE).files)
    env = {
        **os.environ,
        "WAREHOUSE_PATH": str(path),
        "DBT_TARGET_PATH": str(root / "target"),
        "DBT_LOG_PATH": str(root / "logs"),
        "DO_NOT_TRACK": "1",
    }
    done = subprocess.run(
        [
            str(DBT),
            "build",
            "--profiles-dir",
            ".",
            "--indirect-selection",
            "cautious",
            "--select",
            "+fct_qof_prevalence",
            "stg_nhsd__qof_achievement",
            "qof_registers_agree_between_files",
        ],
        cwd=REPO_ROOT / "dbt_project",
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-6000:]
    assert "qof_prevalence_is_register_over_list" in done.stdout  # the mart's unit test ran
    return path


def _gap(kind: str) -> dict:
    (gap,) = [g for g in QOF_GAPS if g["kind"] == kind]
    return gap


def _year(period: str) -> date:
    return date.fromisoformat(period + "-01")


@pytest.fixture(scope="module")
def conn(warehouse):
    connection = duckdb.connect(str(warehouse), read_only=True)
    yield connection
    connection.close()


def test_one_row_per_published_row_and_clean_rows_are_register_over_list(conn):
    published = conn.execute("select count(*) from raw.qof_prevalence").fetchone()[0]
    rows, clean, wrong = conn.execute(
        "select count(*), count(*) filter (where value_note is null), "
        "count(*) filter (where value_note is null and "
        "abs(recorded_prevalence_pct - 100.0 * register / list_size) > 1e-9) from marts.fct_qof_prevalence"
    ).fetchone()
    assert rows == published and wrong == 0
    assert rows - clean == 1 + 1 + 21  # above its list, suppressed, the closed practice (21 groups)


def test_each_planted_gap_is_a_flagged_row_with_no_prevalence(conn):
    def row(kind: str, group: str) -> tuple:
        gap = _gap(kind)
        return conn.execute(
            "select register, list_size, recorded_prevalence_pct, is_register_suppressed, "
            "is_register_above_list_size, is_without_list_size, value_note from marts.fct_qof_prevalence "
            "where practice_code = ? and group_code = ? and financial_year_start = ?",
            [gap["org_code"], group, _year(gap["period"])],
        ).fetchone()

    register, size, pct, suppressed, above, without, note = row("qof_register_exceeds_list", "AST")
    assert register > size > 0 and pct is None and above and not suppressed and not without
    assert note == "register larger than the list it is measured against: prevalence withheld"
    register, size, pct, suppressed, above, without, note = row("qof_suppressed_register", "DEM")
    assert register is None and size > 0 and pct is None and suppressed
    assert note == "suppressed by the publisher (`*`): no prevalence"
    register, size, pct, suppressed, above, without, note = row("qof_practice_closed_mid_year", "HYP")
    assert register > 0 and size == 0 and pct is None and without
    assert note.startswith("no list at 1 April after the year")


def test_practices_are_attributed_to_todays_geography_except_the_one_that_closed(conn):
    closed = _gap("qof_practice_closed_mid_year")["org_code"]
    unattributed = conn.execute(
        "select distinct practice_code, is_known_practice, attribution_gap from marts.fct_qof_prevalence "
        "where sub_icb_location_code is null"
    ).fetchall()
    assert unattributed == [(closed, False, "no known practice or commissioner on the record")]
    areas = conn.execute(
        "select count(distinct sub_icb_location_code) from marts.fct_qof_prevalence"
    ).fetchone()
    assert areas == (13,)


def test_programme_groups_carry_their_programme_and_list_type(conn):
    groups = dict(
        conn.execute(
            "select group_code, any_value(ltc_programme || ' ' || patient_list_type) "
            "from marts.fct_qof_prevalence where group_code in ('DM', 'DEM', 'STIA', 'COPD', 'AST', 'HF') "
            "group by 1"
        ).fetchall()
    )
    assert groups == {
        "DM": "diabetes 17OV",
        "DEM": "dementia TOTAL",
        "STIA": "stroke TOTAL",
        "COPD": "respiratory TOTAL",
        "AST": "respiratory 06OV",
        "HF": "cvd TOTAL",
    }
