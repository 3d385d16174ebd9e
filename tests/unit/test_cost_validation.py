"""The cost suites pass on generated releases and name each planted fault with its severity and
count: malformed or duplicate HRG codes, negative prices, fractional trim points, an RSSE price
missing where it applies, negative NCC activity, unknown departments, heavy suppression."""

from __future__ import annotations

import csv
import io
from datetime import date

import duckdb
import numpy as np
import pytest

from orchestration.defs.cost.feeds import COST_FEEDS, NCC_ORG_UNIT_COSTS, TARIFF_APC_PRICES
from orchestration.lib import landing, validation
from orchestration.lib.loader import load_period
from orchestration.synth import cost
from orchestration.synth.geography import build_geography, load_sub_icbs

RELEASE = date(2022, 4, 1)


def _csv(header, rows, path):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode("utf-8-sig"))
    return path


def _suite(name: str) -> validation.SuiteFile:
    (suite,) = [s for s in validation.suite_files() if s.name == name]
    return suite


def _failures(conn, name: str) -> dict[str, tuple[str, int | None]]:
    outcome = validation.run_suite(conn, _suite(name))
    return {f.column or f.expectation: (f.severity, f.unexpected_count) for f in outcome.failed}


def test_every_suite_passes_on_generated_releases(tmp_path):
    geo = build_geography(load_sub_icbs(("02T", "15F")), np.array([4, 4]), np.random.default_rng(1))
    cost.write_cost(geo, 3, tmp_path, [date(2022, 6, 1), date(2023, 6, 1)], lambda *args, **kwargs: None)
    conn = duckdb.connect()
    for spec in COST_FEEDS:
        for release in landing.available_periods(spec, tmp_path):
            load_period(conn, spec, release, landing.files_for_period(spec, release, tmp_path).files)
    suites = [s for s in validation.suite_files() if s.feed in {spec.name for spec in COST_FEEDS}]
    assert len(suites) == 4
    for suite in suites:
        outcome = validation.run_suite(conn, suite)
        assert outcome.passed, (suite.name, [f.describe() for f in outcome.failed])
        assert outcome.rows_validated > 0


def test_tariff_faults_are_named_with_their_severity(conn, tmp_path):
    header = TARIFF_APC_PRICES.variant("ntps_2017_19").columns
    blank = [""] * 6
    rows = [
        # a fractional trim point and a negative day-case price
        ["HN12C", "Hip", "-", "-", "-6,320", "6,320", "6.5", "7,883", "16", "244", "No", "-", "-", *blank],
        # RSSE applies but no RSSE price; its share published as a bare 28 (not 28% or 0.28)
        ["AA25D", "Brain", "-", "-", "982", "2,362", "11", "2,962", "23", "254", "Yes", "28", "-", *blank],
        [
            "AA25D",
            "Brain again",
            "-",
            "-",
            "982",
            "2,362",
            "11",
            "2,962",
            "23",
            "254",
            "No",
            "-",
            "-",
            *blank,
        ],
        ["hn22c", "Knee", "-", "-", "5,843", "5,843", "6", "7,088", "15", "244", "No", "-", "-", *blank],
    ]
    load_period(conn, TARIFF_APC_PRICES, RELEASE, [_csv(header, rows, tmp_path / "APC_OPROC.csv")])
    assert _failures(conn, "tariff_apc_prices__structure") == {
        "hrg_code": ("error", 1),
        "expect_compound_columns_to_be_unique": ("error", 2),
        "day_case_price": ("error", 1),
        "elective_trim_is_whole_days": ("error", 1),
        "rsse_share": ("error", 1),
        "rsse_price_present_when_applicable": ("warn", 1),
    }


def test_a_release_in_a_month_other_than_april_fails(conn, tmp_path):
    header = TARIFF_APC_PRICES.variant("ntps_2017_19").columns
    row = ["HN12C", "Hip", "-", "-", "6,320", "6,320", "6", "7,883", "16", "244", "No", "-", "-", *[""] * 6]
    load_period(conn, TARIFF_APC_PRICES, date(2022, 3, 1), [_csv(header, [row], tmp_path / "APC_OPROC.csv")])
    assert _failures(conn, "tariff_apc_prices__structure") == {"release_is_april": ("error", 1)}


NCC_HEADER = [
    "Provider Code",
    "Department Code",
    "Service Code",
    "Currency Code",
    "Activity",
    "Actual Cost",
    "National Mean",
]


@pytest.fixture
def ncc_faults(conn, tmp_path):
    rows = [
        ["RA0", "EL", "110", "HN12C", "-3", "60000", "6000"],  # negative activity
        ["RA0", "XX", "110", "HN12C", "10", "60000", "6000"],  # unknown department
        ["RA0", "CL", "110", "OPFIRST", "10", "1500", "6000"],  # currency not HRG-shaped
        ["RA1", "EL", "110", "HN12C", "*", "*", "6000"],
        ["RA2", "EL", "110", "HN12C", "*", "*", "6000"],
    ]
    load_period(conn, NCC_ORG_UNIT_COSTS, RELEASE, [_csv(NCC_HEADER, rows, tmp_path / "f.csv")])
    return conn


def test_ncc_structure_faults_are_named_with_their_severity(ncc_faults):
    assert _failures(ncc_faults, "ncc_org_unit_costs__structure") == {
        "activity": ("error", 1),
        "department_is_known": ("warn", 1),
        "currency_is_hrg_shaped": ("warn", 1),
    }


def test_heavy_suppression_warns(ncc_faults):
    # 2 of 5 rows suppressed: 40%, above the 10% warning threshold
    assert _failures(ncc_faults, "ncc_org_unit_costs__suppression") == {"suppressed_share": ("warn", 1)}
