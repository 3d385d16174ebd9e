"""Cost feeds load as published: tariff workbooks and CSV re-saves, NCC File 1 tab or comma with a
BOM. `-` and `*` are NULL (never 0), thousands separators and `£` are stripped, a price that is
not a number is quarantined with its value, and an unknown header names what differs."""

from __future__ import annotations

import csv
import io
import os
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pytest

from orchestration.defs.cost.feeds import (
    NCC_ORG_UNIT_COSTS,
    TARIFF_APC_PRICES,
    TARIFF_OP_ATTENDANCE_PRICES,
    published_pattern,
)
from orchestration.lib import landing
from orchestration.lib.loader import UnknownSchemaVariant, load_period
from orchestration.synth import cost as synth_cost
from orchestration.synth.geography import build_geography, load_sub_icbs

RELEASE = date(2022, 4, 1)
APC_2017 = TARIFF_APC_PRICES.variant("ntps_2017_19").columns  # the 3P transcription, verbatim
BLANK_BPT = [""] * 6


def csv_text(header, rows, delimiter=",") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def write(path: Path, text: str, encoding: str = "utf-8-sig") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


# An Excel "CSV UTF-8" re-save of the 2017/19 sheet: displayed values, so `,` and `£` appear.
APC_ROWS = [
    ["HN12C", "Very Major Hip Procedures for Non-Trauma, with CC Score 2-3", "-", "-", "6,320", "£6,320",
     "6", "7,883", "16", "244", "No", "-", "-", *BLANK_BPT],
    ["AA25D", "Cerebral Degenerations, with CC Score 4-8", "-", "-", "982", "2,362", "11", "2,962", "23",
     "254", "Yes", "28%", "829", *BLANK_BPT],
    ["UZ01Z", "Data Invalid for Grouping", *["-"] * 8, "No", "-", "-", *BLANK_BPT],
]  # fmt: skip


def _row(conn, table: str, key: str, value: str) -> dict:
    frame = conn.execute(f"select * from raw.{table} where {key} = ?", [value]).df()
    return frame.iloc[0].to_dict()


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("landing")
    geo = build_geography(load_sub_icbs(("02T", "15F")), np.array([4, 4]), np.random.default_rng(1))
    months = [date(2022, 4, 1), date(2023, 4, 1)]
    gaps = synth_cost.write_cost(geo, 5, out, months, lambda *args, **kwargs: None)
    return out, gaps


# --------------------------------------------------------------------------------------------
# Tariff: APC & OPROC
# --------------------------------------------------------------------------------------------


def test_the_published_workbook_loads_its_apc_sheet_with_the_2017_19_layout(conn, generated):
    out, _ = generated
    files = landing.files_for_period(TARIFF_APC_PRICES, RELEASE, out).files
    assert [f.suffix for f in files] == [".xlsx"]
    result = load_period(conn, TARIFF_APC_PRICES, RELEASE, files)
    assert (result.variants, result.rows_loaded, result.rows_quarantined) == (["ntps_2017_19"], 36, 0)
    hip = _row(conn, "tariff_apc_prices", "hrg_code", "HT12C")
    assert hip["ordinary_elective_price"] == 7440.0 and hip["bpt_name"] == "Fragility hip fracture"


def test_a_csv_re_save_with_the_transcribed_header_strips_separators_and_pounds(conn, tmp_path):
    path = write(tmp_path / "APC_OPROC_22-23.csv", csv_text(APC_2017, APC_ROWS))
    result = load_period(conn, TARIFF_APC_PRICES, RELEASE, [path])
    assert (result.variants, result.rows_loaded, result.rows_quarantined) == (["ntps_2017_19"], 3, 0)
    hip = _row(conn, "tariff_apc_prices", "hrg_code", "HN12C")
    assert (hip["day_case_price"], hip["ordinary_elective_price"], hip["non_elective_price"]) == (
        6320.0,
        6320.0,
        7883.0,
    )
    brain = _row(conn, "tariff_apc_prices", "hrg_code", "AA25D")
    assert (brain["rsse_applicable"], brain["rsse_share"], brain["rsse_price"]) == (True, 0.28, 829.0)


