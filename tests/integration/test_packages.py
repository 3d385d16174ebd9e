"""Shared data packages built from the whole sample's release: valid Frictionless packages that
disclose nothing, scoped to their areas, saying what they hold; and every bad request refused
with a specific message and nothing written."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import frictionless
import pytest

from orchestration.release import tables
from orchestration.release.store import RELEASE_CATALOG, NoRelease, ReleaseStore, sha256_file
from orchestration.share import disclosure
from orchestration.share.package import (
    IDENTIFYING,
    STANDARD_TABLES,
    NothingToShare,
    ReleaseUnfit,
    UnknownScope,
    build_package,
    scan_package,
)
from tests.helpers import REPO_ROOT, run_all_env

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("sample")]  # one worker: conftest.py
MANIFEST = REPO_ROOT / "dbt_project" / "target" / "manifest.json"


@pytest.fixture(scope="module")
def built(sample_warehouse) -> tuple[ReleaseStore, Path, list[Path]]:
    root = sample_warehouse.parent
    store = ReleaseStore(root / "published")
    folder = root / "packages" / store.current_id()
    packages = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    return store, folder, packages


@pytest.fixture(scope="module")
def manifest() -> dict:
    return tables.load_manifest(MANIFEST)


def test_the_run_builds_a_package_for_england_and_every_icb_and_sub_icb_location(built):
    store, _, packages = built
    with duckdb.connect(str(store.catalog), read_only=True) as conn:
        icbs, locations = conn.execute(
            "select count(distinct area_code) filter (where area_level = 'icb'), "
            "count(distinct area_code) filter (where area_level = 'sub_icb_location') "
            "from marts.mart_commissioning_summary where area_code != 'unattributed'"
        ).fetchone()
    names = [p.name for p in packages]
    assert locations == 13 and "england" in names
    assert sum(n.startswith("icb-") for n in names) == icbs
    assert sum(n.startswith("sub_icb_location-") for n in names) == locations
    for package in packages:
        with zipfile.ZipFile(package.with_suffix(".zip")) as archive:
            inside = sorted(archive.namelist())
        assert inside == sorted(
            f"{package.name}/{p.relative_to(package)}" for p in package.rglob("*") if p.is_file()
        )


def test_every_package_is_a_valid_frictionless_data_package(built):
    _, _, packages = built
    for package in packages:
        report = frictionless.validate(package / "datapackage.json")
        assert report.valid, (
            package.name,
            report.flatten(["resourceName", "rowNumber", "fieldName", "note"])[:10],
        )


def test_no_shared_file_of_any_package_discloses_a_small_number(built, manifest):
    store, _, packages = built
    catalog = store.current_dir() / RELEASE_CATALOG
    problems = [f"{p.name}: {problem}" for p in packages for problem in scan_package(p, manifest, catalog)]
    assert problems == []
    # And, reading the CSV text itself: no sub-national count of 1-7, and every one a multiple of 5.
    with duckdb.connect() as conn:
        for package in packages:
            for name in STANDARD_TABLES:
                rules = disclosure.TableRules.from_manifest(manifest, name)
                path = package / "data" / f"{name}.csv"
                columns = ", ".join(f"'{c}': 'varchar'" for c in rules.names)
                conn.execute(
                    f"create or replace temp table shared as select * from read_csv('{path}', header = true, "
                    f"auto_detect = false, columns = {{{columns}}})"
                )
                for column in rules.count_columns:
                    bad = conn.execute(
                        f"select count(*) from shared where not ({rules.national_when}) "
                        f"and {column} not in ('', '*') and (try_cast({column} as double) between 1 and 7 "
                        f"or try_cast({column} as double) % 5 <> 0)"
                    ).fetchone()[0]
                    assert bad == 0, (package.name, name, column)


def test_suppression_happens_and_national_counts_are_not_rounded(built):
    _, folder, _ = built
    with duckdb.connect() as conn:
        summary = folder / "england" / "data" / "mart_commissioning_summary.csv"
        (suppressed,) = conn.execute(
            f"select count(*) filter (where activity = '*') from read_csv('{summary}', all_varchar = true)"
        ).fetchone()
        indicators = folder / "england" / "data" / "mart_ois_indicator.csv"
        (national_odd,) = conn.execute(
            "select count(*) filter (where area_level = 'england' and count not in ('', '*') "
            f"and try_cast(count as double) % 5 <> 0) from read_csv('{indicators}', all_varchar = true)"
        ).fetchone()
    assert suppressed > 0  # the sample's thin areas have small counts, and they are hidden
    assert national_odd > 0  # England's counts are exact


def test_no_package_holds_a_record_level_or_identifying_field(built):
    _, _, packages = built
    restricted = {"fct_apc_spell", "fct_outpatient_attendance", "fct_ae_attendance"}
    for package in packages:
        descriptor = json.loads((package / "datapackage.json").read_text())
        names = {r["name"].removesuffix("_parquet") for r in descriptor["resources"]}
        assert names == set(STANDARD_TABLES) and not names & restricted
        fields = [f["name"] for r in descriptor["resources"] for f in r.get("schema", {}).get("fields", [])]
        assert [f for f in fields if IDENTIFYING.search(f)] == []


def test_an_icb_package_keeps_its_own_areas_and_the_national_comparators(built):
    store, _, packages = built
    icb = next(p for p in packages if p.name.startswith("icb-"))
    code = icb.name.removeprefix("icb-")
    with duckdb.connect(str(store.catalog), read_only=True) as conn:
        own = {code} | {
            r[0]
            for r in conn.execute(
                "select sub_icb_location_code from marts.dim_sub_icb where is_current and icb_code = ?",
                [code],
            ).fetchall()
        }
        summary = icb / "data" / "mart_commissioning_summary.csv"
        areas = conn.execute(f"select distinct area_level, area_code from read_csv('{summary}')").fetchall()
    assert {level for level, _ in areas} == {"icb", "sub_icb_location"}  # the summary has no England rows
    assert {c for _, c in areas} <= own
    indicators = icb / "data" / "mart_ois_indicator.csv"
    with duckdb.connect() as conn:
        levels = dict(
            conn.execute(f"select area_level, count(*) from read_csv('{indicators}') group by 1").fetchall()
        )
    assert levels.get("england", 0) > 0 and levels.get("icb", 0) > 0  # national comparators kept


def test_a_package_says_what_it_holds_and_what_cannot_be_trusted(built):
    store, folder, _ = built
    package = folder / "england"
    descriptor = json.loads((package / "datapackage.json").read_text())
    validation = json.loads((package / "validation.json").read_text())
    readme = (package / "README.md").read_text()
    assert descriptor["release"]["release_id"] == store.current_id()
    summary = next(r for r in descriptor["resources"] if r["name"] == "mart_commissioning_summary")
    assert {licence["name"] for licence in summary["licenses"]} == {"OGL-UK-3.0", "data-sharing-agreement"}
    assert any(s["feed"] == "hes_apc" and s["period"]["first"] for s in summary["sources"])
    assert summary["schema"]["primaryKey"] == [
        "month",
        "area_level",
        "area_code",
        "setting",
        "point_of_delivery",
    ]
    assert summary["schema"]["missingValues"] == ["", "*"]
    assert all(f["description"] for f in summary["schema"]["fields"])
    measures = next(r for r in descriptor["resources"] if r["name"] == "fct_prescribing_measure")
    assert [licence["name"] for licence in measures["licenses"]] == [
        "OGL-UK-3.0"
    ]  # EPD and list sizes are open
    assert all(r["hash"].startswith("sha256:") for r in descriptor["resources"])
    gaps = validation["data_gap_notes"]
    assert any(g["gap_kind"] == "missing_submission" and g["feed"] == "hes_apc" for g in gaps), gaps[:3]
    assert validation["disclosure_scan"] == {name: [] for name in STANDARD_TABLES}
    assert validation["release"]["checks"]["passed"] > 0 and validation["feeds"]
    assert "What cannot be trusted here" in readme and "missing" in readme.lower()


def _nothing_written(folder: Path, before: set[str]) -> None:
    assert {p.name for p in folder.iterdir()} == before


def test_bad_requests_are_refused_and_nothing_is_written(built, manifest, tmp_path):
    store, folder, _ = built
    before = {p.name for p in folder.iterdir()}
    with pytest.raises(UnknownScope, match=r"no ICB has code 'ZZZ' in this release"):
        build_package(store=store, manifest=manifest, scope_text="icb:ZZZ", out_root=folder.parent, log=print)
    with pytest.raises(UnknownScope, match="the level must be icb or sub_icb"):
        build_package(
            store=store, manifest=manifest, scope_text="region:Y56", out_root=folder.parent, log=print
        )
    with duckdb.connect(str(store.catalog), read_only=True) as conn:
        (empty,) = conn.execute(
            "select min(sub_icb_location_code) from marts.dim_sub_icb where is_current "
            "and sub_icb_location_code not in (select area_code from marts.mart_commissioning_summary)"
        ).fetchone()
    with pytest.raises(NothingToShare, match="is suppressed or zero"):
        build_package(
            store=store, manifest=manifest, scope_text=f"sub_icb:{empty}", out_root=folder.parent, log=print
        )
    _nothing_written(folder, before)
    with pytest.raises(NoRelease, match="No release has been published"):
        build_package(
            store=ReleaseStore(tmp_path / "none"), manifest=manifest, scope_text="england", out_root=tmp_path
        )
    unshareable = json.loads(json.dumps(manifest))
    node = unshareable["nodes"]["model.commissioning.mart_top_services"]
    node["columns"]["cost"]["config"]["meta"].pop("disclosure")
    node["columns"]["cost"].get("meta", {}).pop("disclosure", None)  # dbt mirrors config.meta here
    with pytest.raises(disclosure.NotShareable, match=r"mart_top_services\.cost has no meta\.disclosure"):
        build_package(store=store, manifest=unshareable, scope_text="england", out_root=tmp_path)
    assert not (tmp_path / store.current_id()).exists()


def test_a_tampered_or_failed_release_is_not_packaged(built, manifest, tmp_path):
    store, _, _ = built
    copy = ReleaseStore(tmp_path / "published")
    shutil.copytree(store.root, copy.root, symlinks=True)
    release_id = copy.current_id()
    catalog = copy.release_dir(release_id) / RELEASE_CATALOG
    # A release that records a failed blocking check, consistent on disk (its release.json
    # updated too), so only the recorded failure can stop the package.
    with duckdb.connect(str(catalog)) as conn:
        conn.execute(
            "update release_checks set checks = 1, names = ['raw/epd:structure'] where outcome = 'failed'"
        )
    manifest_path = copy.release_dir(release_id) / "release.json"
    facts = json.loads(manifest_path.read_text())
    for entry in facts["other_files"]:
        if entry["path"] == RELEASE_CATALOG:
            entry.update(bytes=catalog.stat().st_size, sha256=sha256_file(catalog))
    manifest_path.write_text(json.dumps(facts))
    with pytest.raises(ReleaseUnfit, match=r"built with failed blocking checks \(raw/epd:structure\)"):
        build_package(store=copy, manifest=manifest, scope_text="england", out_root=tmp_path / "out")
    first = next((copy.release_dir(release_id) / "csv").iterdir())
    first.unlink()
    with pytest.raises(ReleaseUnfit, match=f"fails its checks.*missing file csv/{first.name}"):
        build_package(store=copy, manifest=manifest, scope_text="england", out_root=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_make_share_builds_one_scope_and_names_a_bad_one(built, sample_warehouse):
    store, _, packages = built
    root = sample_warehouse.parent
    env = run_all_env(root, root)
    location = next(
        p.name.removeprefix("sub_icb_location-") for p in packages if p.name.startswith("sub_icb")
    )
    command = [sys.executable, "-m", "orchestration.share"]
    good = subprocess.run(
        [*command, "--scope", location], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )
    assert good.returncode == 0, good.stderr[-2000:]
    assert f"({location}) from release {store.current_id()}" in good.stdout
    bad = subprocess.run(
        [*command, "--scope", "sub_icb:ZZZ"], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )
    assert bad.returncode == 1 and "No package built: no sub-ICB location has code 'ZZZ'" in bad.stderr


def test_the_packages_exposure_names_every_table_a_package_holds(manifest):
    exposure = manifest["exposures"]["exposure.commissioning.shared_data_packages"]
    read = {manifest["nodes"][uid]["name"] for uid in exposure["depends_on"]["nodes"]}
    assert read == {*STANDARD_TABLES, "dim_sub_icb"}  # dim_sub_icb places sub-ICB rows under their ICB
