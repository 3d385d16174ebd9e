"""A&E SitRep and ECDS/HES A&E loaders: NHS England's six real 2025 SitRep files and NHS
Digital's artificial HES A&E file load with their values; bad input gets a specific error or a
quarantine with counts; the suites catch what only other rows reveal."""

from __future__ import annotations

import csv
import io
import os
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.defs.urgent_care.feeds import AE_MONTHLY, ECDS
from orchestration.lib import landing, validation
from orchestration.lib.loader import ShrunkDelivery, TruncatedFile, UnknownSchemaVariant, load_period
from tests.conftest import REAL_FORMATS, requires_real_formats
from tests.helpers import write

AE_DIR = REAL_FORMATS / "ae_monthly"
HES_AE = REAL_FORMATS / "hes_artificial" / "artificial_hes_ae_0708_first1000.csv"

# file → (month, rows loaded with the total row, its total row label, Type 1 attendances on it)
REAL_SITREPS = {
    "Monthly-AE-April-2025.csv": (date(2025, 4, 1), 199, "TOTAL", 1354645),
    "Monthly-AE-May-2025.csv": (date(2025, 5, 1), 201, "TOTAL", 1418862),
    "Monthly-AE-June-2025-1-1.csv": (date(2025, 6, 1), 202, "TOTAL", 1395330),
    "July-2025-CSV-9jfy4.csv": (date(2025, 7, 1), 202, "TOTAL", 1433180),
    "August-2025-CSV-g5tyh-v2.0.csv": (date(2025, 8, 1), 202, "TOTAL", 1351631),
    "September-2025-Csv-7hjr2.csv": (date(2025, 9, 1), 202, "Total", 1385429),
}
APRIL = date(2025, 4, 1)


def _suite(feed: str, concern: str) -> validation.SuiteFile:
    (suite,) = [s for s in validation.suite_files(feed) if s.name == f"{feed}__{concern}"]
    return suite


def _failures(outcome: validation.SuiteOutcome) -> dict[str | None, tuple[str, int | None]]:
    return {f.column: (f.severity, f.unexpected_count) for f in outcome.failed}


@pytest.fixture(scope="module")
def real_sitreps():
    """The six files loaded into their months, as a landing folder would hold them."""
    conn = duckdb.connect()
    results = {
        name: load_period(conn, AE_MONTHLY, month, [AE_DIR / name])
        for name, (month, *_rest) in REAL_SITREPS.items()
    }
    yield conn, results
    conn.close()


def _april_text() -> str:
    return (AE_DIR / "Monthly-AE-April-2025.csv").read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------------
# The real SitRep files
# --------------------------------------------------------------------------------------------


@requires_real_formats
@pytest.mark.real_formats
@pytest.mark.parametrize("name", list(REAL_SITREPS))
def test_each_real_sitrep_file_loads_every_row_with_its_total_row_flagged(real_sitreps, name):
    conn, results = real_sitreps
    month, rows, label, type_1_total = REAL_SITREPS[name]
    result = results[name]
    assert (result.rows_loaded, result.rows_quarantined, result.variants) == (rows, 0, ["msitae_2025"])
    assert landing._matches(AE_MONTHLY, Path(name))  # NHS England's download name is recognised
    total = conn.execute(
        "select period, org_code, parent_org, attendances_type_1 from raw.ae_monthly "
        "where _period = ? and is_total_row",
        [month],
    ).fetchall()
    assert total == [(label, label, label, type_1_total)]
    stated = conn.execute(
        "select distinct period from raw.ae_monthly where _period = ? and not is_total_row", [month]
    ).fetchall()
    assert stated == [("MSitAE-" + month.strftime("%B").upper() + f"-{month.year}",)]


