"""Every real reference file loads through the loaders; counts and values come from the files.

Expected values are computed here with Python's csv module, independently of DuckDB.
"""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date

import pytest

from orchestration.defs.reference.feeds import (
    ECCG,
    EPRACCUR,
    GP_PRACTICE_MAP,
    GP_REGISTERED_PATIENTS,
)
from orchestration.lib.loader import load_period
from tests.conftest import REAL_FORMATS, real_file, requires_real_formats

pytestmark = [requires_real_formats, pytest.mark.real_formats]
PERIOD = date(2020, 1, 1)


def _records(path, header: bool):
    with path.open(newline="", encoding="latin-1") as handle:
        rows = list(csv.reader(handle))
    return (rows[0], rows[1:]) if header else (None, rows)


@pytest.mark.parametrize("path", sorted((REAL_FORMATS / "epraccur").glob("*.csv")), ids=lambda p: p.name)
def test_epraccur_files_load_every_row_with_dates_and_settings(conn, path):
    _, rows = _records(path, header=False)
    result = load_period(conn, EPRACCUR, PERIOD, [path])
    assert (result.rows_loaded, result.rows_quarantined) == (len(rows), 0)
    assert result.variants == ["ods_standard_27"]
    loaded = conn.execute(
        "select organisation_code, name, strftime(open_date, '%Y%m%d'), "
        "coalesce(strftime(close_date, '%Y%m%d'), ''), "
        "status_code, provider_purchaser_code, prescribing_setting from raw.ods_epraccur order by _line"
    ).fetchall()
    expected = [(r[0], r[1], r[10], r[11], r[12], r[23], int(r[25])) for r in rows]
    assert loaded == expected


@requires_real_formats
def test_epraccur_2016_counts_closed_practices_and_settings(conn):
    path = real_file("epraccur/epraccur_2016-02_first1500.csv")
    load_period(conn, EPRACCUR, PERIOD, [path])
    _, rows = _records(path, header=False)
    settings = dict(
        conn.execute("select prescribing_setting, count(*) from raw.ods_epraccur group by 1").fetchall()
    )
    assert settings == {int(k): v for k, v in Counter(r[25] for r in rows).items()}
    closed = conn.execute("select count(*) from raw.ods_epraccur where close_date is not null").fetchone()[0]
    assert closed == sum(1 for r in rows if r[11])
    assert conn.execute(
        "select name, open_date from raw.ods_epraccur where organisation_code = 'A81001'"
    ).fetchone() == ("THE DENSHAM SURGERY", date(1974, 4, 1))


def test_eccg_2018_keeps_merged_ccgs_with_close_dates(conn):
    path = real_file("eccg/eccg_2018-11.csv")
    result = load_period(conn, ECCG, PERIOD, [path])
    _, rows = _records(path, header=False)
    assert result.rows_loaded == len(rows) == 242
    sub_types = dict(
        conn.execute("select organisation_sub_type_code, count(*) from raw.ods_eccg group by 1").fetchall()
    )
    assert sub_types == dict(Counter(r[13] for r in rows)) == {"C": 213, "H": 29}
    closed = conn.execute("select count(*) from raw.ods_eccg where close_date is not null").fetchone()[0]
    assert closed == sum(1 for r in rows if r[11]) == 18


@pytest.mark.parametrize(
    ("name", "variant"),
    [
        ("gp-reg-pat-prac-map_2022-01_first1500.csv", "ccg_stp_2021"),
        ("gp-reg-pat-prac-map_2025-10_first1500.csv", "sub_icb_supplier_2025"),
    ],
)
def test_practice_map_variants_load_with_their_own_commissioner_columns(conn, name, variant):
    path = real_file(f"gp_registered_patients/{name}")
    header, rows = _records(path, header=True)
    result = load_period(conn, GP_PRACTICE_MAP, PERIOD, [path])
    assert result.variants == [variant]
    assert (result.rows_loaded, result.rows_quarantined) == (len(rows), 0)
    column = "CCG_CODE" if "CCG_CODE" in header else "SUB_ICB_LOCATION_CODE"
    expected = Counter(r[header.index(column)] for r in rows)
    loaded = dict(
        conn.execute("select commissioner_code, count(*) from raw.gp_practice_map group by 1").fetchall()
    )
    assert loaded == dict(expected)
    first = conn.execute(
        "select practice_code, commissioner_code, parent_code, extract_date, supplier_name "
        "from raw.gp_practice_map where _line = 2"
    ).fetchone()
    assert first[:3] == ("A81001", "16C", "QHM")
    assert first[3] == (date(2022, 1, 1) if "2022" in name else date(2025, 10, 1))
    assert first[4] == (None if "2022" in name else "TPP")


@pytest.mark.parametrize(
    "name",
    [
        "gp-reg-pat-prac-quin-age_2017-09_4practices.csv",
        "gp-reg-pat-prac-quin-age_2017-10_4practices.csv",
        "gp-reg-pat-prac-all_2021-01_first1500.csv",
    ],
)
def test_registered_patients_totals_match_the_file(conn, name):
    path = real_file(f"gp_registered_patients/{name}")
    header, rows = _records(path, header=True)
    result = load_period(conn, GP_REGISTERED_PATIENTS, PERIOD, [path])
    assert (result.rows_loaded, result.rows_quarantined) == (len(rows), 0)
    n = header.index("NUMBER_OF_PATIENTS")
    assert conn.execute("select sum(number_of_patients) from raw.gp_registered_patients").fetchone()[
        0
    ] == sum(int(r[n]) for r in rows)
    variant = "quin_age_org_2017" if "quin" in name else "prac_ccg_2021"
    assert result.variants == [variant]


def test_quinary_bands_and_sex_totals_add_up_to_the_practice_total(conn):
    load_period(
        conn,
        GP_REGISTERED_PATIENTS,
        PERIOD,
        [real_file("gp_registered_patients/gp-reg-pat-prac-quin-age_2017-09_4practices.csv")],
    )
    rows = conn.execute(
        """select org_code,
            sum(number_of_patients) filter (where sex = 'ALL' and age_band = 'ALL') as total,
            sum(number_of_patients) filter (where sex != 'ALL' and age_band != 'ALL') as bands
        from raw.gp_registered_patients group by 1 order by 1"""
    ).fetchall()
    assert len(rows) == 4
    assert all(total == bands for _, total, bands in rows)
    assert ("B85010", 6939, 6939) in rows
