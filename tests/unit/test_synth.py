"""The generator: deterministic, plausible, in the published layouts, with its gaps listed."""

from __future__ import annotations

import ast
import csv
import hashlib
import json
from datetime import date

import pytest

from orchestration.defs.reference.feeds import GP_PRACTICE_MAP, GP_REGISTERED_PATIENTS
from orchestration.lib import landing
from orchestration.lib.loader import load_period
from orchestration.synth import generate as generate_module
from orchestration.synth.generate import generate
from orchestration.synth.plan import Plan, sample_plan
from tests.helpers import REPO_ROOT, SAMPLE


def _digests(root):
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample")
    manifest = generate(sample_plan(), out, progress=False)
    return out, manifest


def test_the_shipped_sample_is_exactly_what_the_generator_writes(generated):
    out, _ = generated
    assert _digests(out) == _digests(SAMPLE)


def test_the_sample_stays_under_40_mb_with_admitted_care_at_real_volume(generated):
    out, manifest = generated
    assert manifest["activity_sample_fraction"]["hes_apc"] == 1.0
    assert sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) < 40_000_000


def test_the_manifest_lists_every_kind_of_planted_gap(generated):
    _, manifest = generated
    kinds = {g["kind"] for g in manifest["gaps"]}
    assert kinds == {
        "missing_practice_month",
        "unknown_practice",
        "unknown_commissioner_code",
        "renamed_column_variant",
        "late_file",
        "list_size_step",
        "default_code",
        "orphan_practice",
        "missing_indicator_area_period",
        "suppressed_small_practice",
        "lsoa_without_commissioner",
        "gpps_negative_code",
        "gpps_missing_practice",
        "fft_missing_trust_month",
        "fft_small_count",
        "missing_provider_month",
        "partial_submission",
        "unpriced_hrg",
        "missing_field",
        "qof_register_exceeds_list",
        "qof_suppressed_register",
        "qof_suppressed_achievement",
        "qof_practice_closed_mid_year",
    }
    assert manifest["months"] == ["2021-01", "2022-12"]
    assert {"02T", "11X", "12F"} <= set(manifest["sub_icb_locations"])
    assert json.loads((SAMPLE / "_manifest.json").read_text()) == manifest


def test_every_generated_month_loads_in_a_known_layout(conn, generated):
    out, manifest = generated
    variant_month = next(g["period"] for g in manifest["gaps"] if g["kind"] == "renamed_column_variant")
    for month in landing.available_periods(GP_REGISTERED_PATIENTS, out):
        files = landing.files_for_period(GP_REGISTERED_PATIENTS, month, out).files
        result = load_period(conn, GP_REGISTERED_PATIENTS, month, files)
        assert result.rows_quarantined == 0
        expected = "prac_sub_icb_2023" if f"{month:%Y-%m}" == variant_month else "quin_age_org_2017"
        assert result.variants == [expected]
    map_variants = set()
    for month in landing.available_periods(GP_PRACTICE_MAP, out):
        result = load_period(
            conn,
            GP_PRACTICE_MAP,
            month,
            landing.files_for_period(GP_PRACTICE_MAP, month, out).files,
        )
        map_variants.add((month >= date(2022, 7, 1), result.variants[0]))
    assert map_variants == {(False, "ccg_stp_2021"), (True, "sub_icb_2022")}


def test_list_sizes_and_age_structure_look_like_england(conn, generated):
    out, _ = generated
    month = date(2022, 1, 1)
    load_period(
        conn,
        GP_REGISTERED_PATIENTS,
        month,
        landing.files_for_period(GP_REGISTERED_PATIENTS, month, out).files,
    )
    median, female, over_65, under_5 = conn.execute(
        """select
            median(number_of_patients) filter (where sex = 'ALL' and age_band = 'ALL'),
            sum(number_of_patients) filter (where sex = 'FEMALE' and age_band = 'ALL')
                / sum(number_of_patients) filter (where sex = 'ALL' and age_band = 'ALL'),
            sum(number_of_patients) filter (where sex != 'ALL' and age_band in
                ('65_69','70_74','75_79','80_84','85_89','90_94','95+'))
                / sum(number_of_patients) filter (where sex = 'ALL' and age_band = 'ALL'),
            sum(number_of_patients) filter (where sex != 'ALL' and age_band = '0_4')
                / sum(number_of_patients) filter (where sex = 'ALL' and age_band = 'ALL')
        from raw.gp_registered_patients"""
    ).fetchone()
    assert 6_000 <= median <= 13_000  # England's median practice list is about 9,000
    assert 0.49 <= female <= 0.52
    assert 0.13 <= over_65 <= 0.25  # about 18% of England's registered patients are 65+
    assert 0.04 <= under_5 <= 0.065