@requires_real_formats
@pytest.mark.real_formats
def test_real_values_trailing_spaces_and_quoted_names_are_read_as_published(real_sitreps):
    conn, _ = real_sitreps
    row = conn.execute(
        "select parent_org, org_name, attendances_type_1, attendances_type_2, attendances_other, "
        "booked_attendances_type_1, over_4h_type_1, dta_4_to_12h, dta_over_12h, "
        "emergency_admissions_type_1, other_emergency_admissions "
        "from raw.ae_monthly where _period = ? and org_code = 'RHW'",
        [APRIL],
    ).fetchone()
    # 'NHS ENGLAND SOUTH EAST ' is published with a trailing space; the loader trims it
    assert row == (
        "NHS ENGLAND SOUTH EAST",
        "ROYAL BERKSHIRE NHS FOUNDATION TRUST",
        10298,
        2462,
        2087,
        1217,
        4206,
        672,
        25,
        2214,
        460,
    )
    assert conn.execute(
        "select org_name, attendances_type_1 from raw.ae_monthly where _period = ? and org_code = 'RCX'",
        [APRIL],
    ).fetchone() == ("THE QUEEN ELIZABETH HOSPITAL, KING'S LYNN, NHS FOUNDATION TRUST", 6646)
    regions = {
        r[0]
        for r in conn.execute(
            "select distinct parent_org from raw.ae_monthly where not is_total_row"
        ).fetchall()
    }
    assert regions == {
        "NHS ENGLAND EAST OF ENGLAND",
        "NHS ENGLAND LONDON",
        "NHS ENGLAND MIDLANDS",
        "NHS ENGLAND NORTH EAST AND YORKSHIRE",
        "NHS ENGLAND NORTH WEST",
        "NHS ENGLAND SOUTH EAST",
        "NHS ENGLAND SOUTH WEST",
    }


@requires_real_formats
@pytest.mark.real_formats
def test_the_real_files_pass_the_structure_and_reconciliation_suites(real_sitreps):
    conn, _ = real_sitreps
    structure = validation.run_suite(conn, _suite("ae_monthly", "structure"))
    assert structure.passed, [f.describe() for f in structure.failed]
    assert structure.rows_validated == sum(r[1] for r in REAL_SITREPS.values())
    reconciliation = validation.run_suite(conn, _suite("ae_monthly", "reconciliation"))
    assert reconciliation.passed, [f.describe() for f in reconciliation.failed]
    assert reconciliation.rows_validated == 6 * 18  # six months × 18 measures


@requires_real_formats
@pytest.mark.real_formats
def test_a_real_file_in_the_wrong_month_folder_fails_the_period_check_as_an_error(conn):
    load_period(conn, AE_MONTHLY, date(2025, 5, 1), [AE_DIR / "Monthly-AE-April-2025.csv"])
    outcome = validation.run_suite(conn, _suite("ae_monthly", "structure"))
    assert _failures(outcome) == {"stated_month_is_period": ("error", 198)}


# --------------------------------------------------------------------------------------------
# SitRep bad input (built from the real April file)
# --------------------------------------------------------------------------------------------


@requires_real_formats
def test_a_month_cut_short_never_replaces_the_delivered_month(conn, tmp_path):
    """The real April 2025 SitRep loaded, then re-delivered cut mid-row (refused: the file ends
    mid-record) and cut at a line break after 12 rows (refused: far smaller than the month it
    would replace). The delivered month stays whole."""
    text = _april_text()
    load_period(
        conn, AE_MONTHLY, APRIL, [write(tmp_path / "first" / "Monthly-AE-April-2025.csv", text, "utf-8")]
    )
    cut = text[: text.rstrip("\n").rfind(",")]  # the TOTAL row loses its last field
    with pytest.raises(TruncatedFile, match=r"ends mid-record at line 200 \(with 21 of its 22 fields\)"):
        load_period(conn, AE_MONTHLY, APRIL, [write(tmp_path / "Monthly-AE-April-2025.csv", cut, "utf-8")])
    first_13_lines = "\n".join(text.split("\n")[:13]) + "\n"
    with pytest.raises(ShrunkDelivery, match=r"12 rows would replace the 199 loaded"):
        load_period(
            conn, AE_MONTHLY, APRIL, [write(tmp_path / "Monthly-AE-April-2025.csv", first_13_lines, "utf-8")]
        )
    assert conn.execute("select count(*) from raw.ae_monthly").fetchone()[0] == 199
    assert conn.execute("select count(*) from meta.quarantine").fetchone()[0] == 0


