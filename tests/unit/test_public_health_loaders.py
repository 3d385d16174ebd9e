"""Fingertips: both real export layouts load; the suites find the planted gaps and bad area types."""

from __future__ import annotations

import csv
import json
from datetime import date

import pytest

from orchestration.defs.public_health.feeds import FINGERTIPS_DATA
from orchestration.lib import landing, validation
from orchestration.lib.loader import load_period
from tests.conftest import REAL_FORMATS, requires_real_formats
from tests.helpers import SAMPLE, write

RELEASE = date(2022, 7, 1)


def _rows(path):
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


@requires_real_formats
@pytest.mark.parametrize(
    ("name", "variant"),
    [
        ("indicator-data_93553_IMD2019_GP_first1500.csv", "api_export_27"),
        ("indicators-CountyUA.data.csv", "ui_export_26"),
    ],
)
def test_real_fingertips_exports_load_with_their_layout(conn, name, variant):
    path = REAL_FORMATS / "fingertips" / name
    header, rows = _rows(path)
    result = load_period(conn, FINGERTIPS_DATA, RELEASE, [path])
    assert result.variants == [variant]
    assert (result.rows_loaded, result.rows_quarantined) == (len(rows), 0)
    blank_values = sum(1 for r in rows if r[header.index("Value")] == "")
    assert (
        conn.execute("select count(*) from raw.fingertips_indicator_data where value is null").fetchone()[0]
        == blank_values
    )
    total = sum(float(r[header.index("Value")]) for r in rows if r[header.index("Value")])
    loaded = conn.execute("select sum(value) from raw.fingertips_indicator_data").fetchone()[0]
    assert loaded == pytest.approx(total, rel=1e-12)


@requires_real_formats
def test_the_older_export_keeps_its_quoted_line_break_and_parent_comparison(conn):
    load_period(
        conn, FINGERTIPS_DATA, RELEASE, [REAL_FORMATS / "fingertips" / "indicators-CountyUA.data.csv"]
    )
    name, notes = conn.execute(
        "select any_value(indicator_name), count(value_note) from raw.fingertips_indicator_data"
    ).fetchone()
    assert name == "Campylobacter incidence rate/100,000\n"
    assert notes == 107  # 87 aggregated + 10 Cornwall + 10 Hackney notes in the file


@pytest.fixture(scope="module")
def sample_loaded():
    import duckdb

    conn = duckdb.connect()
    for month in landing.available_periods(FINGERTIPS_DATA, SAMPLE):
        load_period(
            conn, FINGERTIPS_DATA, month, landing.files_for_period(FINGERTIPS_DATA, month, SAMPLE).files
        )
    yield conn
    conn.close()


def _suite(name):
    (suite,) = [s for s in validation.suite_files(FINGERTIPS_DATA.name) if s.name.endswith(name)]
    return suite


def test_the_sample_passes_structure_and_consistency_finds_the_planted_gap(sample_loaded):
    assert validation.run_suite(sample_loaded, _suite("structure")).passed
    outcome = validation.run_suite(sample_loaded, _suite("consistency"))
    failures = {f.column: f.unexpected_count for f in outcome.failed}
    manifest = json.loads((SAMPLE / "_manifest.json").read_text())
    planted = [g for g in manifest["gaps"] if g["kind"] == "missing_indicator_area_period"]
    assert failures["period_present"] == len(planted) == 1
    from orchestration.synth.public_health import INDICATORS

    assert failures["rows_for_key"] == len(INDICATORS) * 3  # England listed twice, per indicator and period
    assert outcome.severity == "warn"


def test_an_unknown_area_type_fails_the_structure_suite_by_name(tmp_path):
    import duckdb

    header, rows = _rows(next((SAMPLE / FINGERTIPS_DATA.name / "2022-12").glob("*241.csv")))
    rows[5][header.index("Area Type")] = "Ward"
    text = "\r\n".join(",".join(f'"{v}"' if "," in v else v for v in row) for row in [header, *rows]) + "\r\n"
    conn = duckdb.connect()
    load_period(conn, FINGERTIPS_DATA, RELEASE, [write(tmp_path / "indicator-data_241.csv", text, "utf-8")])
    outcome = validation.run_suite(conn, _suite("structure"))
    (failure,) = outcome.failed
    assert (failure.column, failure.severity, failure.unexpected_count) == ("known_area_type", "error", 1)
    assert "fingertips_area_types.csv" in failure.why
