"""HES admitted patient care and outpatients: real layouts, generated extracts, bad input."""

from __future__ import annotations

import hashlib
import zipfile
from datetime import date

import numpy as np
import pytest

from orchestration.defs.activity.feeds import HES_APC, HES_OPA
from orchestration.lib import landing
from orchestration.lib.loader import ShrunkDelivery, UnknownSchemaVariant, load_period
from orchestration.synth import geography, hospital_activity
from orchestration.synth.activity_base import acute_trusts
from tests.conftest import real_file, requires_real_formats
from tests.helpers import SAMPLE, write

MONTH = date(2022, 5, 1)
TRUST_MONTH = "where procode3 = ? and strftime(_period, '%Y-%m') = ?"


@requires_real_formats
def test_the_artificial_hes_apc_file_loads_every_episode(conn):
    path = real_file("hes_artificial/artificial_hes_apc_0102_first1500.csv")
    result = load_period(conn, HES_APC, date(2001, 4, 1), [path])
    assert (result.rows_loaded, result.rows_quarantined, result.variants) == (1499, 0, ["hes_apc_csv"])
    first = conn.execute(
        "select epikey, admidate, disdate, epiorder, admimeth, startage, procode3, diag_4_01, diag_all, "
        "opertn_4_01 from raw.hes_apc where _line = 2"
    ).fetchone()
    assert first == (
        "513700125763",
        date(2001, 9, 27),
        None,
        1,
        "28",
        34,
        "RTA",
        "F321",
        "F321,Z370,I500,Z740,O721",
        "-",
    )
    # Every date in the file parses (the artificial data has no record integrity, but valid dates).
    assert conn.execute("select count(*) from raw.hes_apc where admidate is null").fetchone()[0] == 0


@requires_real_formats
def test_the_artificial_hes_outpatient_file_loads_every_appointment(conn):
    path = real_file("hes_artificial/artificial_hes_op_0304_first1000.csv")
    result = load_period(conn, HES_OPA, date(2003, 4, 1), [path])
    assert (result.rows_loaded, result.rows_quarantined, result.variants) == (1000, 0, ["hes_opa_csv"])
    counts = dict(conn.execute("select attended, count(*) from raw.hes_opa group by 1").fetchall())
    assert counts["5"] == 806  # attended on time, as in the file
    assert sum(counts.values()) == 1000


def _sample_extract(feed: str, month: str) -> str:
    (archive,) = (SAMPLE / feed / month).glob("*.zip")
    with zipfile.ZipFile(archive) as handle:
        (member,) = handle.namelist()
        return handle.read(member).decode()


def test_the_sample_apc_extract_is_pipe_delimited_and_loads_whole(conn):
    (path,) = landing.files_for_period(HES_APC, MONTH, SAMPLE).files
    text = _sample_extract("hes_apc", "2022-05")
    result = load_period(conn, HES_APC, MONTH, [path])
    assert result.variants == ["hes_apc_dars_pipe"]
    assert (result.rows_loaded, result.rows_quarantined) == (text.count("\n") - 1, 0)
    # Every episode of the month's extract ended in that month (the landing convention).
    outside = conn.execute(
        "select count(*) from raw.hes_apc where date_trunc('month', epiend) != _period"
    ).fetchone()[0]
    assert outside == 0


def test_an_extract_without_dismeth_still_loads_with_discharge_method_empty(conn, tmp_path):
    text = _sample_extract("hes_apc", "2022-05")
    header, *rows = text.splitlines()
    columns = header.split("|")
    drop = columns.index("DISMETH")
    cut = "\n".join(
        "|".join(f for i, f in enumerate(line.split("|")) if i != drop) for line in [header, *rows]
    )
    result = load_period(conn, HES_APC, MONTH, [write(tmp_path / "HES_APC_202205.txt", cut + "\n")])
    assert (result.rows_loaded, result.rows_quarantined) == (len(rows), 0)
    assert conn.execute("select count(dismeth) from raw.hes_apc").fetchone()[0] == 0


