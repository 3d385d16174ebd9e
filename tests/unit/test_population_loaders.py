"""Deprivation (IoD File 7, both editions) and the ONS LSOA lookup load as published."""

from __future__ import annotations

import csv
from datetime import date

import pytest

from orchestration.defs.population.feeds import IOD_FILE7, LSOA_LOOKUP
from orchestration.lib import landing, validation
from orchestration.lib.loader import UnknownSchemaVariant, load_period
from tests.conftest import REAL_FORMATS, requires_real_formats
from tests.helpers import SAMPLE, write


@requires_real_formats
def test_the_real_iod2025_file7_loads_with_values_from_the_file(conn):
    path = next((REAL_FORMATS / "imd").glob("File_7_IoD2025*.csv"))
    rows = list(csv.DictReader(path.open(encoding="utf-8-sig")))
    result = load_period(conn, IOD_FILE7, date(2025, 10, 1), [path])
    assert (result.variants, result.rows_loaded, result.rows_quarantined) == (["iod2025_file7"], len(rows), 0)
    loaded = conn.execute(
        "select lsoa_code, imd_score, imd_rank, imd_decile, total_population "
        "from raw.iod_file7 order by _line"
    ).fetchall()
    expected = [
        (
            r["LSOA code (2021)"],
            float(r["Index of Multiple Deprivation (IMD) Score"]),
            int(r["Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)"]),
            int(r["Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)"]),
            int(r["Total population: mid 2022"]),
        )
        for r in rows
    ]
    assert loaded == expected


def test_both_sample_editions_load_in_their_own_layout(conn):
    variants = {}
    for month in landing.available_periods(IOD_FILE7, SAMPLE):
        result = load_period(conn, IOD_FILE7, month, landing.files_for_period(IOD_FILE7, month, SAMPLE).files)
        assert result.rows_quarantined == 0
        variants[month.year] = result.variants[0]
    assert variants == {2019: "iod2019_file7", 2025: "iod2025_file7"}
    same = conn.execute(
        "select count(*) from (select lsoa_code from raw.iod_file7 group by 1 having count(*) = 2)"
    ).fetchone()[0]
    assert same == conn.execute("select count(distinct lsoa_code) from raw.iod_file7").fetchone()[0]


@pytest.mark.parametrize(
    ("header", "variant"),
    [
        (
            "LSOA21CD,LSOA21NM,SICBL22CD,SICBL22CDH,SICBL22NM,ICB22CD,ICB22CDH,ICB22NM,LAD22CD,LAD22NM",
            "lsoa_sicbl_icb_lad",
        ),
        ("LSOA11CD,LSOA11NM,CCG21CD,CCG21CDH,CCG21NM,LAD21CD,LAD21NM,FID", "lsoa_ccg_lad_objectid"),
    ],
)
def test_ons_lookups_of_any_year_match_by_pattern(conn, tmp_path, header, variant):
    fields = header.split(",")
    row = {f: "x" for f in fields}
    row |= {fields[0]: "E01011229", fields[3]: "02T"}
    path = write(tmp_path / "LSOA_lookup.csv", header + "\r\n" + ",".join(row[f] for f in fields) + "\r\n")
    result = load_period(conn, LSOA_LOOKUP, date(2022, 7, 1), [path])
    assert result.variants == [variant]
    assert conn.execute(
        "select lsoa_code, commissioner_code from raw.ons_lsoa_commissioner_lookup"
    ).fetchall() == [("E01011229", "02T")]


def test_a_lookup_without_health_codes_is_an_unknown_layout(conn, tmp_path):
    path = write(
        tmp_path / "LSOA_lookup.csv", "LSOA21CD,LSOA21NM,SICBL22CD,SICBL22NM\r\nE01011229,a,E38000025,b\r\n"
    )
    with pytest.raises(UnknownSchemaVariant, match="SICBL22CD"):
        load_period(conn, LSOA_LOOKUP, date(2022, 7, 1), [path])


def test_the_lookup_suite_passes_on_the_sample_and_fails_on_an_unknown_commissioner(conn, tmp_path):
    (month,) = landing.available_periods(LSOA_LOOKUP, SAMPLE)
    (path,) = landing.files_for_period(LSOA_LOOKUP, month, SAMPLE).files
    load_period(conn, LSOA_LOOKUP, month, [path])
    (suite,) = validation.suite_files(LSOA_LOOKUP.name)
    assert validation.run_suite(conn, suite).passed
    broken = path.read_text().replace(",02T,", ",Z9Z,", 1)
    load_period(conn, LSOA_LOOKUP, month, [write(tmp_path / path.name, broken)])
    outcome = validation.run_suite(conn, suite)
    (failure,) = outcome.failed
    assert (failure.column, failure.severity, failure.unexpected_count) == ("known_commissioner", "error", 1)
