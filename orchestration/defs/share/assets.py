"""The standard data packages, built from every new release: England, each ICB and each sub-ICB
location the release holds (orchestration/share/package.py). Their check re-reads every shared
file and fails on anything the disclosure rules would not let out."""

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.defs.dbt.project import dbt_project
from orchestration.defs.release.assets import KEY as RELEASE_KEY
from orchestration.lib import settings
from orchestration.release import tables
from orchestration.release.store import RELEASE_CATALOG, ReleaseStore
from orchestration.share.package import NothingToShare, build_package, scan_package

KEY = dg.AssetKey(["share", "packages"])
WORKERS = os.cpu_count() or 1


def release_scopes(store: ReleaseStore, wanted: list[str]) -> list[str]:
    """The scopes SHARE_SCOPES asks for: `england`, every ICB (`icb`) or sub-ICB location
    (`sub_icb`) with activity in the current release, or named ones (`icb:QWO`)."""
    with duckdb.connect(str(store.current_dir() / RELEASE_CATALOG), read_only=True) as conn:
        areas = conn.execute(  # real areas only: not the 'unattributed' activity's row
            "select distinct area_level, area_code from marts.mart_commissioning_summary "
            "where (area_level = 'icb' and area_code in (select icb_code from marts.dim_icb)) "
            "or (area_level = 'sub_icb_location' and area_code in "
            "(select sub_icb_location_code from marts.dim_sub_icb where is_current)) order by all"
        ).fetchall()
    scopes = []
    for item in wanted:
        if item in ("icb", "sub_icb"):
            level = "icb" if item == "icb" else "sub_icb_location"
            scopes += [f"{item}:{code}" for area_level, code in areas if area_level == level]
        else:
            scopes.append(item)
    return list(dict.fromkeys(scopes))


@dg.asset(
    key=KEY,
    deps=[RELEASE_KEY],
    group_name="release",
    kinds={"csv", "parquet"},
    description=(
        "Validated, disclosure-controlled data packages (Frictionless Data Package, CSV and Parquet, "
        "a validation report and a README, zipped) for the scopes SHARE_SCOPES names (default: "
        "England and each ICB of the release)."
    ),
)
def data_packages(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    settings.export_environment()
    manifest = tables.load_manifest(Path(dbt_project.manifest_path))
    store = ReleaseStore(settings.publish_dir())
    built, nothing, log = [], [], context.log.debug

    def _build(scope: str):
        try:
            return build_package(
                store=store, manifest=manifest, scope_text=scope, out_root=settings.share_dir(), log=log
            )
        except NothingToShare as exc:
            return f"{scope}: {exc}"

    # Packages are independent and DuckDB releases the GIL while it works: one per core at once.
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        results = list(pool.map(_build, release_scopes(store, settings.share_scopes())))
    for package in results:
        if isinstance(package, str):
            nothing.append(package)
            continue
        built.append(package)
        context.log.info(
            f"{package.scope.label}: {sum(t['suppressed_cells'] for t in package.tables.values()):,} cells "
            f"suppressed, {package.seconds:.1f} s → {package.archive}"
        )
    release_id = store.current_id()
    return dg.MaterializeResult(
        metadata={
            "release_id": release_id,
            "packages": len(built),
            "folder": dg.MetadataValue.path(str(settings.share_dir() / release_id)),
            "not_built_all_suppressed": dg.MetadataValue.md("\n".join(f"- {n}" for n in nothing) or "none"),
            "seconds": round(sum(p.seconds for p in built), 1),
        }
    )


@dg.asset_check(asset=KEY, description="Every shared file of every package passes the disclosure scan.")
def packages_disclose_nothing() -> dg.AssetCheckResult:
    manifest = tables.load_manifest(Path(dbt_project.manifest_path))
    store = ReleaseStore(settings.publish_dir())
    folder = settings.share_dir() / store.current_id()
    problems = []
    built = sorted(folder.iterdir()) if folder.is_dir() else []
    packages = [p for p in built if p.is_dir() and not p.name.startswith(".")]
    catalog = store.current_dir() / RELEASE_CATALOG
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        found = pool.map(lambda package: scan_package(package, manifest, catalog), packages)
        for package, package_problems in zip(packages, found, strict=True):
            problems += [f"{package.name}: {p}" for p in package_problems]
    return dg.AssetCheckResult(
        passed=not problems and bool(packages),
        metadata={
            "packages_scanned": len(packages),
            "problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in problems[:200]) or "none"),
        },
    )


assets = [data_packages]
asset_checks = [packages_disclose_nothing]