def test_a_sus_spell_extract_loads_into_the_same_columns(conn, tmp_path):
    text = (
        "APCS_Ident,Der_Pseudo_NHS_Number,Admission_Date,Discharge_Date,Admission_Method,"
        "Patient_Classification,Der_Age_at_CDS_Activity_Date,Sex,GP_Practice_Code,Der_Provider_Code,"
        "Der_Diagnosis_All,Spell_Core_HRG_SUS,Der_Spell_LoS,Tariff_Total_Payment\n"
        '900001,ABC,2022-05-02,2022-05-09,21,1,81,2,A81001,RA0,"||I639 ,E119",AA35F,7,"3,109.00"\n'
        "900002,DEF,2022-05-10,2022-05-10,11,2,70,1,A81002,RA1,H251,BZ34B,0,842\n"
    )
    result = load_period(conn, HES_APC, MONTH, [write(tmp_path / "APCS_202205.csv", text)])
    assert (result.rows_loaded, result.variants) == (2, ["sus_apcs_spell"])
    rows = conn.execute(
        "select epikey, spell_id, admimeth, sushrg, spell_los, sus_tariff_total, diag_all "
        "from raw.hes_apc order by epikey"
    ).fetchall()
    assert rows[0] == ("900001", "900001", "21", "AA35F", 7, 3109.0, "||I639 ,E119")
    assert rows[1][5] == 842.0


def test_an_extract_missing_a_core_field_names_it(conn, tmp_path):
    text = _sample_extract("hes_apc", "2022-05").replace("EPIKEY|", "EPI_KEY|", 1)
    with pytest.raises(UnknownSchemaVariant, match=r"missing \['EPIKEY'\]"):
        load_period(conn, HES_APC, MONTH, [write(tmp_path / "HES_APC_202205.txt", text)])


def test_a_semicolon_delimited_extract_is_reported_as_a_delimiter_problem(conn, tmp_path):
    text = _sample_extract("hes_opa", "2022-05").replace("|", ";")
    with pytest.raises(UnknownSchemaVariant, match="is the delimiter wrong"):
        load_period(conn, HES_OPA, MONTH, [write(tmp_path / "HES_OPA_202205.txt", text)])


def test_a_headerless_extract_is_refused(conn, tmp_path):
    text = _sample_extract("hes_opa", "2022-05").split("\n", 1)[1]
    with pytest.raises(UnknownSchemaVariant, match="header is not a known"):
        load_period(conn, HES_OPA, MONTH, [write(tmp_path / "HES_OPA_202205.txt", text)])


def test_bad_values_and_a_truncated_record_are_quarantined_with_counts(conn, tmp_path):
    header, *rows = _sample_extract("hes_apc", "2022-05").splitlines()
    columns = header.split("|")
    first = rows[0].split("|")
    first[columns.index("EPIORDER")] = "x"
    second = rows[1].split("|")
    second[columns.index("ADMIDATE")] = "2022-13-45"
    rows[0], rows[1] = "|".join(first), "|".join(second)
    rows[5] = rows[5][: len(rows[5]) // 2]  # a record cut short inside the file (line 7)
    result = load_period(
        conn, HES_APC, MONTH, [write(tmp_path / "HES_APC_202205.txt", "\n".join([header, *rows]))]
    )
    assert (result.rows_loaded, result.rows_quarantined) == (len(rows) - 3, 3)
    reasons = [r for (r,) in conn.execute("select reason from meta.quarantine order by line").fetchall()]
    assert reasons[0] == "EPIORDER: x is not a valid integer"
    assert reasons[1] == "ADMIDATE: 2022-13-45 is not a valid date"
    assert reasons[2].startswith("MISSING COLUMNS")
    assert conn.execute("select max(line) from meta.quarantine").fetchone()[0] == 7


def test_a_much_smaller_redelivery_is_refused_unless_accepted(conn, tmp_path, monkeypatch):
    (path,) = landing.files_for_period(HES_OPA, MONTH, SAMPLE).files
    first = load_period(conn, HES_OPA, MONTH, [path])
    text = _sample_extract("hes_opa", "2022-05")
    header, *rows = text.splitlines()
    smaller = write(tmp_path / "HES_OPA_202205.txt", "\n".join([header, *rows[:100]]))
    with pytest.raises(ShrunkDelivery, match=rf"100 rows would replace the {first.rows_loaded:,} loaded"):
        load_period(conn, HES_OPA, MONTH, [smaller])
    assert conn.execute("select count(*) from raw.hes_opa").fetchone()[0] == first.rows_loaded
    monkeypatch.setenv("ACCEPT_SMALLER_DELIVERY", "hes_opa/2022-05")
    again = load_period(conn, HES_OPA, MONTH, [smaller])
    assert again.rows_loaded == 100 < first.rows_loaded
    assert conn.execute("select count(*) from raw.hes_opa").fetchone()[0] == 100


# --------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    geo = geography.build_geography(
        geography.load_sub_icbs(("02T", "15F", "36J")), np.array([6, 6, 6]), np.random.default_rng(1)
    )
    months = [date(2023, m, 1) for m in range(1, 7)]
    runs = []
    for name in ("a", "b"):
        out = tmp_path_factory.mktemp(name)
        gaps = hospital_activity.write_hospital_activity(
            geo, 7, out, months, lambda *a, **k: None, "national"
        )
        runs.append((out, gaps))
    return geo, months, runs