@requires_real_formats
def test_a_wrong_delimiter_is_reported_as_such(conn, tmp_path):
    path = write(tmp_path / "Monthly-AE-April-2025.csv", _april_text().replace(",", ";"), "utf-8")
    with pytest.raises(UnknownSchemaVariant, match="is the delimiter wrong"):
        load_period(conn, AE_MONTHLY, APRIL, [path])


@requires_real_formats
def test_correcting_the_publishers_4_12_hs_typo_is_an_unknown_layout_naming_both_spellings(conn, tmp_path):
    text = _april_text().replace("4-12 hs from DTA", "4-12 hrs from DTA", 1)
    with pytest.raises(UnknownSchemaVariant) as raised:
        load_period(conn, AE_MONTHLY, APRIL, [write(tmp_path / "Monthly-AE-April-2025.csv", text, "utf-8")])
    message = str(raised.value)
    assert "Closest known variant is msitae_2025" in message
    assert "missing ['Patients who have waited 4-12 hs from DTA to admission']" in message
    assert "unexpected ['Patients who have waited 4-12 hrs from DTA to admission']" in message


@requires_real_formats
def test_a_non_numeric_count_is_quarantined_with_column_and_value(conn, tmp_path):
    text = _april_text().replace(
        "ROYAL BERKSHIRE NHS FOUNDATION TRUST,10298,", "ROYAL BERKSHIRE NHS FOUNDATION TRUST,10k,"
    )
    result = load_period(
        conn, AE_MONTHLY, APRIL, [write(tmp_path / "Monthly-AE-April-2025.csv", text, "utf-8")]
    )
    assert (result.rows_loaded, result.rows_quarantined) == (198, 1)
    assert result.quarantine_reasons == {"A&E attendances Type 1": 1}
    assert conn.execute("select reason from meta.quarantine").fetchone() == (
        "A&E attendances Type 1: 10k is not a valid bigint",
    )


@requires_real_formats
def test_not_applicable_dash_is_null_never_zero(conn, tmp_path):
    text = _april_text().replace(",672,25,2214,1,0,460", ",-,-,2214,1,0,460", 1)
    result = load_period(
        conn, AE_MONTHLY, APRIL, [write(tmp_path / "Monthly-AE-April-2025.csv", text, "utf-8")]
    )
    assert result.rows_quarantined == 0
    assert conn.execute(
        "select dta_4_to_12h, dta_over_12h, emergency_admissions_type_1 from raw.ae_monthly "
        "where org_code = 'RHW'"
    ).fetchone() == (None, None, 2214)
    # The TOTAL row still carries the RHW waits, so the reconciliation names the two measures.
    outcome = validation.run_suite(conn, _suite("ae_monthly", "reconciliation"))
    assert _failures(outcome) == {"provider_sum_minus_total": ("warn", 2)}


@requires_real_formats
def test_a_repeated_header_row_is_quarantined_not_loaded_as_data(conn, tmp_path):
    lines = _april_text().split("\n")
    lines.insert(100, lines[0])
    result = load_period(
        conn, AE_MONTHLY, APRIL, [write(tmp_path / "Monthly-AE-April-2025.csv", "\n".join(lines), "utf-8")]
    )
    assert (result.rows_loaded, result.rows_quarantined) == (199, 1)
    (reason,) = conn.execute("select reason from meta.quarantine").fetchone()
    assert reason.startswith("Period: Period is not a valid varchar; A&E attendances Type 1: A&E attendances")
    assert conn.execute("select count(*) from raw.ae_monthly where org_code = 'Org Code'").fetchone() == (0,)


