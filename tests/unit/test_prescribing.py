"""EPD: the real HSCIC and NHSBSA files load with their values, every layout is recognised and
mapped onto one model, bad input is refused or quarantined with counts, the generator is
deterministic with its planted gaps, and the suites find what was planted."""

from __future__ import annotations

import csv
import io
import os
import zipfile
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pytest

from orchestration.defs.prescribing.feeds import EPD, PDPI_TRAILING_FIELD
from orchestration.lib import landing, validation
from orchestration.lib.loader import (
    TooManyRejectedRows,
    UnknownSchemaVariant,
    detect_variant,
    load_period,
)
from orchestration.synth import prescribing as synth
from orchestration.synth.geography import build_geography, load_sub_icbs
from tests.conftest import real_file, requires_real_formats

PDPI = "epd/hscic_pdpi_bnft_2014-10_first40.csv"
DETAILED = "epd/nhsbsa_Detailed_Prescribing_Information_2017-09_first600.csv"
YEAR = [date(2022, m, 1) for m in range(1, 13)]


def _geo():
    return build_geography(load_sub_icbs(("02T", "15F")), np.array([4, 4]), np.random.default_rng(1))


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A year of sample-scale files for 8 practices (the sample's record-level months)."""
    out = tmp_path_factory.mktemp("landing")
    receipts: list[tuple] = []
    gaps = synth.write_prescribing(_geo(), 7, out, YEAR, lambda *a: receipts.append(a), "sample")
    return out, gaps, receipts


@pytest.fixture(scope="module")
def loaded(generated):
    out, _, _ = generated
    conn = duckdb.connect()
    for month in landing.available_periods(EPD, out):
        load_period(conn, EPD, month, landing.files_for_period(EPD, month, out).files)
    # The known-practices and coverage suites read ODS: every generated practice and cost centre.
    geo = _geo()
    codes = [*geo.practices["code"], *(f"Y0{j}002" for j in (1, 2, 3))]
    conn.execute("create table raw.ods_epraccur as select unnest(?::varchar[]) as organisation_code", [codes])
    yield conn
    conn.close()


def _gap(gaps, kind):
    return next(g for g in gaps if g.kind == kind)


def _where(gap) -> tuple[str, str]:
    """(practice code, YYYY-MM) of a planted gap."""
    return gap.org_code, gap.period


def _suite(concern: str) -> validation.SuiteFile:
    (suite,) = [s for s in validation.suite_files(EPD.name) if s.name == f"epd__{concern}"]
    return suite


def _frame(conn, concern: str, start=date(1900, 1, 1), end=date(2999, 1, 1)):
    return conn.execute(_suite(concern).query, {"period_start": start, "period_end": end}).df()


def _text(path: Path) -> str:
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            (member,) = archive.namelist()
            return archive.read(member).decode()
    return path.read_text()


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# --------------------------------------------------------------------------------------------
# Real publisher files
# --------------------------------------------------------------------------------------------


@requires_real_formats
def test_the_hscic_pdpi_file_loads_despite_padding_and_the_trailing_comma(conn):
    result = load_period(conn, EPD, date(2014, 10, 1), [real_file(PDPI)])
    assert (result.rows_loaded, result.rows_quarantined, result.variants) == (39, 0, ["hscic_pdpi_bnft"])
    row = conn.execute(
        "select area_code, pco_code, practice_code, bnf_description, items, total_quantity, quantity, nic, "
        "actual_cost, year_month from raw.epd where bnf_code = '0401020K0AAAHAH'"
    ).fetchone()
    # ` SHA` (leading space) is the area; zero-padded 0000040 and 00000113.31 are numbers;
    # QUANTITY is the total quantity.
    assert row == (
        "Q44",
        "RXA",
        "N81646",
        "Diazepam_Tab 2mg",
        40,
        3305.0,
        None,
        113.31,
        118.04,
        date(2014, 10, 1),
    )
    totals = conn.execute(
        "select sum(items), round(sum(actual_cost), 2), sum(total_quantity) from raw.epd"
    ).fetchone()
    assert totals == (1638, 11619.7, 595902.0)


@requires_real_formats
def test_the_detailed_prescribing_information_file_loads_every_row(conn):
    result = load_period(conn, EPD, date(2017, 9, 1), [real_file(DETAILED)])
    assert (result.rows_loaded, result.rows_quarantined) == (599, 0)
    assert result.variants == ["nhsbsa_detailed_prescribing_information"]
    summary = conn.execute(
        "select count(distinct bnf_code), sum(items), round(sum(actual_cost), 5), count(year_month), "
        "any_value(area_name), any_value(pco_code) from raw.epd"
    ).fetchone()
    assert summary == (343, 2971, 15609.03881, 0, "BATH,GLOS,SWINDON & WILTSHIRE AREA TEAM", "11M00")
    # Ventolin Evohaler is split over three rows by quantity per item: 25 x 2, 3 x 3 and 34 x 1.
    ventolin = conn.execute(
        "select count(*), sum(items), sum(quantity * items), sum(adq_usage) from raw.epd "
        "where bnf_code = '0301011R0BEAIAP'"
    ).fetchone()
    assert ventolin == (3, 62, 93.0, 4650.0)


@requires_real_formats
def test_the_real_headers_are_recognised_as_their_variants():
    assert detect_variant(EPD, real_file(PDPI)).name == "hscic_pdpi_bnft"
    assert detect_variant(EPD, real_file(PDPI)).columns[-1] == PDPI_TRAILING_FIELD
    assert detect_variant(EPD, real_file(DETAILED)).name == "nhsbsa_detailed_prescribing_information"


# --------------------------------------------------------------------------------------------
# Every EPD layout onto one model
# --------------------------------------------------------------------------------------------

ROW = {
    "year_month": "202503",
    "regional_office_name": "NORTH EAST AND YORKSHIRE",
    "regional_office_code": "Y63",
    "area_name": "NHS WEST YORKSHIRE INTEGRATED CARE BOARD",
    "area_code": "QWO",
    "pco_name": "NHS WEST YORKSHIRE ICB - 02T",
    "pco_code": "02T",
    "practice_name": "THE PARK SURGERY",
    "practice_code": "B80001",
    "address_1": "1 HIGH STREET",
    "address_2": "",
    "address_3": "CALDERDALE",
    "address_4": "ENGLAND",
    "postcode": "HX1 1AA",
    "bnf_chemical_substance_code": "0301011R0",
    "bnf_chemical_substance_name": "Salbutamol",
    "bnf_code": "0301011R0AAAPAP",
    "bnf_description": "Salbutamol 100micrograms/dose inhaler CFC free",
    "bnf_chapter_plus_code": "03: Respiratory System",
    "quantity": "2",
    "items": "3",
    "total_quantity": "6",
    "adq_usage": "300",
    "nic": "9.00",
    "actual_cost": "8.3835",
    "unidentified": "false",
    "snomed_code": "39695211000001102",
}


def _layout_file(path: Path, variant_name: str, rows: list[dict[str, str]]) -> Path:
    variant = EPD.variant(variant_name)
    published = {v: k for k, v in variant.mapping.items()}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(variant.columns)
    for row in rows:
        writer.writerow([row.get(published[c], "") for c in variant.columns])
    return _write(path, buffer.getvalue())


@pytest.mark.parametrize(
    "variant_name",
    [
        "epd_legacy_stp",
        "epd_legacy_icb",
        "epd_snomed_legacy_stp",
        "epd_snomed_legacy_icb",
        "epd_snomed_renamed",
    ],
)
def test_each_epd_layout_is_detected_and_mapped_to_the_same_canonical_row(conn, tmp_path, variant_name):
    path = _layout_file(tmp_path / "EPD_202503.csv", variant_name, [ROW])
    result = load_period(conn, EPD, date(2025, 3, 1), [path])
    assert result.variants == [variant_name]
    row = conn.execute(
        "select year_month, area_code, practice_code, bnf_code, bnf_chemical_substance_code, "
        "bnf_chemical_substance_name, quantity, items, total_quantity, adq_usage, actual_cost, unidentified, "
        "snomed_code from raw.epd"
    ).fetchone()
    snomed = "39695211000001102" if "snomed" in variant_name else None
    assert row == (
        date(2025, 3, 1), "QWO", "B80001", "0301011R0AAAPAP", "0301011R0", "Salbutamol",
        2.0, 3, 6.0, 300.0, 8.3835, False, snomed,
    )  # fmt: skip


def test_the_snomed_layout_is_matched_whatever_the_position_of_snomed_code(conn, tmp_path):
    variant = EPD.variant("epd_snomed_legacy_icb")
    columns = ["SNOMED_CODE", *(c for c in variant.columns if c != "SNOMED_CODE")]
    published = {v: k for k, v in variant.mapping.items()}
    text = ",".join(columns) + "\n" + ",".join(ROW[published[c]] for c in columns) + "\n"
    result = load_period(conn, EPD, date(2025, 3, 1), [_write(tmp_path / "EPD_202503.csv", text)])
    assert result.variants == ["epd_snomed_legacy_icb"]
    # A 17-digit identifier survives as text (a double would round it to ...1100).
    assert conn.execute("select snomed_code from raw.epd").fetchone() == ("39695211000001102",)


def test_year_month_as_yyyy_mm_is_normalised_and_a_bad_month_is_quarantined(conn, tmp_path):
    good = [{**ROW, "year_month": "2025-03"}] * 60
    rows = [*good, {**ROW, "year_month": "2025-13"}, {**ROW, "year_month": "Mar-25"}]
    path = _layout_file(tmp_path / "e.csv", "epd_snomed_renamed", rows)
    result = load_period(conn, EPD, date(2025, 3, 1), [path])
    assert (result.rows_loaded, result.rows_quarantined) == (60, 2)
    assert conn.execute("select distinct year_month from raw.epd").fetchall() == [(date(2025, 3, 1),)]
    reasons = sorted(r[0] for r in conn.execute("select reason from meta.quarantine").fetchall())
    assert reasons == ["YEAR_MONTH: 2025-13 is not a valid date", "YEAR_MONTH: Mar-25 is not a valid date"]


def test_unidentified_doctors_rows_with_dash_organisation_fields_are_kept(conn, tmp_path):
    dash = {k: "-" for k in ("regional_office_code", "area_code", "pco_code", "practice_code", "postcode")}
    rows = [
        ROW,
        {**ROW, **dash, "regional_office_name": "UNIDENTIFIED", "area_name": "UNIDENTIFIED",
         "pco_name": "UNIDENTIFIED", "practice_name": "UNIDENTIFIED DOCTORS", "unidentified": "true"},
    ]  # fmt: skip
    result = load_period(
        conn, EPD, date(2025, 3, 1), [_layout_file(tmp_path / "e.csv", "epd_legacy_icb", rows)]
    )
    assert (result.rows_loaded, result.rows_quarantined) == (2, 0)
    assert conn.execute(
        "select practice_code, pco_code, practice_name, unidentified from raw.epd where unidentified"
    ).fetchall() == [("-", "-", "UNIDENTIFIED DOCTORS", True)]


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------


@pytest.fixture
def month_text(generated) -> str:
    out, _, _ = generated
    return _text(out / "epd" / "2022-03" / "EPD_202203.zip")


def test_a_renamed_column_names_the_closest_layout_and_the_difference(conn, tmp_path, month_text):
    path = _write(tmp_path / "EPD_202203.csv", month_text.replace("ADQUSAGE", "ADQ_USAGE_X", 1))
    with pytest.raises(UnknownSchemaVariant) as raised:
        load_period(conn, EPD, date(2022, 3, 1), [path])
    message = str(raised.value)
    assert "Closest known variant is epd_legacy_stp" in message
    assert "missing ['ADQUSAGE'], unexpected ['ADQ_USAGE_X']" in message


def test_a_non_numeric_cost_is_quarantined_with_the_value_and_the_rest_loads(conn, tmp_path, month_text):
    lines = month_text.rstrip("\n").split("\n")
    for index in (3, 10):
        fields = lines[index].split(",")
        fields[-2] = "12.3O"  # ACTUAL_COST with a letter O
        lines[index] = ",".join(fields)
    result = load_period(conn, EPD, date(2022, 3, 1), [_write(tmp_path / "EPD_202203.csv", "\n".join(lines))])
    assert (result.rows_loaded, result.rows_quarantined) == (len(lines) - 3, 2)
    assert result.quarantine_reasons == {"ACTUAL_COST": 2}
    assert {r[0] for r in conn.execute("select reason from meta.quarantine").fetchall()} == {
        "ACTUAL_COST: 12.3O is not a valid double"
    }


def test_a_mostly_unreadable_file_is_refused_and_the_month_kept(conn, tmp_path, month_text):
    good = load_period(
        conn, EPD, date(2022, 3, 1), [_write(tmp_path / "good" / "EPD_202203.csv", month_text)]
    )
    lines = month_text.rstrip("\n").split("\n")
    broken = [lines[0]] + [",".join([*row.split(",")[:-6], "n/a", *row.split(",")[-5:]]) for row in lines[1:]]
    with pytest.raises(TooManyRejectedRows, match="previous data for 2022-03 kept"):
        load_period(
            conn, EPD, date(2022, 3, 1), [_write(tmp_path / "bad" / "EPD_202203.csv", "\n".join(broken))]
        )
    assert conn.execute("select count(*) from raw.epd").fetchone() == (good.rows_loaded,)


def test_a_redelivered_month_wins_over_the_first_delivery_and_replaces_it(conn, tmp_path, generated):
    out, _, _ = generated
    first = out / "epd" / "2022-03" / "EPD_202203.zip"
    landing_root = tmp_path / "landing"
    folder = landing_root / "epd" / "2022-03"
    folder.mkdir(parents=True)
    (folder / first.name).write_bytes(first.read_bytes())
    os.utime(folder / first.name, (1_600_000_000, 1_600_000_000))
    text = _text(first)
    header, *rows = text.rstrip("\n").split("\n")
    _write(folder / "EPD_202203.csv", "\n".join([header, *rows[:-10]]) + "\n")  # the corrected file
    found = landing.files_for_period(EPD, date(2022, 3, 1), landing_root)
    assert [p.name for p in found.files] == ["EPD_202203.csv"]
    assert [p.name for p in found.superseded] == ["EPD_202203.zip"]
    load_period(conn, EPD, date(2022, 3, 1), [folder / first.name])
    load_period(conn, EPD, date(2022, 3, 1), list(found.files))
    assert conn.execute("select count(*), count(distinct _source_file) from raw.epd").fetchone() == (
        len(rows) - 10,
        1,
    )
    assert conn.execute("select count(*) from meta.load_log where feed = 'epd'").fetchone() == (1,)


# --------------------------------------------------------------------------------------------
# Generator
# --------------------------------------------------------------------------------------------


def test_the_generator_is_deterministic(tmp_path, generated):
    out, gaps, _ = generated
    again = synth.write_prescribing(_geo(), 7, tmp_path, YEAR, lambda *a: None, "sample")
    assert again == gaps
    for path in sorted((out / "epd").rglob("*.zip")):
        assert (tmp_path / path.relative_to(out)).read_bytes() == path.read_bytes()


def test_sample_scale_writes_one_zip_a_month_from_2022_with_its_receipt(tmp_path):
    months = [date(2021, 11, 1), date(2021, 12, 1), date(2022, 1, 1), date(2022, 12, 1), date(2023, 1, 1)]
    receipts: list[tuple] = []
    gaps = synth.write_prescribing(_geo(), 3, tmp_path, months, lambda *a: receipts.append(a), "sample")
    names = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.*"))
    assert names == ["epd/2022-01/EPD_202201.zip", "epd/2022-12/EPD_202212.zip"]
    assert [(r[0], r[1]) for r in receipts] == [("epd", date(2022, 1, 1)), ("epd", date(2022, 12, 1))]
    assert gaps == []  # too few months to plant anything


def test_the_layout_follows_the_month_stp_then_icb_then_renamed_snomed(tmp_path):
    months = [date(2022, 6, 1), date(2022, 7, 1), date(2025, 3, 1)]
    synth.write_prescribing(_geo(), 3, tmp_path, months, lambda *a: None, "national")
    expected = {
        "2022-06/EPD_202206.csv": "epd_legacy_stp",
        "2022-07/EPD_202207.csv": "epd_legacy_icb",
        "2025-03/EPD_SNOMED_202503.csv": "epd_snomed_renamed",
    }
    for name, variant in expected.items():
        assert detect_variant(EPD, tmp_path / "epd" / name).name == variant
    conn = duckdb.connect()
    result = load_period(
        conn, EPD, date(2025, 3, 1), [tmp_path / "epd" / "2025-03" / "EPD_SNOMED_202503.csv"]
    )
    assert result.rows_quarantined == 0
    # Nationally, synthetic filler presentations join the measure-relevant ones.
    assert conn.execute("select count(distinct bnf_code) from raw.epd").fetchone()[0] > 2000
    assert conn.execute(
        "select min(length(snomed_code)), max(length(snomed_code)) from raw.epd"
    ).fetchone() == (17, 17)


def test_every_cost_centre_and_the_unidentified_doctors_are_in_each_month(loaded):
    counts = dict(
        loaded.execute(
            "select practice_code, count(distinct _period) from raw.epd group by practice_code"
        ).fetchall()
    )
    geo = _geo()
    for code in [*geo.practices["code"], "Y01002", "Y02002", "Y03002", "-"]:
        assert counts[code] >= 11, code
    settings = loaded.execute(
        "select practice_code, string_agg(distinct left(bnf_code, 2), ',' order by left(bnf_code, 2)) "
        "from raw.epd where practice_code = 'Y02002' group by 1"
    ).fetchone()
    assert "21" in settings[1]  # community nursing prescribes appliances
    dashes = loaded.execute(
        "select distinct regional_office_code, area_code, pco_code, postcode, unidentified from raw.epd "
        "where practice_code = '-'"
    ).fetchall()
    assert dashes == [("-", "-", "-", "-", True)]


def test_the_planted_gaps_are_in_the_files(generated, loaded):
    _, gaps, _ = generated
    assert [g.kind for g in gaps] == [
        "missing_practice_month",
        "partial_submission",
        "unknown_practice",
    ]
    assert {g.feed for g in gaps} == {"epd"}
    missing, missing_month = _where(_gap(gaps, "missing_practice_month"))
    partial, partial_month = _where(_gap(gaps, "partial_submission"))
    unknown, unknown_month = _where(_gap(gaps, "unknown_practice"))
    months_of = dict(
        loaded.execute(
            "select practice_code, list(distinct m order by m) "
            "from (select practice_code, strftime(_period, '%Y-%m') as m from raw.epd) group by 1"
        ).fetchall()
    )
    assert missing_month not in months_of[missing] and len(months_of[missing]) == 11
    assert months_of[unknown] == [unknown_month]
    share = loaded.execute(
        "select sum(items) filter (where strftime(_period, '%Y-%m') = ?) / (sum(items) filter "
        "(where strftime(_period, '%Y-%m') != ?) / 11) from raw.epd where practice_code = ?",
        [partial_month, partial_month, partial],
    ).fetchone()[0]
    assert 0.3 < share < 0.5


def test_older_lists_prescribe_more_dementia_drugs_per_patient(loaded):
    geo = _geo()
    sizes = dict(zip(geo.practices["code"], geo.practices["list_size"], strict=True))
    older = dict(zip(geo.practices["code"], geo.practices["older"], strict=True))
    rows = loaded.execute(
        "select practice_code, sum(items) from raw.epd where bnf_code like '0411%' group by 1"
    ).fetchall()
    rates = {code: items / sizes[code] for code, items in rows if code in sizes}
    by_age = sorted(rates, key=older.get)
    assert rates[by_age[-1]] > 2 * rates[by_age[0]]


# --------------------------------------------------------------------------------------------
# Suites
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("concern", ["structure", "codes", "values"])
def test_the_error_suites_pass_on_the_generated_year(loaded, concern):
    outcome = validation.run_suite(loaded, _suite(concern), YEAR[0], YEAR[-1])
    assert outcome.passed, [f.describe() for f in outcome.failed]
    assert outcome.rows_validated > 0


def test_known_practices_finds_exactly_the_unknown_practice(generated, loaded):
    _, gaps, _ = generated
    frame = _frame(loaded, "known_practices")
    unknown = frame[~frame["known_to_ods"]]
    assert [(r["practice_code"], f"{r['_period']:%Y-%m}") for r in unknown.to_dict("records")] == [
        _where(_gap(gaps, "unknown_practice"))
    ]
    outcome = validation.run_suite(loaded, _suite("known_practices"), YEAR[0], YEAR[-1])
    assert [(f.column, f.severity, f.unexpected_count) for f in outcome.failed] == [
        ("known_to_ods", "warn", 1)
    ]


def test_continuity_finds_the_missing_and_the_partial_practice_month(generated, loaded):
    _, gaps, _ = generated
    frame = _frame(loaded, "continuity", YEAR[0], YEAR[-1])
    absent = frame[frame["present_after_three_months"] == False]  # noqa: E712 (None = not expected)
    assert [(r["practice_code"], f"{r['_period']:%Y-%m}") for r in absent.to_dict("records")] == [
        _where(_gap(gaps, "missing_practice_month"))
    ]
    ratio = frame["items_vs_previous_median"]
    low = frame[(ratio < 0.6) | (ratio > 1.67)]
    assert [(r["practice_code"], f"{r['_period']:%Y-%m}") for r in low.to_dict("records")] == [
        _where(_gap(gaps, "partial_submission"))
    ]
    outcome = validation.run_suite(loaded, _suite("continuity"), YEAR[0], YEAR[-1])
    assert not outcome.passed and outcome.severity == "warn"


def test_continuity_of_one_month_reads_the_months_before_it(generated, loaded):
    _, gaps, _ = generated
    month = date.fromisoformat(_gap(gaps, "missing_practice_month").period + "-01")
    frame = _frame(loaded, "continuity", month, month)
    assert {f"{p:%Y-%m}" for p in frame["_period"]} == {f"{month:%Y-%m}"}
    assert frame["present_after_three_months"].eq(False).sum() == 1


def test_coverage_reports_the_unidentified_and_unknown_row_shares(generated, loaded):
    _, gaps, _ = generated
    frame = _frame(loaded, "coverage").set_index("_period")
    unknown_month = date.fromisoformat(_gap(gaps, "unknown_practice").period + "-01")
    shares = frame["unknown_practice_row_share"]
    assert [f"{p:%Y-%m}" for p in shares[shares > 0].index] == [f"{unknown_month:%Y-%m}"]
    # Eight practices make the unidentified doctors' few rows a larger share than nationally (<0.1%).
    assert frame["unidentified_row_share"].between(0.001, 0.05).all()


def test_a_file_in_the_wrong_month_folder_fails_the_structure_suite(conn, month_text, tmp_path):
    load_period(conn, EPD, date(2022, 4, 1), [_write(tmp_path / "EPD_202203.csv", month_text)])
    outcome = validation.run_suite(conn, _suite("structure"))
    assert [(f.column, f.severity) for f in outcome.failed] == [("stated_month_is_period", "error")]


def test_negative_items_a_float_snomed_and_a_short_bnf_code_fail_with_error(conn, tmp_path):
    rows = [
        ROW,
        {**ROW, "items": "-2", "total_quantity": "-4", "practice_code": "B80002"},
        {**ROW, "snomed_code": "3.96952110000011E+16"},
        {**ROW, "bnf_code": "301011R0AAAPAP"},
    ]
    load_period(conn, EPD, date(2025, 3, 1), [_layout_file(tmp_path / "e.csv", "epd_snomed_renamed", rows)])
    values = validation.run_suite(conn, _suite("values"))
    assert [(f.column, f.severity, f.unexpected_count) for f in values.failed] == [
        ("negative_item_rows", "error", 1)
    ]
    codes = validation.run_suite(conn, _suite("codes"))
    failed = {(f.column, f.expectation): (f.severity, f.unexpected_count) for f in codes.failed}
    assert failed[("bnf_code", "expect_column_values_to_match_regex")] == ("error", 1)
    assert failed[("snomed_code", "expect_column_values_to_match_regex")] == ("error", 1)
    assert codes.severity == "error"


def test_a_quantity_that_is_not_quantity_times_items_is_a_warning(conn, tmp_path):
    rows = [ROW, {**ROW, "total_quantity": "60"}]
    load_period(conn, EPD, date(2025, 3, 1), [_layout_file(tmp_path / "e.csv", "epd_legacy_icb", rows)])
    outcome = validation.run_suite(conn, _suite("values"))
    assert [(f.column, f.severity, f.unexpected_count) for f in outcome.failed] == [
        ("total_quantity_mismatch_rows", "warn", 1)
    ]


# --------------------------------------------------------------------------------------------
# Measure seeds and the generator's catalogue agree
# --------------------------------------------------------------------------------------------

SEEDS = Path(__file__).resolve().parents[2] / "seeds" / "reference" / "prescribing"


def _seed(name: str) -> list[dict[str, str]]:
    with (SEEDS / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_every_route_restricted_presentation_the_generator_writes_has_its_form_route_in_the_seed():
    seed = {row["bnf_code"]: row for row in _seed("bnf_form_route")}
    restricted = [p for p in synth.CATALOGUE if p.code[:4] in ("0301", "0302", "0501")]
    assert {p.code for p in restricted} == set(seed)
    for presentation in restricted:
        assert seed[presentation.code]["form_route"] == presentation.form_route
        assert seed[presentation.code]["code_seen_in_real_file"] == str(presentation.seen).lower()


def test_every_measure_has_numerator_terms_and_a_denominator():
    measures = {row["measure_id"]: row for row in _seed("prescribing_measures")}
    assert set(measures) >= {"ktt13_nsaids_ibuprofen", "broad_spectrum", "saba", "bdzper1000"}
    parts = {(row["measure_id"], row["part"]) for row in _seed("prescribing_measure_bnf_filters")}
    for measure_id, measure in measures.items():
        assert (measure_id, "numerator") in parts
        assert measure["denominator_type"] == "list_size" or (measure_id, "denominator") in parts
        assert measure["source_url"].startswith("https://github.com/ebmdatalab/openprescribing/blob/")
        assert measure["source_url"].endswith(f"/measures/definitions/{measure_id}.json")
    assert [m for m, row in measures.items() if row["is_cost_based"] == "true"] == ["lpomega3"]


def test_the_sample_catalogue_feeds_both_sides_of_every_measure():
    codes = {p.code for p in synth.CATALOGUE if p.sample}
    for prefix in ("1001010J0", "1001010C0", "0501013K0", "0501013B0", "0301011R0", "0302", "0401020K0",
                   "0601012V0", "0601012S0", "0601060D0EVAAA0", "0601060D0BNAAA0", "0212000AB"):  # fmt: skip
        assert any(code.startswith(prefix) for code in codes), prefix
