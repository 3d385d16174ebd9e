"""QOF prevalence and achievement: the shipped real-format files load with the files' own values,
every published layout is recognised (and an older one refused by name), suppressed cells are
NULL with a flag, the planted gaps are named by the suites, and the generator's files agree with
the list-size feed and with each other."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime
from pathlib import Path

import duckdb
import numpy as np
import pytest

from orchestration.defs.primary_care.qof import (
    PREVALENCE_GROUP_CODE_2019,
    PREVALENCE_INDICATOR_GROUP_2015,
    QOF_ACHIEVEMENT,
    QOF_PREVALENCE,
)
from orchestration.defs.reference.feeds import GP_REGISTERED_PATIENTS
from orchestration.lib import landing, validation
from orchestration.lib.loader import UnknownSchemaVariant, load_period
from orchestration.synth import geography, population
from orchestration.synth import qof as synth_qof
from orchestration.synth.manifest import ReceiptLog
from tests.helpers import SAMPLE

REPO_ROOT = Path(__file__).resolve().parents[2]
MODELS = REPO_ROOT / "dbt_project" / "models"
YEARS = {date(2020, 4, 1): "2020/21", date(2021, 4, 1): "2021/22"}
PREVALENCE_FILES = {
    date(2020, 4, 1): "PREVALENCE_2021_v2.csv",
    date(2021, 4, 1): "PREVALENCE_2122_V2.csv",
}
ACHIEVEMENT_FILES = {date(2020, 4, 1): "ACHIEVEMENT_2021_v2.csv", date(2021, 4, 1): "ACHIEVEMENT_2122.csv"}
QOF_GAPS = [
    g
    for g in json.loads((SAMPLE / "_manifest.json").read_text())["gaps"]
    if g["feed"] in (QOF_PREVALENCE.name, QOF_ACHIEVEMENT.name)
]


def _gap(kind: str) -> dict:
    (gap,) = [g for g in QOF_GAPS if g["kind"] == kind]
    return gap


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def _write(path: Path, header: list[str] | tuple[str, ...], rows: list[list[str]]) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([header, *rows])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def _model_sql(relative: str) -> str:
    """A staging model as plain DuckDB SQL: comments dropped, source and macro filled in."""
    sql = re.sub(r"\{#.*?#\}", "", (MODELS / relative).read_text(), flags=re.S)
    label = "cast(year(_period) as varchar) || '/' || right(cast(year(_period) + 1 as varchar), 2)"
    for feed in ("qof_prevalence", "qof_achievement"):
        sql = sql.replace("{{ source('raw', '" + feed + "') }}", f"raw.{feed}")
    sql = sql.replace("{{ financial_year_label('_period') }}", label)
    assert "{{" not in sql, sql
    return sql


def _load_sample(conn: duckdb.DuckDBPyConnection) -> dict:
    results = {}
    for spec in (QOF_PREVALENCE, QOF_ACHIEVEMENT):
        for period in landing.available_periods(spec, SAMPLE):
            files = landing.files_for_period(spec, period, SAMPLE).files
            results[spec.name, period] = load_period(conn, spec, period, files)
    return results


@pytest.fixture(scope="module")
def loaded():
    conn = duckdb.connect()
    results = _load_sample(conn)
    conn.execute(
        f"create view stg_prevalence as {_model_sql('staging/primary_care/stg_nhsd__qof_prevalence.sql')}"
    )
    conn.execute(
        f"create view stg_achievement as {_model_sql('staging/primary_care/stg_nhsd__qof_achievement.sql')}"
    )
    yield conn, results
    conn.close()


# ---- the shipped sample: real layouts, the files' own values ----------------------------------


def test_each_year_loads_in_the_publishers_layout_for_that_year_with_every_row(loaded):
    _, results = loaded
    assert sorted(results) == sorted(
        [(QOF_PREVALENCE.name, p) for p in YEARS] + [(QOF_ACHIEVEMENT.name, p) for p in YEARS]
    )
    for (feed, period), result in results.items():
        files = PREVALENCE_FILES if feed == QOF_PREVALENCE.name else ACHIEVEMENT_FILES
        path = SAMPLE / feed / f"{period:%Y-%m}" / files[period]
        _, rows = _rows(path)
        assert [f.path.name for f in result.files] == [files[period]]
        # arrival from the receipt log: the same lag every year, so never "late"
        assert [f.received_at for f in result.files] == [datetime(period.year + 1, 10, 18, 9, 30)]
        assert (result.rows_loaded, result.rows_quarantined) == (len(rows), 0)
        expected = "prevalence_practice_list_2020" if feed == QOF_PREVALENCE.name else "achievement_national"
        assert result.variants == [expected]


def test_prevalence_values_are_the_files_values_as_published_then_typed(loaded):
    conn, _ = loaded
    for period, name in PREVALENCE_FILES.items():
        header, rows = _rows(SAMPLE / QOF_PREVALENCE.name / f"{period:%Y-%m}" / name)
        assert header == [
            "PRACTICE_CODE",
            "GROUP_CODE",
            "REGISTER",
            "PATIENT_LIST_TYPE",
            "PRACTICE_LIST_SIZE",
        ]
        raw = conn.execute(
            "select practice_code, group_code, register, patient_list_type, practice_list_size "
            "from raw.qof_prevalence where _period = ?",
            [period],
        ).fetchall()
        assert sorted(raw) == sorted(tuple(r) for r in rows)
        typed = dict(
            ((code, group), (register, size))
            for code, group, register, size in conn.execute(
                "select practice_code, group_code, register, list_size from stg_prevalence "
                "where financial_year_start = ?",
                [period],
            ).fetchall()
        )
        for code, group, register, _, size in rows[::97]:
            assert typed[code, group] == (None if register == "*" else int(register), int(size))
    years = conn.execute("select distinct financial_year from stg_prevalence order by 1").fetchall()
    assert [y for (y,) in years] == list(YEARS.values())


def test_achievement_values_are_the_files_values_and_points_keep_their_decimals(loaded):
    conn, _ = loaded
    period, name = date(2021, 4, 1), ACHIEVEMENT_FILES[date(2021, 4, 1)]
    header, rows = _rows(SAMPLE / QOF_ACHIEVEMENT.name / "2021-04" / name)
    assert header == ["PRACTICE_CODE", "INDICATOR_CODE", "MEASURE", "VALUE"]
    raw = conn.execute(
        "select practice_code, indicator_code, measure, value from raw.qof_achievement where _period = ?",
        [period],
    ).fetchall()
    assert sorted(raw) == sorted(tuple(r) for r in rows)
    fractional = next(r for r in rows if r[2] == "ACHIEVED_POINTS" and "." in r[3])
    (value,) = conn.execute(
        "select value from stg_achievement where financial_year_start = ? and practice_code = ? "
        "and indicator_code = ? and measure = 'ACHIEVED_POINTS'",
        [period, fractional[0], fractional[1]],
    ).fetchone()
    assert value == float(fractional[3])
    assert {m for (m,) in conn.execute("select distinct measure from raw.qof_achievement").fetchall()} == {
        "REGISTER",
        "NUMERATOR",
        "DENOMINATOR",
        "PCAS",
        "ACHIEVED_POINTS",
    }


def test_the_error_suites_pass_on_the_sample(loaded):
    conn, _ = loaded
    for spec in (QOF_PREVALENCE, QOF_ACHIEVEMENT):
        for suite in validation.suite_files(spec.name):
            outcome = validation.run_suite(conn, suite)
            assert outcome.rows_validated > 0, suite.name
            assert not [f for f in outcome.failed if f.severity == "error"], suite.name


# ---- planted gaps: suppressed cells, a register above its list, a practice closed mid-year -----


def test_a_suppressed_cell_is_null_with_a_flag_never_zero(loaded):
    conn, _ = loaded
    register = _gap("qof_suppressed_register")
    assert conn.execute(
        "select register, is_register_suppressed, list_size > 0 from stg_prevalence "
        "where practice_code = ? and group_code = 'DEM' and financial_year_start = ?",
        [register["org_code"], date.fromisoformat(register["period"] + "-01")],
    ).fetchall() == [(None, True, True)]
    assert conn.execute("select count(*) from stg_prevalence where is_register_suppressed").fetchone() == (1,)
    achievement = _gap("qof_suppressed_achievement")
    suppressed = conn.execute(
        "select measure, value from stg_achievement where practice_code = ? and indicator_code = 'DEM004' "
        "and financial_year_start = ? and is_value_suppressed order by measure",
        [achievement["org_code"], date.fromisoformat(achievement["period"] + "-01")],
    ).fetchall()
    assert suppressed == [("DENOMINATOR", None), ("PCAS", None)]


def test_the_plausibility_suite_names_each_planted_practice_and_no_other(loaded):
    conn, _ = loaded
    (suite,) = [s for s in validation.suite_files(QOF_PREVALENCE.name) if s.name.endswith("plausibility")]
    frame = conn.execute(
        suite.query.replace("{reference_seeds}", str(REPO_ROOT / "seeds" / "reference"))
    ).df()
    above, closed, suppressed = (
        _gap("qof_register_exceeds_list"),
        _gap("qof_practice_closed_mid_year"),
        _gap("qof_suppressed_register"),
    )
    assert frame["register_above_list"].dropna().tolist() == [f"{above['org_code']} AST {above['period']}"]
    assert {c.split()[0] for c in frame["without_list"].dropna()} == {closed["org_code"]}
    assert len(frame["without_list"].dropna()) == len(synth_qof.GROUPS)
    assert frame["suppressed_cell"].dropna().tolist() == [
        f"{suppressed['org_code']} DEM {suppressed['period']}"
    ]
    assert frame["unknown_group"].dropna().tolist() == []
    outcome = validation.run_suite(conn, suite)
    assert not outcome.passed and outcome.severity == "warn"


def test_the_closed_practice_has_registers_but_no_list_and_is_in_no_later_year(loaded):
    conn, _ = loaded
    closed = _gap("qof_practice_closed_mid_year")
    rows = conn.execute(
        "select financial_year, min(register), max(list_size) from stg_prevalence where practice_code = ? "
        "group by all",
        [closed["org_code"]],
    ).fetchall()
    (year, smallest_register, largest_list) = rows[0]
    assert len(rows) == 1 and year == "2020/21"
    assert smallest_register > 0 and largest_list == 0


# ---- the generator's files agree with the list-size feed and with each other -------------------


def test_qof_lists_are_the_list_size_feeds_lists_at_1_april_after_the_year(loaded):
    conn, _ = loaded
    for period in YEARS:
        april = date(period.year + 1, 4, 1)
        files = landing.files_for_period(GP_REGISTERED_PATIENTS, april, SAMPLE).files
        load_period(conn, GP_REGISTERED_PATIENTS, april, files)
        differences = conn.execute(
            "select count(*), count(registered.org_code) from raw.qof_prevalence as qof "
            "left join raw.gp_registered_patients as registered "
            "on registered._period = ? and registered.org_code = qof.practice_code "
            "and registered.sex = 'ALL' and registered.age_band = 'ALL' "
            "where qof._period = ? and qof.patient_list_type = 'TOTAL' and qof.practice_list_size != '0' "
            "and cast(qof.practice_list_size as bigint) is distinct from registered.number_of_patients",
            [april, period],
        ).fetchone()
        assert differences == (0, 0), period


def test_each_register_indicator_counts_the_prevalence_files_register(loaded):
    conn, _ = loaded
    compared, different = conn.execute(
        "select count(*), count(*) filter (where a.value != p.register) from stg_achievement as a "
        "join stg_prevalence as p on a.financial_year_start = p.financial_year_start "
        "and a.practice_code = p.practice_code "
        "and regexp_extract(a.indicator_code, '^([A-Z]+)', 1) = p.group_code "
        "where a.measure = 'REGISTER' and not p.is_register_suppressed"
    ).fetchone()
    assert compared > 3000 and different == 0


def _small_geography(rng: np.random.Generator):
    return geography.build_geography(geography.load_sub_icbs(("02T", "11X", "12F")), np.array([4, 4, 4]), rng)


def _counts_at(geo, months: list[date], rng: np.random.Generator) -> dict[date, np.ndarray]:
    sizes = np.asarray(geo.practices["list_size"], dtype=np.int64)
    return {m: population.cells(sizes, geo.practices["older"], rng) for m in months if m.month in (3, 4)}


def test_the_writer_draws_only_from_its_own_stream_and_repeats_byte_for_byte(tmp_path):
    rng = np.random.default_rng(3)
    geo = _small_geography(rng)
    months = [date(2021, m, 1) for m in range(1, 13)] + [date(2022, m, 1) for m in range(1, 5)]
    counts = _counts_at(geo, months, rng)
    state = rng.bit_generator.state
    logs = ReceiptLog(), ReceiptLog()
    first = synth_qof.write_qof(geo, 7, tmp_path / "a", months, counts, logs[0].receive)
    second = synth_qof.write_qof(geo, 7, tmp_path / "b", months, counts, logs[1].receive)
    assert rng.bit_generator.state == state  # the shared stream is untouched
    assert first == second and logs[0] == logs[1]
    assert {(r.feed, r.period, r.received_at) for r in logs[0].rows} == {
        (feed, f"{year}-04", f"{year + 1}-10-18T09:30:00")
        for feed in (QOF_PREVALENCE.name, QOF_ACHIEVEMENT.name)
        for year in (2020, 2021)
    }
    written = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.csv"))
    assert [str(p) for p in written] == [
        "qof_achievement/2020-04/ACHIEVEMENT_2021_v2.csv",
        "qof_achievement/2021-04/ACHIEVEMENT_2122.csv",
        "qof_prevalence/2020-04/PREVALENCE_2021_v2.csv",
        "qof_prevalence/2021-04/PREVALENCE_2122_V2.csv",
    ]
    for path in written:
        assert (tmp_path / "a" / path).read_bytes() == (tmp_path / "b" / path).read_bytes()


def test_the_shipped_qof_gaps_are_the_writers(tmp_path):
    assert {g["kind"] for g in QOF_GAPS} == {
        "qof_register_exceeds_list",
        "qof_suppressed_register",
        "qof_suppressed_achievement",
        "qof_practice_closed_mid_year",
    }


# ---- every layout: the older prevalence files, the regional achievement files -----------------


@pytest.mark.parametrize(
    ("variant", "header"),
    [
        ("prevalence_indicator_group_2015", PREVALENCE_INDICATOR_GROUP_2015),
        ("prevalence_group_code_2019", PREVALENCE_GROUP_CODE_2019),
    ],
)
def test_an_older_prevalence_layout_loads_the_same_values_under_its_own_variant(
    tmp_path, conn, variant, header
):
    _, rows = _rows(SAMPLE / QOF_PREVALENCE.name / "2021-04" / PREVALENCE_FILES[date(2021, 4, 1)])
    name = "PREVALENCE.csv" if variant.endswith("2015") else "PREVALENCE_2122.csv"
    path = _write(tmp_path / QOF_PREVALENCE.name / "2021-04" / name, header, rows)
    result = load_period(conn, QOF_PREVALENCE, date(2021, 4, 1), [path])
    assert result.variants == [variant]
    assert (result.rows_loaded, result.rows_quarantined) == (len(rows), 0)
    loaded = conn.execute(
        "select practice_code, group_code, register, patient_list_type, practice_list_size "
        "from raw.qof_prevalence"
    ).fetchall()
    assert sorted(loaded) == sorted(tuple(r) for r in rows)


def test_the_2013_14_layout_is_refused_naming_the_closest_layout_and_what_differs(tmp_path, conn):
    path = _write(
        tmp_path / "prevalencebyprac.csv",
        ["practicecode", "indicator_group", "disease_register_size", "practice_listsize"],
        [["A81001", "DM", "512", "8000"]],
    )
    with pytest.raises(UnknownSchemaVariant) as error:
        load_period(conn, QOF_PREVALENCE, date(2013, 4, 1), [path])
    message = str(error.value)
    assert (
        "prevalencebyprac.csv: the header is not a known Quality and Outcomes Framework prevalence" in message
    )
    assert "Closest known variant is prevalence_" in message
    assert (
        "unexpected ['practicecode', 'indicator_group', 'disease_register_size', 'practice_listsize']"
        in message
    )


def test_from_2022_23_one_achievement_file_per_region_loads_with_its_region(tmp_path, conn):
    rng = np.random.default_rng(11)
    geo = _small_geography(rng)
    months = [date(2023, 3, 1), date(2023, 4, 1)]
    synth_qof.write_qof(geo, 11, tmp_path, months, _counts_at(geo, months, rng), ReceiptLog().receive)
    folder = tmp_path / QOF_ACHIEVEMENT.name / "2022-04"
    regions = {s.region_name.upper().replace(" ", "_") for s in geo.sub_icbs}
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"ACHIEVEMENT_{r}_2223.csv" for r in regions)
    found = landing.files_for_period(QOF_ACHIEVEMENT, date(2022, 4, 1), tmp_path)
    assert len(found.files) == len(regions) == 3  # every regional file is the year's delivery
    result = load_period(conn, QOF_ACHIEVEMENT, date(2022, 4, 1), found.files)
    assert result.variants == ["achievement_regional_2022"] and result.rows_quarantined == 0
    by_region = conn.execute(
        "select region_name, count(distinct _source_file), count(distinct region_ods_code) "
        "from raw.qof_achievement group by 1 order by 1"
    ).fetchall()
    assert [r[0] for r in by_region] == sorted(regions)
    assert all(files == 1 and codes == 1 for _, files, codes in by_region)
    prevalence = landing.files_for_period(QOF_PREVALENCE, date(2022, 4, 1), tmp_path).files
    assert [p.name for p in prevalence] == ["PREVALENCE_2223.csv"]
    load_period(conn, QOF_PREVALENCE, date(2022, 4, 1), prevalence)
    for spec in (QOF_ACHIEVEMENT, QOF_PREVALENCE):
        for suite in validation.suite_files(spec.name):
            errors = [f for f in validation.run_suite(conn, suite).failed if f.severity == "error"]
            assert errors == [], suite.name


def test_a_regional_file_holding_another_region_is_an_error(tmp_path, conn):
    rows = [["Y56", "E40000003", "LONDON", "A81001", "DM017", "REGISTER", "500"]]
    path = _write(tmp_path / "ACHIEVEMENT_MIDLANDS_2223.csv", synth_qof.ACHIEVEMENT_REGIONAL_2022, rows)
    load_period(conn, QOF_ACHIEVEMENT, date(2022, 4, 1), [path])
    (suite,) = [s for s in validation.suite_files(QOF_ACHIEVEMENT.name) if s.name.endswith("structure")]
    failed = {f.column for f in validation.run_suite(conn, suite).failed if f.severity == "error"}
    assert failed == {"region_is_file_region"}