@requires_real_formats
def test_a_provider_row_missing_from_the_file_shows_in_the_total_reconciliation(conn, tmp_path):
    text = "\n".join(line for line in _april_text().split("\n") if ",RHW," not in line)
    load_period(conn, AE_MONTHLY, APRIL, [write(tmp_path / "Monthly-AE-April-2025.csv", text, "utf-8")])
    outcome = validation.run_suite(conn, _suite("ae_monthly", "reconciliation"))
    # RHW has 13 non-zero measures of 18; each now differs from the published TOTAL
    assert _failures(outcome) == {"provider_sum_minus_total": ("warn", 13)}


@requires_real_formats
def test_a_redelivered_month_uses_the_newest_file_and_replaces_the_load(conn, tmp_path):
    folder = tmp_path / AE_MONTHLY.name / "2025-08"
    original = write(folder / "August-2025-CSV-g5tyh.csv", _april_text().replace("APRIL", "AUGUST"), "utf-8")
    revised_text = (AE_DIR / "August-2025-CSV-g5tyh-v2.0.csv").read_text(encoding="utf-8")
    revised = write(folder / "August-2025-CSV-g5tyh-v2.0.csv", revised_text, "utf-8")
    os.utime(original, (1_700_000_000, 1_700_000_000))
    os.utime(revised, (1_700_000_100, 1_700_000_100))
    load_period(conn, AE_MONTHLY, date(2025, 8, 1), [original])
    found = landing.files_for_period(AE_MONTHLY, date(2025, 8, 1), tmp_path)
    assert (found.files, found.superseded) == ((revised,), (original,))
    result = load_period(conn, AE_MONTHLY, date(2025, 8, 1), found.files)
    assert result.rows_loaded == 202
    assert conn.execute("select count(*) from raw.ae_monthly").fetchone() == (202,)
    assert conn.execute("select count(*) from meta.load_log").fetchone() == (1,)


@requires_real_formats
def test_an_era_2_header_loads_as_its_unverified_variant_without_booked_appointments(conn, tmp_path):
    rows = list(csv.reader(io.StringIO(_april_text())))
    header = rows[0]
    booked = [i for i, name in enumerate(header) if "Booked" in name]
    renames = {
        "A&E attendances Type 1": "Number of A&E attendances Type 1",
        "A&E attendances Type 2": "Number of A&E attendances Type 2",
        "A&E attendances Other A&E Department": "Number of A&E attendances Other A&E Department",
        "Attendances over 4hrs Type 1": "Number of attendances over 4hrs Type 1",
        "Attendances over 4hrs Type 2": "Number of attendances over 4hrs Type 2",
        "Attendances over 4hrs Other Department": "Number of attendances over 4hrs Other A&E Department",
    }
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for index, row in enumerate(rows):
        kept = [v for i, v in enumerate(row) if i not in booked]
        writer.writerow([renames.get(v, v) for v in kept] if index == 0 else kept)
    result = load_period(
        conn, AE_MONTHLY, APRIL, [write(tmp_path / "Monthly-AE-April-2025.csv", buffer.getvalue(), "utf-8")]
    )
    assert (result.variants, result.rows_loaded, result.rows_quarantined) == (["msitae_era2"], 199, 0)
    assert conn.execute(
        "select attendances_type_1, over_4h_type_1, booked_attendances_type_1 from raw.ae_monthly "
        "where org_code = 'RHW'"
    ).fetchone() == (10298, 4206, None)


# --------------------------------------------------------------------------------------------
# HES A&E (NHS Digital's artificial file) and ECDS bad input
# --------------------------------------------------------------------------------------------


