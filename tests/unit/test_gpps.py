"""GPPS practice results: both layouts load, negative codes become NULL with a flag by concept, the
structure suite passes on generated data and fails on impossible proportions and counts, and
header drift (renumbered or renamed columns) fails loudly with the columns named."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pytest

from orchestration.defs.experience.gpps import GPPS_PRACTICE
from orchestration.lib import validation
from orchestration.lib.loader import UnknownSchemaVariant, load_period
from orchestration.synth import geography, gpps
from orchestration.synth.manifest import PlantedGap

REPO_ROOT = Path(__file__).resolve().parents[2]
MODELS = REPO_ROOT / "dbt_project" / "models"
QUESTION_MAP = REPO_ROOT / "seeds" / "reference" / "gpps_question_map.csv"
YEARS = [2021, 2022, 2023]


def _generate(out: Path, seed: int = 5) -> list[tuple[str, str, str, str]]:
    rng = np.random.default_rng(seed)
    geo = geography.build_geography(geography.load_sub_icbs(("02T", "11X")), np.array([6, 6]), rng)
    return gpps.write_gpps(geo, rng, out, YEARS, lambda *args: None)


def _file(root: Path, year: int) -> Path:
    return root / GPPS_PRACTICE.name / f"{year}-07" / gpps.file_name(year)


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([header, *rows])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def _structure_suite() -> validation.SuiteFile:
    (suite,) = validation.suite_files(GPPS_PRACTICE.name)
    return suite


def _model_sql(relative: str) -> str:
    """A dbt model as plain DuckDB SQL: comments dropped, source/ref pointed at test relations."""
    sql = re.sub(r"\{#.*?#\}", "", (MODELS / relative).read_text(), flags=re.S)
    replacements = {
        "source('raw', 'gpps_practice_results')": "raw.gpps_practice_results",
        "ref('stg_gpps__practice_results')": "stg_gpps__practice_results",
        "ref('gpps_question_map')": f"read_csv('{QUESTION_MAP}', header = true)",
    }
    for call, relation in replacements.items():
        sql = sql.replace("{{ " + call + " }}", relation)
    assert "{{" not in sql, sql
    return sql


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("gpps")
    return out, _generate(out)


@pytest.fixture(scope="module")
def loaded(generated):
    out, _ = generated
    conn = duckdb.connect()
    results = {year: load_period(conn, GPPS_PRACTICE, date(year, 7, 1), [_file(out, year)]) for year in YEARS}
    for model in ("staging/experience/stg_gpps__practice_results", "intermediate/int_gpps_concepts_long"):
        conn.execute(f"create view {Path(model).name} as {_model_sql(model + '.sql')}")
    yield conn, results
    conn.close()


def _gap(generated, kind: str) -> PlantedGap:
    (gap,) = [g for g in generated[1] if g.kind == kind]
    return gap


def test_each_survey_year_loads_with_its_own_layout_and_every_practice_written(generated, loaded):
    out, _ = generated
    _, results = loaded
    assert {year: r.variants for year, r in results.items()} == {
        2021: ["lower_case_stp_2021"],
        2022: ["mixed_case_ics"],
        2023: ["mixed_case_ics"],
    }
    for year, result in results.items():
        _, rows = _rows(_file(out, year))
        assert (result.rows_loaded, result.rows_quarantined) == (len(rows), 0)


def test_geography_columns_follow_the_layout_of_the_year(loaded):
    conn, _ = loaded
    filled = conn.execute(
        "select year(_period), count(stp_code), count(commissioning_region_code), count(ics_code), "
        "count(ccg_code), count(*) from raw.gpps_practice_results group by all order by 1"
    ).fetchall()
    assert filled == [(2021, 12, 12, 0, 12, 12), (2022, 0, 0, 11, 11, 11), (2023, 0, 0, 12, 12, 12)]


def test_the_missing_practice_is_absent_from_its_year_only(generated, loaded):
    conn, _ = loaded
    gap = _gap(generated, "gpps_missing_practice")
    code, period = gap.org_code, gap.period
    years = conn.execute(
        "select strftime(_period, '%Y-%m') from raw.gpps_practice_results where practice_code = ? order by 1",
        [code],
    ).fetchall()
    assert period not in [y[0] for y in years] and len(years) == len(YEARS) - 1


def test_a_negative_code_is_kept_as_published_in_raw_and_is_null_and_flagged_by_concept(generated, loaded):
    conn, _ = loaded
    gap = _gap(generated, "gpps_negative_code")
    code, period = gap.org_code, gap.period
    year = int(period[:4])
    raw = conn.execute(
        "select q28base, q28_12, q28_12pct from raw.gpps_practice_results "
        "where practice_code = ? and year(_period) = ?",
        [code, year],
    ).fetchone()
    assert raw == (-97, -97, -97)  # the loader keeps the code (a NULL parse would quarantine the row)

    rows = conn.execute(
        "select concept, base, good_count, good_share, is_suppressed, suppression_code "
        "from int_gpps_concepts_long where practice_code = ? and survey_year = ? order by concept",
        [code, year],
    ).fetchall()
    by_concept = {r[0]: r[1:] for r in rows}
    assert by_concept["overall_experience"] == (None, None, None, True, -97)
    assert all(not r[3] and r[0] is not None for c, r in by_concept.items() if c != "overall_experience")
    suppressed = conn.execute("select count(*) from int_gpps_concepts_long where is_suppressed").fetchone()[0]
    assert suppressed == 1


def test_the_long_shape_has_one_row_per_practice_year_and_concept_with_shares_in_0_1(loaded):
    conn, _ = loaded
    rows, keys, practices, low, high, negatives = conn.execute(
        "select count(*), count(distinct (survey_year, practice_code, concept)), "
        "count(distinct (survey_year, practice_code)), min(good_share), max(good_share), "
        "count(*) filter (where base < 0 or good_count < 0 or good_share < 0) "
        "from int_gpps_concepts_long"
    ).fetchone()
    assert rows == keys == practices * 4 == (12 + 11 + 12) * 4
    assert low >= 0 and high <= 1 and negatives == 0
    overall = conn.execute(
        "select survey_year, avg(good_share) from int_gpps_concepts_long "
        "where concept = 'overall_experience' group by 1 order by 1"
    ).fetchall()
    assert all(0.65 < mean < 0.9 for _, mean in overall)
    assert conn.execute("select bool_and(good_count <= base) from int_gpps_concepts_long").fetchone()[0]


def test_the_question_map_marks_which_question_numbers_are_verified():
    with QUESTION_MAP.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {(r["survey_year"], r["concept"]) for r in rows} >= {
        (str(y), c)
        for y in range(2021, 2025)
        for c in ("overall_experience", "making_an_appointment", "continuity")
    }
    assert all(r["provenance"].startswith(("verified:", "unverified")) for r in rows)
    assert {r["question"] for r in rows if r["concept"] == "overall_experience"} == {"q28"}
    columns = {c.name for c in GPPS_PRACTICE.columns}
    assert all({r["base_column"], r["count_column"], r["pct_column"]} <= columns for r in rows)


def test_the_structure_suite_passes_on_generated_data_including_the_planted_negative_code(loaded):
    conn, _ = loaded
    outcome = validation.run_suite(conn, _structure_suite())
    assert outcome.passed, [f.describe() for f in outcome.failed]
    assert outcome.rows_validated == (12 + 11 + 12) * 4


@pytest.mark.parametrize(
    ("column", "value", "failing_column"),
    [("q28_12pct", "1.7", "good_pct"), ("q18_12", "999", "count_within_base")],
)
def test_an_impossible_share_or_count_fails_the_structure_suite_as_an_error(
    generated, tmp_path, column, value, failing_column
):
    header, rows = _rows(_file(generated[0], 2021))
    rows[3][header.index(column)] = value
    path = _write(tmp_path / gpps.file_name(2021), header, rows)
    conn = duckdb.connect()
    load_period(conn, GPPS_PRACTICE, date(2021, 7, 1), [path])
    outcome = validation.run_suite(conn, _structure_suite())
    (failure,) = outcome.failed
    assert (failure.column, failure.severity, failure.unexpected_count) == (failing_column, "error", 1)
    assert outcome.severity == "error"


def test_a_repeated_practice_fails_the_structure_suite(generated, tmp_path):
    header, rows = _rows(_file(generated[0], 2022))
    path = _write(tmp_path / gpps.file_name(2022), header, [*rows, rows[0]])
    conn = duckdb.connect()
    load_period(conn, GPPS_PRACTICE, date(2022, 7, 1), [path])
    failures = {f.column: f.severity for f in validation.run_suite(conn, _structure_suite()).failed}
    assert failures == {"rows_for_practice": "error"}


def test_question_columns_of_the_mixed_case_layout_match_in_either_case(generated, tmp_path):
    header, rows = _rows(_file(generated[0], 2023))
    lowered = [h if h.startswith(("Practice", "CCG", "ICS")) else h.lower() for h in header]
    assert lowered != header
    path = _write(tmp_path / gpps.file_name(2023), lowered, rows)
    conn = duckdb.connect()
    result = load_period(conn, GPPS_PRACTICE, date(2023, 7, 1), [path])
    assert (result.variants, result.rows_loaded) == (["mixed_case_ics"], len(rows))
    assert conn.execute("select count(q28_12pct) from raw.gpps_practice_results").fetchone()[0] == len(rows)


def test_a_renumbered_question_fails_loudly_naming_the_columns(generated, tmp_path):
    """Documented behaviour: q28 → q30 is a new layout, refused until the spec has a variant for it
    (and canonical q30 columns plus seed rows), never loaded with q28 silently NULL."""
    header, rows = _rows(_file(generated[0], 2023))
    renumbered = [re.sub(r"^Q28", "Q30", h) for h in header]
    path = _write(tmp_path / gpps.file_name(2023), renumbered, rows)
    with pytest.raises(UnknownSchemaVariant) as error:
        load_period(duckdb.connect(), GPPS_PRACTICE, date(2023, 7, 1), [path])
    message = str(error.value)
    assert "Closest known variant is mixed_case_ics" in message
    assert "missing ['Q28base', 'Q28_12', 'Q28_12pct']" in message
    assert "unexpected ['Q30base', 'Q30_12', 'Q30_12pct']" in message


def test_a_renamed_geography_column_is_an_unknown_layout(generated, tmp_path):
    header, rows = _rows(_file(generated[0], 2021))
    renamed = ["sub_icb_code" if h == "ccg_code" else h for h in header]
    path = _write(tmp_path / gpps.file_name(2021), renamed, rows)
    with pytest.raises(UnknownSchemaVariant, match=r"missing \['ccg_code'\], unexpected \['sub_icb_code'\]"):
        load_period(duckdb.connect(), GPPS_PRACTICE, date(2021, 7, 1), [path])


def test_the_generator_is_deterministic_and_reports_its_planted_gaps(generated, tmp_path):
    out, gaps = generated
    again = _generate(tmp_path)
    assert again == gaps
    assert sorted(g.kind for g in gaps) == ["gpps_missing_practice", "gpps_negative_code"]
    for year in YEARS:
        assert _file(tmp_path, year).read_bytes() == _file(out, year).read_bytes()
