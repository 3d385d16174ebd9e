"""Loader behaviour the bad-input suite (test_bad_input_suite.py) does not cover case by case:
line numbers past refused lines at scale, quarantine of a missing required value, refusal of a
mostly broken file, the previous month kept on failure, archives read in place, Latin-1 names."""

from __future__ import annotations

import zipfile
from datetime import date

import pytest

from orchestration.defs.reference.feeds import EPRACCUR, GP_REGISTERED_PATIENTS
from orchestration.lib import settings
from orchestration.lib.loader import (
    FeedLoadError,
    TooManyRejectedRows,
    load_period,
)
from tests.helpers import sample_text, write

MONTH = date(2021, 1, 1)


@pytest.fixture
def quin_age() -> str:
    """The first 5 practices (216 rows + header) of the sample's January 2021 file."""
    lines = sample_text("gp_registered_patients", "2021-01").split("\r\n")
    return "\r\n".join(lines[: 1 + 5 * 43]) + "\r\n"


def _count(conn, sql: str) -> int:
    return conn.execute(sql).fetchone()[0]


def test_a_clean_file_loads_every_row(conn, tmp_path, quin_age):
    result = load_period(conn, GP_REGISTERED_PATIENTS, MONTH, [write(tmp_path / "q.csv", quin_age)])
    assert (result.rows_loaded, result.rows_quarantined) == (215, 0)


def test_a_short_record_inside_the_file_is_quarantined_with_its_line(conn, tmp_path, quin_age):
    lines = quin_age.split("\r\n")
    lines[100] = lines[100][: lines[100].rfind(",")]  # line 101 loses its final field
    result = load_period(conn, GP_REGISTERED_PATIENTS, MONTH, [write(tmp_path / "q.csv", "\r\n".join(lines))])
    assert (result.rows_loaded, result.rows_quarantined) == (214, 1)
    line, reason = conn.execute("select line, reason from meta.quarantine").fetchone()
    assert line == 101
    assert reason.startswith("MISSING COLUMNS")


def test_every_row_keeps_its_published_line_past_refused_lines_in_a_file_read_in_parallel(conn, tmp_path):
    """2.6 million rows (~190 MB: large enough that DuckDB reads it in parallel and, without the
    loader keeping file order, returns rows out of order) whose patient count is their own line
    number; lines 10 and 2,000,000 are cut short (refused by the reader) and line 1,250,000 has a
    count that is not a number (refused by typing). Under the warehouse's own settings, which
    drop insertion order for speed."""
    for name, value in settings.duckdb_config().items():
        conn.execute(f"set {name} = '{value}'")
    header = "PUBLICATION,EXTRACT_DATE,ORG_TYPE,ORG_CODE,ONS_CODE,POSTCODE,SEX,AGE_GROUP_5,NUMBER_OF_PATIENTS"
    lines = [header] + [
        f"GP_PRAC_PAT_LIST,01JAN2021,GP,B{line % 90000 + 10000},,HX9 6KD,MALE,0_4,{line}"
        for line in range(2, 2_600_002)
    ]
    lines[9] = "GP_PRAC_PAT_LIST,01JAN2021,GP,B80001"
    lines[1_999_999] = "GP_PRAC_PAT_LIST,01JAN2021,GP,B80001,,HX9 6KD"
    lines[1_249_999] = lines[1_249_999].rsplit(",", 1)[0] + ",12a"
    result = load_period(
        conn, GP_REGISTERED_PATIENTS, MONTH, [write(tmp_path / "q.csv", "\r\n".join(lines) + "\r\n")]
    )
    assert (result.rows_loaded, result.rows_quarantined) == (2_599_997, 3)
    misnumbered = "select count(*) from raw.gp_registered_patients where _line <> number_of_patients"
    assert _count(conn, misnumbered) == 0
    assert conn.execute("select line from meta.quarantine order by line").fetchall() == [
        (10,),
        (1_250_000,),
        (2_000_000,),
    ]


def test_a_missing_required_value_is_quarantined(conn, tmp_path, quin_age):
    lines = quin_age.split("\r\n")
    fields = lines[5].split(",")
    fields[3] = ""  # ORG_CODE
    lines[5] = ",".join(fields)
    load_period(conn, GP_REGISTERED_PATIENTS, MONTH, [write(tmp_path / "q.csv", "\r\n".join(lines))])
    assert (
        conn.execute("select reason from meta.quarantine").fetchone()[0]
        == "ORG_CODE: required value is missing"
    )