@requires_real_formats
@pytest.mark.real_formats
def test_the_artificial_hes_ae_file_loads_every_record_with_its_values(conn):
    result = load_period(conn, ECDS, date(2007, 4, 1), [HES_AE])
    assert (result.rows_loaded, result.rows_quarantined, result.variants) == (1000, 0, ["hes_ae"])
    assert conn.execute(
        "select provider_code, provider_code_5, department_type, arrival_date, arrival_time, "
        "age_at_arrival, sex, gp_practice_code, lsoa_2011_code, lsoa_2001_code, discharge_status, diag3_01, "
        "departure_time, duration_minutes, financial_year, activity_month, diagnosis_all "
        "from raw.ecds where attendance_id = '502918283753'"
    ).fetchone() == (
        "RCC",
        "RAX01",
        "99",
        date(2008, 2, 12),
        "1016",
        1,
        "1",
        "C82627",
        "E01007065",
        "E01015677",
        "03",
        "040",
        "0034",
        36,
        "0708",
        None,
        None,
    )
    with HES_AE.open(newline="", encoding="utf-8") as handle:
        published = list(csv.DictReader(handle))
    counts = conn.execute(
        "select count(distinct attendance_id), count(*) filter (where gp_practice_code is null), "
        "count(*) filter (where age_at_arrival between 7001 and 7007), "
        "count(*) filter (where age_at_arrival is null) from raw.ecds"
    ).fetchone()
    # GPPRAC '&' (not known) is NULL; HES writes ages under one as 7001-7007 ('7003.0' here)
    assert counts == (
        len({r["AEKEY"] for r in published}),
        sum(r["GPPRAC"] in ("", "&") for r in published),
        sum(r["ARRIVALAGE"] != "" and 7001 <= float(r["ARRIVALAGE"]) <= 7007 for r in published),
        sum(r["ARRIVALAGE"] == "" for r in published),
    )
    assert counts[1] == 59


@requires_real_formats
@pytest.mark.real_formats
def test_the_same_hes_extract_pipe_delimited_as_dars_ships_it_loads_alike(conn, tmp_path):
    with HES_AE.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    buffer = io.StringIO()
    csv.writer(buffer, delimiter="|", lineterminator="\n").writerows(rows)
    path = write(tmp_path / "NIC12345_HES_AE_200799.txt", buffer.getvalue(), "utf-8")
    assert landing._matches(ECDS, path)
    result = load_period(conn, ECDS, date(2007, 4, 1), [path])
    assert (result.rows_loaded, result.rows_quarantined, result.variants) == (1000, 0, ["hes_ae_dars_pipe"])


ECDS_HEADER = (
    "EC_Ident,Der_Provider_Code,EC_Department_Type,Arrival_Date,Arrival_Time,Age_At_Arrival,Sex,"
    "GP_Practice_Code,Der_Activity_Month,Der_EC_Departure_Date_Time,Der_EC_Duration,Der_EC_Diagnosis_All,"
    "Der_Dupe_Flag,Finished_Indicator,SUS_Tariff,Local_Field"
)
ECDS_ROWS = (
    '1,RA0,01,2022-03-01,10:00:00,34,1,B86001,202203,2022-03-01 14:01:00,241,"22298006,49436004",0,1,243,x',
    "2,RA0,03,2022-03-02,23:30:00,7,2,V81999,202203,2022-03-03 00:40:00,70,,0,1,98,y",
    "3,RA1,01,2022-03-03,08:15:00,81,2,C82627,202203,2022-03-03 09:00:00,45,,0,1,152,z",
)
# Ten more clean records, so a few bad ones stay under the feed's 20% quarantine limit.
MORE_ROWS = tuple(
    f"{100 + i},RA1,01,2022-03-{10 + i},12:00:00,40,1,C82627,202203,2022-03-{10 + i} 13:00:00,60,,0,1,98,m"
    for i in range(10)
)


def _ecds(tmp_path: Path, rows=ECDS_ROWS, header=ECDS_HEADER, name="ECDS_202203.csv") -> Path:
    return write(tmp_path / name, "\n".join([header, *rows]) + "\n", "utf-8")


def test_an_ecds_extract_with_fields_in_any_order_and_local_extras_loads(conn, tmp_path):
    result = load_period(conn, ECDS, date(2022, 3, 1), [_ecds(tmp_path)])
    assert (result.rows_loaded, result.rows_quarantined, result.variants) == (3, 0, ["ecds_sus"])
    assert conn.execute(
        "select attendance_id, department_type, arrival_time, duration_minutes, diagnosis_all, tariff, "
        "lsoa_2011_code from raw.ecds order by attendance_id limit 1"
    ).fetchone() == ("1", "01", "10:00:00", 241, "22298006,49436004", 243.0, None)
    outcome = validation.run_suite(conn, _suite("ecds", "structure"))
    assert outcome.passed, [f.describe() for f in outcome.failed]


