"""`make share SCOPE=…`: build one data package from the current release.

    python -m orchestration.share --scope england | icb:QWO | sub_icb:02T | <code>

Writes `<SHARE_DIR>/<release id>/<scope>/` and its `.zip`; exits 1 with a specific message and
nothing written when the scope is unknown, everything in it is suppressed, no release exists,
the release is unfit, or a column has no disclosure metadata.
"""

from __future__ import annotations

import argparse
import sys

from orchestration.lib import settings
from orchestration.release import tables
from orchestration.release.store import NoRelease, ReleaseStore
from orchestration.share.disclosure import NotShareable
from orchestration.share.package import PackageError, build_package


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make share SCOPE=…", description=__doc__.splitlines()[0])
    parser.add_argument("--scope", default="england", help="england, icb:<code>, sub_icb:<code> or a code")
    args = parser.parse_args(argv)
    settings.export_environment()
    manifest = tables.load_manifest(settings.DBT_PROJECT_DIR / "target" / "manifest.json")
    try:
        package = build_package(
            store=ReleaseStore(settings.publish_dir()),
            manifest=manifest,
            scope_text=args.scope,
            out_root=settings.share_dir(),
            log=lambda line: print(line, flush=True),
        )
    except (PackageError, NoRelease, NotShareable) as exc:
        print(f"No package built: {exc}", file=sys.stderr)
        return 1
    rows = sum(t["rows"] for t in package.tables.values())
    suppressed = sum(t["suppressed_cells"] for t in package.tables.values())
    print(
        f"Package {package.scope.label} from release {package.release_id}: {len(package.tables)} tables, "
        f"{rows:,} rows, {suppressed:,} cells suppressed, in {package.seconds:.1f} s\n"
        f"  {package.folder}\n  {package.archive}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
