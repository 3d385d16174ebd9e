"""`make pack`: render the commissioning pack of the current release (and print its PDFs).

python -m orchestration.pack [--release ID] [--no-pdf] [--out DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from orchestration.lib import settings
from orchestration.pack import pdf
from orchestration.pack.render import render_configured
from orchestration.release.store import NoRelease


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.pack", description=__doc__.splitlines()[0])
    parser.add_argument("--release", help="a release id under the publish folder (default: the current one)")
    parser.add_argument("--out", type=Path, help=f"pack folder (default: {settings.pack_dir()})")
    parser.add_argument("--no-pdf", action="store_true", help="write the HTML pages only")
    args = parser.parse_args(argv)
    settings.export_environment()
    try:
        result = render_configured(out_root=args.out, release_id=args.release)
    except NoRelease as exc:
        print(exc, file=sys.stderr)
        return 1
    if not args.no_pdf and settings.pack_pdf() == "all":
        try:
            pdf.print_pack(result.path, [p["path"] for p in result.pages])
        except (pdf.ChromiumMissing, pdf.PackPrintError) as exc:
            print(f"PDFs not printed: {exc}", file=sys.stderr)
            return 1
    print(f"Open {result.path / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