def test_synthetic_lsoa_codes_are_nine_characters_at_national_scale():
    """A national geography has ~33,000 LSOAs: every serial gets a distinct E01 code of nine
    characters, the same in Python and in the generators' DuckDB SQL."""
    import duckdb

    from orchestration.synth.deprivation import LSOA_CODE_SQL, lsoa_code

    serials = range(1, 40_001)
    codes = [lsoa_code(s) for s in serials]
    assert len(set(codes)) == len(codes)
    assert all(len(c) == 9 and c.startswith("E01") and c[3:].isdigit() for c in codes)
    assert lsoa_code(1) == "E01990001"  # the sample's codes did not change
    sql = duckdb.sql(
        f"select list({LSOA_CODE_SQL.format(serial='s')} order by s) from range(1, 40001) as t(s)"
    ).fetchall()[0][0]
    assert sql == codes


def test_every_file_written_has_one_row_in_the_one_receipt_log(generated):
    out, manifest = generated
    with (out / "_receipts.csv").open(newline="") as handle:
        logged = [(r["feed"], r["period"], r["file"]) for r in csv.DictReader(handle)]
    files = [
        p.relative_to(out).parts for p in out.rglob("*") if p.is_file() and len(p.relative_to(out).parts) == 3
    ]
    assert sorted(logged) == sorted(files)
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == ["_manifest.json", "_receipts.csv"]
    assert {g["feed"] for g in manifest["gaps"]} >= {"qof_prevalence", "qof_achievement"}


def test_the_generator_modules_import_no_circle():
    """No orchestration.synth module imports, at any depth, a module that imports it."""
    package = REPO_ROOT / "orchestration" / "synth"
    imports: dict[str, set[str]] = {}
    for path in package.glob("*.py"):
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "orchestration.synth":
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("orchestration.synth."):
                names.add(node.module.rsplit(".", 1)[1])
            elif isinstance(node, ast.Import):
                names |= {
                    a.name.rsplit(".", 1)[1] for a in node.names if a.name.startswith("orchestration.synth.")
                }
        imports[path.stem] = names

    def reaches(start: str, target: str, seen: set[str]) -> bool:
        for name in imports.get(start, ()):
            if name == target or (name not in seen and reaches(name, target, seen | {name})):
                return True
        return False

    assert [m for m in sorted(imports) if reaches(m, m, set())] == []


def test_the_progress_bar_follows_the_writers_and_ends_at_its_total(tmp_path, monkeypatch):
    """Each writer's share of the bar is counted while or after it works, never before, and no
    writer's reports push the bar past its share."""
    seen: list[tuple[str, int]] = []

    class Bar:
        def __init__(self, total, **_):
            self.total, self.n = total, 0

        def __enter__(self):
            bars.append(self)
            return self

        def __exit__(self, *_):
            return False

        def update(self, n):
            self.n += n

        def set_description(self, _):
            pass

    class Stub:
        def __init__(self, label, share, reports):
            self.label, self.share, self.reports = label, share, reports

        def steps(self, ctx):
            return self.share

        def write(self, ctx):
            seen.append((self.label, bars[0].n))
            for n in self.reports:
                ctx.advance(n)
            return []

    bars: list[Bar] = []
    monkeypatch.setattr(generate_module, "tqdm", Bar)
    writers = (Stub("first", 3, [1, 1, 1]), Stub("silent", 4, []), Stub("eager", 2, [5]), Stub("last", 1, []))
    plan = Plan("sample", date(2022, 1, 1), date(2022, 2, 1), 5, ("02T", "11X"), 4)  # too short for gaps
    generate(plan, tmp_path, progress=False, writers=writers)
    assert seen == [("first", 0), ("silent", 3), ("eager", 7), ("last", 9)]
    assert bars[0].n == bars[0].total == 10
