"""The published release: the end of the lineage, what BI tools, packages and the pack read.

`release/published` depends on every published model and share table, so a run publishes only
after they were all built; a run whose blocking checks failed publishes nothing (Dagster skips
the step when an upstream step failed or was blocked, and the asset itself refuses when the
latest verdict of any blocking check upstream is a failure). Its checks judge the release on
disk and can be re-run at any time (a tampered folder fails them).
"""

from pathlib import Path

import dagster as dg
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from orchestration.defs.dbt.project import dbt_project
from orchestration.lib import settings
from orchestration.lib.warehouse import WRITER_POOL
from orchestration.release import docs, verify
from orchestration.release import tables as published
from orchestration.release.publish import CheckSummary, publish
from orchestration.release.store import NoRelease, ReleaseStore

KEY = dg.AssetKey(["release", "published"])
GROUP = "release"


def _published_keys() -> list[dg.AssetKey]:
    manifest = published.load_manifest(Path(dbt_project.manifest_path))
    return [dg.AssetKey(t.asset_key_path) for t in published.published_tables(manifest)]


def stores() -> list[ReleaseStore]:
    """The open release, and the restricted one when RESTRICTED_PUBLISH_DIR names it."""
    restricted = settings.restricted_publish_dir()
    return [ReleaseStore(settings.publish_dir())] + ([ReleaseStore(restricted)] if restricted else [])


def check_summary(context: dg.AssetExecutionContext) -> CheckSummary:
    """The latest verdict of every check in the code location but the release's own (this run's,
    where it ran one; a run of the release alone, `make publish`, judges by the last verdicts)."""
    from orchestration.definitions import defs  # the whole code location, not just this job's slice

    graph = defs.resolve_asset_graph()
    nodes = [n for n in graph.asset_check_nodes if n.key.asset_key != KEY]
    blocking = {n.key for n in nodes if n.blocking}
    records = context.instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [n.key for n in nodes]
    )
    passed = warned = failed = 0
    blocking_failures = []
    for key, record in records.items():
        evaluation = record.evaluation
        if record.status == AssetCheckExecutionRecordStatus.SUCCEEDED:
            passed += 1
        elif record.status == AssetCheckExecutionRecordStatus.FAILED and evaluation is not None:
            if evaluation.severity == dg.AssetCheckSeverity.WARN:
                warned += 1
            else:
                failed += 1
                if key in blocking:
                    blocking_failures.append(key.to_user_string())
    return CheckSummary(passed, warned, failed, "dagster", tuple(sorted(blocking_failures)))


@dg.asset(
    key=KEY,
    deps=_published_keys(),
    group_name=GROUP,
    pool=WRITER_POOL,
    kinds={"parquet", "duckdb"},
    description=(
        "The release BI tools read: every published table as Parquet (facts partitioned by period), a "
        "read-only DuckDB catalog over them with the stats macros, the release facts and the dbt docs. "
        "Switched atomically; the previous releases stay for readers mid-query."
    ),
)
def published_release(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    settings.export_environment()
    manifest = published.load_manifest(Path(dbt_project.manifest_path))
    open_store, *restricted = stores()
    release = publish(
        warehouse=settings.warehouse_path(),
        manifest=manifest,
        store=open_store,
        checks=check_summary(context),
        run_id=context.run_id,
        keep=settings.releases_kept(),
        restricted=restricted[0] if restricted else None,
        docs=lambda catalog: docs.build_docs(manifest, catalog, docs.CACHE),
        log=context.log.info,
    )
    context.log.info(
        f"Published release {release.release_id}: {len(release.tables)} tables, {release.rows:,} rows, "
        f"{release.bytes / 1e6:.1f} MB in {release.seconds:.1f} s; readers open {open_store.catalog}"
    )
    return dg.MaterializeResult(
        metadata={
            "release_id": release.release_id,
            "catalog": dg.MetadataValue.path(str(open_store.catalog)),
            "release_folder": dg.MetadataValue.path(str(release.path)),
            "restricted_release": dg.MetadataValue.path(str(release.restricted_path or "not configured")),
            "tables": len(release.tables),
            "rows": release.rows,
            "megabytes": round(release.bytes / 1e6, 1),
            "seconds": round(release.seconds, 1),
            "rows_by_table": dg.MetadataValue.json(release.tables),
            "pruned_releases": dg.MetadataValue.text(", ".join(release.pruned) or "none"),
        }
    )


def _judge(name: str, problems_of) -> dg.AssetCheckResult:
    problems = []
    try:
        for store in stores():
            problems += [f"{store.root.name}: {p}" for p in problems_of(store, store.current_id())]
    except NoRelease as exc:
        problems.append(str(exc))
    return dg.AssetCheckResult(
        check_name=name,
        passed=not problems,
        metadata={"problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in problems) or "none")},
    )


@dg.asset_check(
    asset=KEY, description="Every file release.json lists is there, unchanged (sha256); none added."
)
def release_files_intact() -> dg.AssetCheckResult:
    return _judge("release_files_intact", verify.files_problems)


@dg.asset_check(asset=KEY, description="Each table of the release counts the rows release.json states.")
def release_row_counts() -> dg.AssetCheckResult:
    return _judge("release_row_counts", verify.row_count_problems)


@dg.asset_check(asset=KEY, description="Each published table's columns and types are its dbt contract.")
def release_matches_contracts() -> dg.AssetCheckResult:
    return _judge("release_matches_contracts", verify.schema_problems)


@dg.asset_check(
    asset=KEY, description="The open release holds no restricted table and no patient-level column."
)
def open_release_has_no_patient_level_data() -> dg.AssetCheckResult:
    return _judge("open_release_has_no_patient_level_data", verify.disclosure_problems)


assets = [published_release]
asset_checks = [
    release_files_intact,
    release_row_counts,
    release_matches_contracts,
    open_release_has_no_patient_level_data,
]

publish_job = dg.define_asset_job(
    "publish_release",
    selection=dg.AssetSelection.assets(published_release),
    description="Publish the warehouse as it stands (after a good build) and check the release.",
)
