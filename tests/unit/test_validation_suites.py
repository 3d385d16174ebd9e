"""The GX suites pass on clean data, fail on broken data, and find the planted gaps."""

from __future__ import annotations

import json
from datetime import date

import pytest

from orchestration.defs.catalog import ALL_FEEDS
from orchestration.defs.reference.feeds import (
    GP_PRACTICE_MAP,
    GP_REGISTERED_PATIENTS,
    REFERENCE_FEEDS,
)
from orchestration.lib import landing, validation
from orchestration.lib.loader import load_period
from tests.helpers import SAMPLE, sample_text, write

MANIFEST = json.loads((SAMPLE / "_manifest.json").read_text())


@pytest.fixture(scope="module")
def loaded():
    """The whole shipped sample loaded into one in-memory warehouse."""
    import duckdb

    conn = duckdb.connect()
    for spec in ALL_FEEDS:
        for month in landing.available_periods(spec, SAMPLE):
            load_period(conn, spec, month, landing.files_for_period(spec, month, SAMPLE).files)
    yield conn
    conn.close()


def test_every_suite_names_a_known_feed_and_a_severity():
    suites = validation.suite_files()
    known = {spec.name for spec in ALL_FEEDS}
    assert {s.feed for s in suites} <= known
    assert {spec.name for spec in REFERENCE_FEEDS} <= {s.feed for s in suites}
    for suite in suites:
        for expectation in suite.raw["expectations"]:
            assert expectation["meta"]["severity"] in {"error", "warn"}, suite.name
            assert expectation["meta"]["why"], suite.name


def test_error_suites_pass_on_the_sample(loaded):
    for suite in validation.suite_files():
        outcome = validation.run_suite(loaded, suite)
        errors = [f for f in outcome.failed if f.severity == "error"]
        assert not errors, f"{suite.name}: {[f.describe() for f in errors]}"
        assert outcome.rows_validated > 0


def _gap(kind):
    return next(g for g in MANIFEST["gaps"] if g["kind"] == kind)


def test_continuity_finds_the_missing_practice_month_and_the_list_size_step(loaded):
    (suite,) = [
        s for s in validation.suite_files(GP_REGISTERED_PATIENTS.name) if s.name.endswith("continuity")
    ]
    missing, step = _gap("missing_practice_month"), _gap("list_size_step")
    frame = loaded.execute(
        suite.query, {"period_start": date(1900, 1, 1), "period_end": date(2999, 1, 1)}
    ).df()
    absent = frame[~frame["present"]]
    assert (missing["org_code"], missing["period"]) in {
        (r["org_code"], f"{r['_period']:%Y-%m}") for r in absent.to_dict("records")
    }
    jumps = frame[frame["change_on_previous_month"].abs() > 0.2]
    assert [(r["org_code"], f"{r['_period']:%Y-%m}") for r in jumps.to_dict("records")] == [
        (step["org_code"], step["period"])
    ]
    outcome = validation.run_suite(loaded, suite)
    assert not outcome.passed and outcome.severity == "warn"


def test_known_practices_finds_exactly_the_unknown_practice(loaded):
    (suite,) = [
        s for s in validation.suite_files(GP_REGISTERED_PATIENTS.name) if s.name.endswith("known_practices")
    ]
    outcome = validation.run_suite(loaded, suite)
    (failure,) = outcome.failed
    assert failure.unexpected_count == 1
    frame = loaded.execute(
        suite.query, {"period_start": date(1900, 1, 1), "period_end": date(2999, 1, 1)}
    ).df()
    unknown = frame[~frame["in_practice_map"]]
    gap = _gap("unknown_practice")
    assert [(r["org_code"], f"{r['_period']:%Y-%m}") for r in unknown.to_dict("records")] == [
        (gap["org_code"], gap["period"])
    ]


def test_a_file_landed_in_the_wrong_month_fails_the_structure_suite_as_an_error(tmp_path):
    import duckdb

    conn = duckdb.connect()
    text = sample_text(GP_PRACTICE_MAP.name, "2021-01")
    load_period(conn, GP_PRACTICE_MAP, date(2021, 2, 1), [write(tmp_path / "gp-reg-pat-prac-map.csv", text)])
    (suite,) = [s for s in validation.suite_files(GP_PRACTICE_MAP.name) if s.name.endswith("structure")]
    outcome = validation.run_suite(conn, suite, date(2021, 2, 1), date(2021, 2, 1))
    assert outcome.severity == "error"
    (failure,) = [f for f in outcome.failed if f.severity == "error"]
    assert failure.column == "extract_month_matches_period"
    assert failure.unexpected_count == MANIFEST["practices"]


def test_a_negative_count_fails_as_an_error_with_an_example(tmp_path):
    import duckdb

    conn = duckdb.connect()
    lines = sample_text(GP_REGISTERED_PATIENTS.name, "2021-01").split("\r\n")
    fields = lines[2].split(",")
    fields[-1] = "-5"
    lines[2] = ",".join(fields)
    load_period(
        conn,
        GP_REGISTERED_PATIENTS,
        date(2021, 1, 1),
        [write(tmp_path / "q.csv", "\r\n".join(lines))],
    )
    (suite,) = [
        s for s in validation.suite_files(GP_REGISTERED_PATIENTS.name) if s.name.endswith("structure")
    ]
    outcome = validation.run_suite(conn, suite)
    (failure,) = [f for f in outcome.failed if f.column == "number_of_patients"]
    assert (failure.severity, failure.unexpected_count, failure.examples) == ("error", 1, [-5])
