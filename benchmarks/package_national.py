"""Building shared packages from a national month's release.

    .venv/bin/python benchmarks/package_national.py [--out /tmp/cw-activity] --pipeline-seconds S

Uses the release benchmarks/release_national.py published (`<out>/release_bench/published`) and
that month's pipeline time it reported (S). Times the England package (every area's rows:
disclosure control, the scan, CSV, Parquet, the descriptor and the zip), one ICB's and one
sub-ICB location's, and the re-reading scan of the England package's files (the asset check).
Target (#12): the England package in at most 15% of the month's pipeline time. Not a test.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from orchestration.lib import settings
from orchestration.release import tables
from orchestration.release.store import RELEASE_CATALOG, ReleaseStore
from orchestration.share.package import build_package, scan_package


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "cw-activity")
    parser.add_argument("--pipeline-seconds", type=float, required=True)
    args = parser.parse_args()
    store = ReleaseStore(args.out / "release_bench" / "published")
    manifest = tables.load_manifest(settings.DBT_PROJECT_DIR / "target" / "manifest.json")
    out = args.out / "package_bench"
    shutil.rmtree(out, ignore_errors=True)
    catalog = store.current_dir() / RELEASE_CATALOG
    with duckdb.connect(str(catalog), read_only=True) as conn:
        icb, location = conn.execute(
            "select icb_code, sub_icb_location_code from marts.dim_sub_icb where is_current "
            "order by 1, 2 limit 1"
        ).fetchone()
    figures: dict[str, object] = {"pipeline_s": args.pipeline_seconds}
    for scope in ("england", f"icb:{icb}", f"sub_icb:{location}"):
        package = build_package(
            store=store, manifest=manifest, scope_text=scope, out_root=out, log=lambda _: None
        )
        size = sum(p.stat().st_size for p in package.folder.rglob("*") if p.is_file())
        figures[scope] = {
            "seconds": round(package.seconds, 1),
            "rows": sum(t["rows"] for t in package.tables.values()),
            "suppressed_cells": sum(t["suppressed_cells"] for t in package.tables.values()),
            "megabytes": round(size / 1e6, 1),
            "zip_megabytes": round(package.archive.stat().st_size / 1e6, 1),
        }
        if scope == "england":
            figures["england_share_of_pipeline"] = round(package.seconds / args.pipeline_seconds, 3)
            started = time.perf_counter()
            problems = scan_package(package.folder, manifest, catalog)
            figures["england_rescan_s"] = round(time.perf_counter() - started, 1)
            figures["england_rescan_problems"] = len(problems)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