def test_a_dash_is_null_never_zero(conn, tmp_path):
    load_period(
        conn, TARIFF_APC_PRICES, RELEASE, [write(tmp_path / "APC_OPROC.csv", csv_text(APC_2017, APC_ROWS))]
    )
    nulls, zeros = conn.execute(
        "select count(*) filter (where outpatient_procedure_price is null), "
        "count(*) filter (where outpatient_procedure_price = 0 or non_elective_price = 0) "
        "from raw.tariff_apc_prices"
    ).fetchone()
    assert (nulls, zeros) == (3, 0)
    unpriced = _row(conn, "tariff_apc_prices", "hrg_code", "UZ01Z")
    prices = [k for k in unpriced if k.endswith("_price") or k.endswith("_days")]
    assert all(unpriced[k] != unpriced[k] for k in prices), unpriced  # NaN in pandas = SQL NULL


def test_a_non_numeric_price_is_quarantined_with_its_column_and_value(conn, tmp_path):
    rows = [list(r) for r in APC_ROWS]
    rows[0][7] = "TBC"  # Non-elective spell tariff (£)
    path = write(tmp_path / "APC_OPROC.csv", csv_text(APC_2017, rows))
    result = load_period(conn, TARIFF_APC_PRICES, RELEASE, [path])
    assert (result.rows_loaded, result.rows_quarantined) == (2, 1)
    assert result.quarantine_reasons == {"Non-elective spell tariff (£)": 1}
    line, reason = conn.execute("select line, reason from meta.quarantine").fetchone()
    assert (line, reason) == (2, "Non-elective spell tariff (£): TBC is not a valid double")


def test_a_renamed_price_column_names_the_file_the_column_and_the_closest_layout(conn, tmp_path):
    header = [c.replace("Non-elective spell tariff (£)", "Non elective spell tariff (£)") for c in APC_2017]
    path = write(tmp_path / "renamed.csv", csv_text(header, APC_ROWS))
    with pytest.raises(UnknownSchemaVariant) as error:
        load_period(conn, TARIFF_APC_PRICES, RELEASE, [path])
    message = str(error.value)
    assert "renamed.csv" in message and "Non elective spell tariff (£)" in message
    # (the hint compares names literally, so it also lists the names matched by pattern)
    assert "Closest known variant is ntps_2017_19: missing ['Non-elective spell tariff (£)'," in message


def test_a_missing_column_names_it(conn, tmp_path):
    drop = APC_2017.index("Day case spell tariff (£)")
    header = [c for i, c in enumerate(APC_2017) if i != drop]
    rows = [[v for i, v in enumerate(r) if i != drop] for r in APC_ROWS]
    with pytest.raises(UnknownSchemaVariant, match=r"missing \['Day case spell tariff \(£\)',"):
        load_period(
            conn, TARIFF_APC_PRICES, RELEASE, [write(tmp_path / "APC_OPROC.csv", csv_text(header, rows))]
        )


def test_the_2016_17_and_payment_scheme_layouts_are_told_apart(conn, tmp_path):
    old = write(tmp_path / "a" / "APC_OPROC_16-17.csv", csv_text(APC_2017[:13], [r[:13] for r in APC_ROWS]))
    assert load_period(conn, TARIFF_APC_PRICES, date(2016, 4, 1), [old]).variants == ["ntps_2016_17"]
    nhsps = TARIFF_APC_PRICES.variant("nhsps_2023").columns
    row = ["HN12C", "Hip", "-", "6,320", "6", "7,883", "16", "244", "No", "-", "-"]
    new = write(tmp_path / "b" / "APC_OPROC_23-24.csv", csv_text(nhsps, [row]))
    assert load_period(conn, TARIFF_APC_PRICES, date(2023, 4, 1), [new]).variants == ["nhsps_2023"]
    assert conn.execute(
        "select combined_day_case_elective_price, day_case_price from raw.tariff_apc_prices "
        "where _period = '2023-04-01'"
    ).fetchone() == (6320.0, None)


def test_transcribed_names_also_match_the_workbook_cells_they_stand_for():
    assert published_pattern("HRG code") is None
    cases = {
        "Reduced short stay emergency tariff _applicable?": (
            "Reduced short stay emergency tariff\napplicable?"
        ),
        'Area BPT Name applies (see also tab "07#BPTs")': 'Area BPT Name applies (see also tab "07.BPTs")',
        "Where BPT applies:_NE = Non-elective spell tariff_DC/EL = Day ca": (
            "Where BPT applies: NE = Non-elective spell tariff DC/EL = Day case / ordinary elective"
        ),
        "% applied in calculation of reduced short stay emergency tariff ": (
            "% applied in calculation of reduced short stay emergency tariff"
        ),
    }
    for transcribed, cell in cases.items():
        pattern = published_pattern(transcribed)
        assert pattern and __import__("re").fullmatch(pattern, cell), transcribed