def test_the_generator_is_deterministic(tiny):
    _, _, ((a, gaps_a), (b, gaps_b)) = tiny
    digest = lambda root: {  # noqa: E731
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file()
    }
    assert digest(a) == digest(b) and gaps_a == gaps_b
    assert len(digest(a)) == 12  # 6 months × APC and OPA


def test_the_planted_gaps_are_in_the_files(conn, tiny):
    geo, months, ((out, gaps), _) = tiny
    for spec in (HES_APC, HES_OPA):
        for month in months:
            load_period(conn, spec, month, landing.files_for_period(spec, month, out).files)
    by_kind = {(g.kind, g.feed): (g.org_code, g.period) for g in gaps}
    counts = {
        (code, f"{period:%Y-%m}"): n
        for code, period, n in conn.execute(
            "select procode3, _period, count(*) from raw.hes_apc group by all"
        ).fetchall()
    }
    trust, period = by_kind[("missing_provider_month", "hes_apc")]
    assert counts.get((trust, period), 0) == 0
    assert all(counts.get((trust, f"{m:%Y-%m}"), 0) > 0 for m in months if f"{m:%Y-%m}" != period)
    trust, period = by_kind[("partial_submission", "hes_apc")]
    usual = np.median([n for (c, p), n in counts.items() if c == trust and p != period])
    assert 0.25 < counts[(trust, period)] / usual < 0.55
    trust, period = by_kind[("default_code", "hes_apc")]
    share = conn.execute(
        "select avg((gpprac = 'V81999')::int) from raw.hes_apc " + TRUST_MONTH,
        [trust, period],
    ).fetchone()[0]
    assert 0.08 < share < 0.16
    trust, period = by_kind[("unpriced_hrg", "hes_apc")]
    assert (
        conn.execute(
            "select count(*) from raw.hes_apc " + TRUST_MONTH + " and sushrg = 'UZ01Z'",
            [trust, period],
        ).fetchone()[0]
        > 0
    )
    _, period = by_kind[("missing_field", "hes_apc")]
    dismeth = dict(
        conn.execute(
            "select strftime(_period, '%Y-%m'), count(dismeth) from raw.hes_apc group by 1"
        ).fetchall()
    )
    assert dismeth[period] == 0 and all(n > 0 for p, n in dismeth.items() if p != period)
    assert {g.org_code for g in gaps if g.org_code} <= {t.code for t in acute_trusts(geo)}


def test_volumes_and_age_patterns_look_like_englands(conn, tiny):
    geo, months, ((out, _), _) = tiny
    month = months[2]
    load_period(conn, HES_APC, month, landing.files_for_period(HES_APC, month, out).files)
    load_period(conn, HES_OPA, month, landing.files_for_period(HES_OPA, month, out).files)
    patients = geo.practices["list_size"].sum()
    episodes = conn.execute("select count(*) from raw.hes_apc").fetchone()[0]
    appointments = conn.execute("select count(*) from raw.hes_opa").fetchone()[0]
    # England: about 1.6M episodes and 10M appointments a month for 62M patients.
    assert 18 < 1000 * episodes / patients < 32
    assert 120 < 1000 * appointments / patients < 200
    # Strokes are in the old; births to women of 15-44.
    stroke_age = conn.execute(
        "select median(startage) from raw.hes_apc where diag_4_01 like 'I6%'"
    ).fetchone()[0]
    assert stroke_age > 65
    ages = conn.execute(
        "select min(startage), max(startage), min(sex), max(sex) from raw.hes_apc where sushrg = 'NZ30C'"
    ).fetchone()
    assert ages[0] >= 15 and ages[1] <= 49 and ages[2] == ages[3] == "2"