def test_a_mostly_broken_file_is_refused_and_the_previous_month_kept(conn, tmp_path, quin_age):
    load_period(conn, GP_REGISTERED_PATIENTS, MONTH, [write(tmp_path / "good.csv", quin_age)])
    lines = quin_age.split("\r\n")
    broken = [lines[0]] + [line.rsplit(",", 1)[0] + ",n/a" for line in lines[1:] if line]
    with pytest.raises(TooManyRejectedRows, match="previous data for 2021-01 kept"):
        load_period(
            conn,
            GP_REGISTERED_PATIENTS,
            MONTH,
            [write(tmp_path / "broken.csv", "\r\n".join(broken))],
        )
    assert _count(conn, "select count(*) from raw.gp_registered_patients") == 215
    assert _count(conn, "select count(*) from meta.load_log") == 1
    assert conn.execute("select source_file from meta.load_log").fetchone()[0].endswith("good.csv")


def test_a_redelivered_month_replaces_the_earlier_load_exactly(conn, tmp_path, quin_age):
    path = write(tmp_path / "q.csv", quin_age)
    first = load_period(conn, GP_REGISTERED_PATIENTS, MONTH, [path])
    second = load_period(conn, GP_REGISTERED_PATIENTS, MONTH, [path])
    assert (
        first.rows_loaded
        == second.rows_loaded
        == _count(conn, "select count(*) from raw.gp_registered_patients")
    )
    assert _count(conn, "select count(*) from meta.load_log") == 1
    # another month is untouched by the replacement
    load_period(conn, GP_REGISTERED_PATIENTS, date(2021, 2, 1), [path])
    load_period(conn, GP_REGISTERED_PATIENTS, MONTH, [path])
    assert _count(conn, "select count(*) from raw.gp_registered_patients") == 2 * 215


def test_a_failure_mid_load_leaves_the_previous_data(conn, tmp_path, quin_age):
    good = write(tmp_path / "good.csv", quin_age)
    load_period(conn, GP_REGISTERED_PATIENTS, MONTH, [good])
    with pytest.raises(FeedLoadError):
        load_period(conn, GP_REGISTERED_PATIENTS, MONTH, [good, tmp_path / "does-not-exist.csv"])
    assert _count(conn, "select count(*) from raw.gp_registered_patients") == 215


def test_zip_archives_are_read_without_touching_the_file(conn, tmp_path, quin_age):
    archive = tmp_path / "gp-reg-pat-prac-quin-age.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("gp-reg-pat-prac-quin-age.csv", quin_age)
    before = archive.read_bytes()
    result = load_period(conn, GP_REGISTERED_PATIENTS, MONTH, [archive])
    assert result.rows_loaded == 215
    assert archive.read_bytes() == before
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as handle:
        handle.writestr("a.csv", quin_age)
        handle.writestr("b.csv", quin_age)
    with pytest.raises(FeedLoadError, match=r"exactly one \.csv"):
        load_period(conn, GP_REGISTERED_PATIENTS, MONTH, [two])


def test_latin1_names_survive(conn, tmp_path):
    row = (
        ['"A81001"', '"CAFÉ SURGERY"']
        + ['""'] * 8
        + ['"19740401"', '""', '"A"']
        + ['""'] * 12
        + ['"4"', '""']
    )
    path = write(tmp_path / "epraccur.csv", ",".join(row) + "\r\n", encoding="latin-1")
    load_period(conn, EPRACCUR, MONTH, [path])
    assert conn.execute("select name from raw.ods_epraccur").fetchone()[0] == "CAFÉ SURGERY"


def test_a_utf8_bom_and_lf_line_endings_are_read_as_published(conn, tmp_path, quin_age):
    text = "\ufeff" + quin_age.replace("\r\n", "\n")
    result = load_period(
        conn, GP_REGISTERED_PATIENTS, MONTH, [write(tmp_path / "q.csv", text, encoding="utf-8")]
    )
    assert (result.rows_loaded, result.rows_quarantined, result.variants) == (215, 0, ["quin_age_org_2017"])