def test_a_re_delivered_release_replaces_the_first_and_the_newest_file_wins(conn, tmp_path):
    folder = tmp_path / TARIFF_APC_PRICES.name / "2022-04"
    first = write(folder / "APC_OPROC_22-23.csv", csv_text(APC_2017, APC_ROWS))
    load_period(
        conn, TARIFF_APC_PRICES, RELEASE, landing.files_for_period(TARIFF_APC_PRICES, RELEASE, tmp_path).files
    )
    corrected = [list(r) for r in APC_ROWS]
    corrected[0][7] = "7,900"
    second = write(folder / "APC_OPROC_22-23_v2.csv", csv_text(APC_2017, corrected))
    os.utime(second, (first.stat().st_mtime + 60, first.stat().st_mtime + 60))
    found = landing.files_for_period(TARIFF_APC_PRICES, RELEASE, tmp_path)
    assert (found.files, found.superseded) == ((second,), (first,))
    load_period(conn, TARIFF_APC_PRICES, RELEASE, found.files)
    assert conn.execute("select count(*) from raw.tariff_apc_prices").fetchone()[0] == 3
    assert _row(conn, "tariff_apc_prices", "hrg_code", "HN12C")["non_elective_price"] == 7900.0
    assert conn.execute("select count(*) from meta.load_log").fetchone()[0] == 1


def test_a_cp1252_csv_re_save_loads(conn, tmp_path):
    path = write(tmp_path / "APC_OPROC.csv", csv_text(APC_2017, APC_ROWS), encoding="cp1252")
    assert load_period(conn, TARIFF_APC_PRICES, RELEASE, [path]).rows_loaded == 3


