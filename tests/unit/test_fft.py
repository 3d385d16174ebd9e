"""FFT: generated raw files load with their variants, the suites pass clean data and name a bad total,
a new spelling is refused by name, the publisher's suppression rules on a hand-worked example, and
the workbook helper finds the header of the real publication template."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from orchestration.defs.experience.fft import (
    FFT_AE,
    FFT_FEEDS,
    FFT_INPATIENT,
    PUBLISHED_SHEET,
)
from orchestration.defs.experience.fft_suppression import suppress_fft, suppressed_parents
from orchestration.lib import landing, validation
from orchestration.lib.loader import UnknownSchemaVariant, detect_variant, load_period
from orchestration.lib.workbook import (
    find_header_row,
    flatten_header,
    variant_first_columns,
    workbook_sheet_to_csv,
)
from orchestration.synth import fft as synth_fft
from orchestration.synth.geography import build_geography, load_sub_icbs
from tests.conftest import REAL_FORMATS, requires_real_formats

MONTHS = [date(2025, 2, 1), date(2025, 3, 1), date(2025, 4, 1)]
LIKERT = ["very_good", "good", "neither_good_nor_poor", "poor", "very_poor", "dont_know"]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("landing")
    rng = np.random.default_rng(7)
    subs = load_sub_icbs(("02T", "11X", "12F"))
    geo = build_geography(subs, np.array([3, 3, 3]), rng)
    receipts = []
    gaps = synth_fft.write_fft(geo, rng, out, MONTHS, lambda *args: receipts.append(args))
    return out, gaps, receipts


@pytest.fixture(scope="module")
def loaded(generated):
    out, _, _ = generated
    conn = duckdb.connect()
    results = {}
    for spec in FFT_FEEDS:
        for month in landing.available_periods(spec, out):
            files = landing.files_for_period(spec, month, out).files
            results[(spec.name, month)] = load_period(conn, spec, month, files)
    yield conn, results
    conn.close()


def _suite(feed: str) -> validation.SuiteFile:
    (suite,) = [s for s in validation.suite_files(feed) if s.name.endswith("structure")]
    return suite


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def test_the_generator_writes_one_raw_file_per_month_per_setting_with_planted_gaps(generated):
    out, gaps, receipts = generated
    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.csv"))
    assert names == sorted(
        [f"fft_inpatient/{m:%Y-%m}/FFT-inpatient-raw-{m:%b-%Y}.csv" for m in MONTHS]
        + [f"fft_ae/{m:%Y-%m}/FFT-ae-raw-{m:%b-%Y}.csv" for m in MONTHS]
    )
    assert len(receipts) == 6
    assert {g.kind for g in gaps} == {"fft_missing_trust_month", "fft_small_count"}
    header, rows = _rows(out / "fft_inpatient" / "2025-04" / "FFT-inpatient-raw-Apr-2025.csv")
    assert {r[header.index("Yearnumber")] for r in rows} == {"2025_26"}
    assert {r[header.index("Periodname")] for r in rows} == {"APRIL"}
    _, older = _rows(out / "fft_ae" / "2025-02" / "FFT-ae-raw-Feb-2025.csv")
    assert {r[0] for r in older} == {"2024-25"}


def test_both_settings_load_with_their_raw_variant_and_the_planted_rows(generated, loaded):
    _, gaps, _ = generated
    conn, results = loaded
    assert {r.variants[0] for r in results.values()} == {"raw_organisation"}
    assert all(r.rows_quarantined == 0 for r in results.values())
    missing = next(g for g in gaps if g.kind == "fft_missing_trust_month")
    small = next(g for g in gaps if g.kind == "fft_small_count")
    counts = dict(
        conn.execute(
            "select strftime(_period, '%Y-%m'), count(*) from raw.fft_inpatient group by 1"
        ).fetchall()
    )
    # 3 ICBs x 2 trusts, one left out in the planted month
    assert counts == {f"{m:%Y-%m}": 6 - (f"{m:%Y-%m}" == missing.period) for m in MONTHS}
    assert conn.execute("select count(*) from raw.fft_ae").fetchone()[0] == 18
    assert conn.execute(
        "select total_responses from raw.fft_inpatient where org_code = ? and strftime(_period, '%Y-%m') = ?",
        [small.org_code, small.period],
    ).fetchone() == (3,)
    positive = conn.execute(
        "select sum(very_good + good) / sum(total_responses) from raw.fft_inpatient"
    ).fetchone()[0]
    assert positive == pytest.approx(0.94, abs=0.02)
    ae_positive = conn.execute(
        "select sum(very_good + good) / sum(total_responses) from raw.fft_ae"
    ).fetchone()[0]
    assert ae_positive == pytest.approx(0.80, abs=0.03)


@pytest.mark.parametrize("feed", [FFT_INPATIENT.name, FFT_AE.name])
def test_the_structure_suites_pass_on_the_generated_data(loaded, feed):
    conn, _ = loaded
    outcome = validation.run_suite(conn, _suite(feed), MONTHS[0], MONTHS[-1])
    assert outcome.passed, [f.describe() for f in outcome.failed]
    assert outcome.rows_validated > 0


def test_a_total_that_is_not_the_sum_of_the_likert_counts_fails_with_error(generated, tmp_path):
    out, _, _ = generated
    source = out / "fft_ae" / "2025-03" / "FFT-ae-raw-Mar-2025.csv"
    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    frame.loc[2, "Total Responses"] = str(int(frame.loc[2, "Total Responses"]) + 1)
    broken = tmp_path / source.name
    broken.write_bytes(frame.to_csv(index=False, lineterminator="\r\n").encode("utf-8"))
    conn = duckdb.connect()
    load_period(conn, FFT_AE, MONTHS[1], [broken])
    outcome = validation.run_suite(conn, _suite(FFT_AE.name), MONTHS[1], MONTHS[1])
    failures = {f.column: (f.severity, f.unexpected_count) for f in outcome.failed}
    assert failures["total_is_sum_of_likert"] == ("error", 1)
    assert outcome.severity == "error"


def test_a_file_dropped_in_the_wrong_month_folder_fails_the_stated_month_check(generated):
    out, _, _ = generated
    conn = duckdb.connect()
    load_period(conn, FFT_AE, MONTHS[1], [out / "fft_ae" / "2025-02" / "FFT-ae-raw-Feb-2025.csv"])
    outcome = validation.run_suite(conn, _suite(FFT_AE.name))
    failures = {f.column: (f.severity, f.unexpected_count) for f in outcome.failed}
    assert failures == {"stated_month_is_period": ("error", 6)}


def test_suppressed_counts_load_as_null_and_are_not_checked_against_the_total(generated, tmp_path):
    out, _, _ = generated
    source = out / "fft_inpatient" / "2025-03" / "FFT-inpatient-raw-Mar-2025.csv"
    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    frame.loc[0, ["1 Very Good SUM", "2 Good SUM", "Prop_Pos"]] = ["*", "*", "-"]
    path = tmp_path / source.name
    path.write_bytes(frame.to_csv(index=False, lineterminator="\r\n").encode("utf-8"))
    conn = duckdb.connect()
    result = load_period(conn, FFT_INPATIENT, MONTHS[1], [path])
    assert result.rows_quarantined == 0
    assert conn.execute(
        "select count(*) from raw.fft_inpatient where very_good is null and prop_pos is null"
    ).fetchone() == (1,)
    assert validation.run_suite(conn, _suite(FFT_INPATIENT.name)).passed


def test_dont_know_spelt_with_an_apostrophe_is_an_unknown_layout_naming_the_column(generated, tmp_path):
    out, _, _ = generated
    source = out / "fft_inpatient" / "2025-02" / "FFT-inpatient-raw-Feb-2025.csv"
    text = source.read_text(encoding="utf-8").replace("6 Dont Know SUM", "6 Don't Know SUM", 1)
    path = tmp_path / source.name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UnknownSchemaVariant) as raised:
        load_period(duckdb.connect(), FFT_INPATIENT, MONTHS[0], [path])
    message = str(raised.value)
    assert "Closest known variant is raw_organisation" in message
    assert "missing ['6 Dont Know SUM']" in message
    assert 'unexpected ["6 Don\'t Know SUM"]' in message


def test_a_count_with_a_fraction_is_quarantined_not_rounded(generated, tmp_path):
    out, _, _ = generated
    source = out / "fft_ae" / "2025-02" / "FFT-ae-raw-Feb-2025.csv"
    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    frame.loc[1, "4 Poor"] = "12.5"
    path = tmp_path / source.name
    path.write_bytes(frame.to_csv(index=False, lineterminator="\r\n").encode("utf-8"))
    conn = duckdb.connect()
    result = load_period(conn, FFT_AE, MONTHS[0], [path])
    assert (result.rows_loaded, result.rows_quarantined) == (5, 1)
    (reason,) = conn.execute("select reason from meta.quarantine").fetchone()
    assert reason == "4 Poor: 12.5 is not a valid bigint"


# --------------------------------------------------------------------------------------------
# Suppression, worked by hand
# --------------------------------------------------------------------------------------------


def _children(rows: list[tuple[str, str, int]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["icb", "trust", "total"])
    for i, col in enumerate(LIKERT):
        frame[col] = frame["total"] // 6 + (i < frame["total"] % 6)
    return frame


def test_a_child_with_3_responses_is_first_level_and_the_next_lowest_second_level():
    frame = _children(
        [
            ("Q1", "T3", 3),
            ("Q1", "T7", 7),
            ("Q1", "T9", 9),
            ("Q1", "T40", 40),
            ("Q2", "U0", 0),
            ("Q2", "U8", 8),
        ]
    )
    out = suppress_fft(frame, "icb", "trust", "total", LIKERT, parent_suppressed=())
    reasons = dict(zip(out["trust"], out["suppression_reason"], strict=True))
    assert reasons == {"T3": "first", "T7": "second", "T9": None, "T40": None, "U0": None, "U8": None}
    assert out.loc[out["trust"] == "T3", LIKERT].isna().all(axis=None)
    assert out.loc[out["trust"] == "T7", LIKERT].isna().all(axis=None)
    assert out.loc[out["trust"] == "T9", "very_good"].item() == 2
    assert out.loc[out["trust"] == "U0", "very_good"].item() == 0  # 0 responses are not suppressed
    assert list(out["total"]) == [3, 7, 9, 40, 0, 8]  # totals stay published


def test_a_suppressed_parent_cascades_to_its_two_lowest_children():
    frame = _children([("Q1", "A", 3), ("Q2", "B", 30), ("Q2", "C", 6), ("Q2", "D", 8), ("Q3", "E", 200)])
    # Parent totals 3, 44, 200: Q1 is first-level, Q2 (next lowest nationally) second-level.
    assert suppressed_parents(frame, "icb", "total") == {"Q1", "Q2"}
    out = suppress_fft(frame, "icb", "trust", "total", LIKERT)
    reasons = dict(zip(out["trust"], out["suppression_reason"], strict=True))
    assert reasons == {"A": "first", "B": None, "C": "cascade", "D": "cascade", "E": None}
    assert out.loc[out["trust"].isin(["C", "D"]), LIKERT].isna().all(axis=None)
    explicit = suppress_fft(frame, "icb", "trust", "total", LIKERT, parent_suppressed={"Q3"})
    assert dict(zip(explicit["trust"], explicit["suppression_reason"], strict=True))["E"] == "cascade"


def test_suppression_names_a_missing_column():
    with pytest.raises(KeyError, match="no column"):
        suppress_fft(_children([("Q1", "A", 3)]), "icb", "trust", "responses", LIKERT)


# --------------------------------------------------------------------------------------------
# Workbooks
# --------------------------------------------------------------------------------------------


def test_a_header_split_over_two_rows_is_flattened_and_a_totals_row_is_not():
    top = ["ICB Code", "Trust Code", "Total Responses", "Breakdown of Responses", "", "Mode of Collection"]
    below = ["", "", "", "Very Good", "Good", "Mode SMS"]
    assert flatten_header(top, below) == [
        "ICB Code",
        "Trust Code",
        "Total Responses",
        "Very Good",
        "Good",
        "Mode SMS",
    ]
    assert flatten_header(top, ["", "", "England"]) == top
    assert find_header_row([["x"], ["", ""], top, below], [("ICB Code", "Trust Code")]) == 2


def test_a_raw_sheet_round_trips_through_the_workbook_helper(generated, tmp_path):
    from openpyxl import Workbook

    out, _, _ = generated
    source = out / "fft_inpatient" / "2025-03" / "FFT-inpatient-raw-Mar-2025.csv"
    header, rows = _rows(source)
    book = Workbook()
    sheet = book.active
    sheet.title = "Parent & Self Trusts - Organisa"
    sheet.append(["Inpatient FFT, March 2025"])
    sheet.append([])
    sheet.append(header)
    for row in rows:
        sheet.append([float(v) if v.replace(".", "", 1).isdigit() else v for v in row])
    book.save(tmp_path / "FFT_Inpatients_V1 Mar-25.xlsx")
    csv_path = workbook_sheet_to_csv(
        tmp_path / "FFT_Inpatients_V1 Mar-25.xlsx",
        "Parent & Self Trusts - Organisa",
        first_columns=variant_first_columns(FFT_INPATIENT),
        out_dir=tmp_path / "csv",
    )
    back_header, back = _rows(csv_path)
    assert back_header == header and len(back) == len(rows)
    rates = [header.index("Response Rate"), header.index("Prop_Pos")]
    for ours, theirs in zip(back, rows, strict=True):
        # whole numbers come back without '.0'; Excel keeps ~15-16 significant digits of a rate
        assert [v for i, v in enumerate(ours) if i not in rates] == [
            v for i, v in enumerate(theirs) if i not in rates
        ]
        assert [float(ours[i]) for i in rates] == pytest.approx([float(theirs[i]) for i in rates], rel=1e-14)
    conn = duckdb.connect()
    result = load_period(conn, FFT_INPATIENT, MONTHS[1], [csv_path])
    assert (result.variants, result.rows_loaded, result.rows_quarantined) == (
        ["raw_organisation"],
        len(rows),
        0,
    )


@pytest.mark.skipif(
    not (REAL_FORMATS / "fft" / "FFT_AE_template.xlsm").is_file(), reason="FFT_AE_template.xlsm not present"
)
def test_the_real_ae_template_trusts_sheet_gives_the_published_header(tmp_path):
    template = REAL_FORMATS / "fft" / "FFT_AE_template.xlsm"
    csv_path = workbook_sheet_to_csv(
        template, PUBLISHED_SHEET, first_columns=variant_first_columns(FFT_AE), out_dir=tmp_path
    )
    header, rows = _rows(csv_path)
    assert header[:7] == [
        "ICB Code",
        "Trust Code",
        "Trust Name",
        "Total Responses",
        "Total Eligible",
        "Percentage Positive",
        "Percentage Negative",
    ]
    assert header[7:13] == ["Very Good", "Good", "Neither Good nor Poor", "Poor", "Very Poor", "Don't Know"]
    assert header[13] == "Mode SMS" and "Mode Electronic Home" not in header
    assert detect_variant(FFT_AE, csv_path).name == "published_trusts"
    # The template holds no trusts: only England / selection rows and a '-' filler row.
    assert [row[1] for row in rows] == ["", "", "-"]
    assert [row[2] for row in rows][:2] == ["England", "Selection (excluding suppressed data)"]
    # An explicit header row (Excel numbering) gives the same header.
    again = workbook_sheet_to_csv(template, PUBLISHED_SHEET, header_row=3, out_dir=tmp_path / "again")
    assert _rows(again)[0] == header


@requires_real_formats
def test_the_published_ae_workbook_is_read_as_shipped(conn, tmp_path):
    """The real NHS England template lands as a workbook: the loader finds its Trusts sheet and
    header and reads the published layout. The template holds only its England and Selection
    formula rows, which name no trust, so the load is refused with that reason and the file is
    left untouched."""
    import shutil

    from orchestration.lib.loader import TooManyRejectedRows

    landed = tmp_path / "FFT-ae-data-July-2025.xlsm"
    shutil.copy(REAL_FORMATS / "fft" / "FFT_AE_template.xlsm", landed)
    before = landed.read_bytes()
    with pytest.raises(TooManyRejectedRows, match="Trust Code: required value is missing"):
        load_period(conn, FFT_AE, date(2025, 7, 1), [landed])
    assert landed.read_bytes() == before


def test_a_workbook_without_the_data_sheet_names_the_sheets_it_has(conn, tmp_path):
    from openpyxl import Workbook

    from orchestration.lib.loader import FeedLoadError

    book = Workbook()
    book.active.title = "Notes"
    path = tmp_path / "FFT_AE_V1 March-25.xlsx"
    book.save(path)
    with pytest.raises(
        FeedLoadError, match=r"none of the sheets .* is in the workbook \(it has \['Notes'\]\)"
    ):
        load_period(conn, FFT_AE, date(2025, 3, 1), [path])


def test_what_we_publish_applies_first_and_second_level_suppression_and_recomputes_percentages():
    from orchestration.defs.experience.publish import LIKERT, extract_csv, publishable

    rows = [
        # ICB QAA: a trust with 3 responses (first level) and its only sibling (second level)
        ("inpatient", "2022-12-01", "QAA", "RA5", (2, 1, 0, 0, 0, 0)),
        ("inpatient", "2022-12-01", "QAA", "RA4", (600, 150, 20, 10, 10, 5)),
        # ICB QBB: nothing small
        ("inpatient", "2022-12-01", "QBB", "RB1", (500, 100, 50, 25, 25, 0)),
        ("inpatient", "2022-12-01", "QBB", "RB2", (300, 100, 0, 0, 0, 0)),
    ]
    frame = pd.DataFrame(
        [
            {"setting": s, "period_month": pd.Timestamp(m), "icb_code": i, "trust_code": t, "trust_name": t}
            | dict(zip(LIKERT, counts, strict=True))
            | {"total_responses": sum(counts)}
            for s, m, i, t, counts in rows
        ]
    )
    shared = publishable(frame).set_index("trust_code")
    assert shared["suppression_reason"].to_dict() == {
        "RA5": "first",
        "RA4": "second",
        "RB1": None,
        "RB2": None,
    }
    assert shared.loc["RA5", "very_good"] is None and pd.isna(shared.loc["RA4", "percentage_positive"])
    assert shared.loc["RB1", "percentage_positive"] == pytest.approx(600 / 700)
    assert shared.loc["RB2", "percentage_negative"] == 0
    text = extract_csv(shared.reset_index())
    ra5 = next(line for line in text.splitlines() if ",RA5," in line)
    assert ra5.count("*") == len(LIKERT) + 3  # six Likert counts, responses and both percentages
    assert ",first," in ra5 and ",2022-12," in ra5