def test_an_ecds_extract_without_ec_ident_names_the_missing_field(conn, tmp_path):
    with pytest.raises(
        UnknownSchemaVariant, match=r"Closest known variant is ecds_sus: missing \['EC_Ident'\]"
    ):
        load_period(
            conn, ECDS, date(2022, 3, 1), [_ecds(tmp_path, header=ECDS_HEADER.replace("EC_Ident", "Ident"))]
        )


def test_a_semicolon_separated_extract_is_reported_as_a_wrong_delimiter(conn, tmp_path):
    rows = [r.replace(",", ";") for r in ECDS_ROWS]
    with pytest.raises(UnknownSchemaVariant, match="is the delimiter wrong"):
        load_period(conn, ECDS, date(2022, 3, 1), [_ecds(tmp_path, rows, ECDS_HEADER.replace(",", ";"))])


def test_a_non_numeric_duration_and_a_bad_date_are_quarantined_with_counts(conn, tmp_path):
    rows = (
        ECDS_ROWS[0].replace(",241,", ",4h,"),
        ECDS_ROWS[1].replace("2022-03-02", "02/03/2022"),
        ECDS_ROWS[2],
        *MORE_ROWS,
    )
    result = load_period(conn, ECDS, date(2022, 3, 1), [_ecds(tmp_path, rows)])
    assert (result.rows_loaded, result.rows_quarantined) == (11, 2)
    assert result.quarantine_reasons == {"Arrival_Date": 1, "Der_EC_Duration": 1}


def test_a_truncated_extract_quarantines_the_cut_record(conn, tmp_path):
    rows = (*MORE_ROWS, *ECDS_ROWS[:2], ECDS_ROWS[2][: ECDS_ROWS[2].rfind(",")])
    result = load_period(conn, ECDS, date(2022, 3, 1), [_ecds(tmp_path, rows)])
    assert (result.rows_loaded, result.rows_quarantined) == (12, 1)
    line, reason = conn.execute("select line, reason from meta.quarantine").fetchone()
    assert line == 14 and reason.startswith("MISSING COLUMNS")


def test_a_redelivered_ecds_month_replaces_the_first_extract(conn, tmp_path):
    load_period(conn, ECDS, date(2022, 3, 1), [_ecds(tmp_path)])
    load_period(conn, ECDS, date(2022, 3, 1), [_ecds(tmp_path, ECDS_ROWS[:2], name="ECDS_202203_v2.csv")])
    assert conn.execute("select count(*), max(_source_file) from raw.ecds").fetchone() == (
        2,
        "ECDS_202203_v2.csv",
    )


def test_the_ecds_structure_suite_names_each_broken_rule_as_an_error(conn, tmp_path):
    rows = (
        ECDS_ROWS[0],
        ECDS_ROWS[0],  # EC_Ident 1 twice
        # leaves before arriving; 10,081 minutes; a practice code that is no ODS code; February
        "4,RA1,01,2022-03-04,10:00:00,50,1,12345,202203,2022-03-04 09:00:00,10081,,0,1,98,q",
        "5,RA1,01,2022-02-10,10:00:00,50,1,C82627,202202,2022-02-10 11:00:00,60,,0,1,98,q",
    )
    load_period(conn, ECDS, date(2022, 3, 1), [_ecds(tmp_path, rows)])
    outcome = validation.run_suite(conn, _suite("ecds", "structure"))
    assert _failures(outcome) == {
        "repeated_ec_idents": ("error", 1),
        "departures_before_arrival": ("error", 1),
        "durations_out_of_range": ("error", 1),
        "malformed_practice_codes": ("error", 1),
        "records_outside_period": ("error", 1),
    }