def test_a_workbook_whose_header_cells_hold_line_breaks_loads(conn, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "1 APC & OPROC"
    sheet.append([c.strip().replace("_", "\n").replace("#", ".") for c in APC_2017])
    for row in APC_ROWS:
        sheet.append(row)
    path = tmp_path / "2223_national_tariff_workbook.xlsx"
    book.save(path)
    assert load_period(conn, TARIFF_APC_PRICES, RELEASE, [path]).rows_loaded == 3


def test_a_workbook_whose_table_starts_in_column_b_loads(conn, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "1 APC & OPROC"
    sheet.append(["", "2022/23 admitted patient care and outpatient procedure prices"])
    sheet.append(["", *(c.strip() for c in APC_2017)])
    for row in APC_ROWS:
        sheet.append(["", *row])
    path = tmp_path / "2223_national_tariff_workbook.xlsx"
    book.save(path)
    assert load_period(conn, TARIFF_APC_PRICES, RELEASE, [path]).rows_loaded == 3


# --------------------------------------------------------------------------------------------
# Tariff: outpatient attendances
# --------------------------------------------------------------------------------------------


def test_outpatient_prices_load_from_the_workbook_and_from_a_transcribed_csv(conn, generated, tmp_path):
    out, _ = generated
    files = landing.files_for_period(TARIFF_OP_ATTENDANCE_PRICES, RELEASE, out).files
    result = load_period(conn, TARIFF_OP_ATTENDANCE_PRICES, RELEASE, files)
    assert (result.variants, result.rows_loaded) == (["ntps_2017_19_outpatients_workbook"], 19)
    assert conn.execute(
        "select first_single_price, first_multi_price from raw.tariff_op_attendance_prices "
        "where treatment_function_code = '650'"
    ).fetchone() == (58.0, None)

    header = TARIFF_OP_ATTENDANCE_PRICES.variant("ntps_2017_19_outpatients").columns
    rows = [["110", "Trauma and Orthopaedic Service", "146", "197", "91", "-"]]
    path = write(tmp_path / "Outpatients_17-18.csv", csv_text(header, rows))
    result = load_period(conn, TARIFF_OP_ATTENDANCE_PRICES, date(2017, 4, 1), [path])
    assert result.variants == ["ntps_2017_19_outpatients"]
    assert conn.execute(
        "select first_multi_price, follow_up_multi_price from raw.tariff_op_attendance_prices "
        "where _period = '2017-04-01'"
    ).fetchone() == (197.0, None)


# --------------------------------------------------------------------------------------------
# NCC organisation-level File 1
# --------------------------------------------------------------------------------------------

NCC_HEADER = [
    "Provider Code",
    "Department Code",
    "Service Code",
    "Currency Code",
    "Activity",
    "Actual Cost",
    "Expected Cost",
    "National Mean",
]
NCC_ROWS = [
    ["RA0", "EL", "110", "HN12C", "10", "60000.00", "48000.00", "4800.00"],
    ["RA1", "EL", "110", "HN12C", "*", "*", "*", "4800.00"],
    ["RA0", "CL", "110", "WF01A", "2,150", "195650.00", "193500.00", "90.00"],
]


@pytest.mark.parametrize(
    ("delimiter", "variant"), [(",", "provider_code_comma"), ("\t", "provider_code_tab")]
)
def test_ncc_file1_loads_tab_or_comma_with_a_bom_and_star_is_null(conn, tmp_path, delimiter, variant):
    path = write(
        tmp_path / "Organisation_level_source_data_1_2223 v2.csv", csv_text(NCC_HEADER, NCC_ROWS, delimiter)
    )
    assert path.read_bytes()[:3] == b"\xef\xbb\xbf"
    result = load_period(conn, NCC_ORG_UNIT_COSTS, RELEASE, [path])
    assert (result.variants, result.rows_loaded, result.rows_quarantined) == ([variant], 3, 0)
    suppressed = conn.execute(
        "select activity, actual_cost, national_mean from raw.ncc_org_unit_costs where provider_code = 'RA1'"
    ).fetchone()
    assert suppressed == (None, None, 4800.0)
    assert conn.execute(
        "select activity from raw.ncc_org_unit_costs where currency_code = 'WF01A'"
    ).fetchone() == (2150.0,)


def test_ncc_header_aliases_are_variants_in_any_column_order(conn, tmp_path):
    aliases = {
        "Provider Code": "Org Code",
        "Department Code": "Dept Code",
        "Currency Code": "Currency",
        "Activity": "Total Activity",
    }
    header = [aliases.get(c, c) for c in NCC_HEADER]
    order = [3, 0, 1, 2, 5, 4, 7, 6]
    text = csv_text([header[i] for i in order], [[r[i] for i in order] for r in NCC_ROWS], "\t")
    result = load_period(
        conn, NCC_ORG_UNIT_COSTS, RELEASE, [write(tmp_path / "NCC_FY2022-23_Org_File1.csv", text)]
    )
    assert result.variants == ["org_code_tab"]
    underscore = [c.replace("National Mean", "National_Mean") for c in NCC_HEADER]
    path = write(tmp_path / "b.csv", csv_text(underscore, NCC_ROWS))
    assert load_period(conn, NCC_ORG_UNIT_COSTS, RELEASE, [path]).variants == ["national_underscore_comma"]
    assert conn.execute("select sum(actual_cost) from raw.ncc_org_unit_costs").fetchone()[0] == 255650.0


def test_ncc_missing_column_is_named(conn, tmp_path):
    header = [c for c in NCC_HEADER if c != "Actual Cost"]
    rows = [[v for c, v in zip(NCC_HEADER, r, strict=True) if c != "Actual Cost"] for r in NCC_ROWS]
    with pytest.raises(UnknownSchemaVariant, match=r"missing \['Actual Cost'\]"):
        load_period(conn, NCC_ORG_UNIT_COSTS, RELEASE, [write(tmp_path / "f.csv", csv_text(header, rows))])


def test_ncc_non_numeric_cost_is_quarantined_and_a_missing_currency_is_refused(conn, tmp_path):
    rows = [list(r) for r in NCC_ROWS] + [[p, *NCC_ROWS[0][1:]] for p in ("RB0", "RB1")]
    rows[0][5] = "60k"
    rows[2][3] = ""
    result = load_period(
        conn, NCC_ORG_UNIT_COSTS, RELEASE, [write(tmp_path / "f.csv", csv_text(NCC_HEADER, rows))]
    )
    assert (result.rows_loaded, result.rows_quarantined) == (3, 2)
    assert result.quarantine_reasons == {"Actual Cost": 1, "Currency Code": 1}


def test_the_generated_ncc_release_is_a_zip_with_one_bom_csv(generated):
    out, _ = generated
    (path,) = landing.files_for_period(NCC_ORG_UNIT_COSTS, RELEASE, out).files
    assert path.name == "Organisation_level_source_data_1_2223.zip"
    conn = duckdb.connect()
    result = load_period(conn, NCC_ORG_UNIT_COSTS, RELEASE, [path])
    assert result.variants == ["national_underscore_tab"] and result.rows_quarantined == 0
