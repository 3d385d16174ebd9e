"""How long the commissioning pack takes to render from a release (not a test).

    python benchmarks/pack_render.py --publish-dir warehouse/published [--repeat 3] [--pdf]

Renders the current release's pack into a scratch folder `--repeat` times and prints the best
time for the HTML pages (reading the release, building every page, writing the folder) and, with
`--pdf`, for printing every page to PDF in headless Chromium. Compare the HTML figure with the
pipeline time of the same release (`make run`'s closing line) for the ≤ 5% goal.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from orchestration.pack import pdf
from orchestration.pack.render import render_pack
from orchestration.release.store import ReleaseStore


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--publish-dir", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pdf", action="store_true", help="also print every page to PDF (once)")
    args = parser.parse_args()
    store = ReleaseStore(args.publish_dir)
    scratch = Path(tempfile.mkdtemp(prefix="cw-pack-bench-"))
    try:
        cache = scratch / "cache"
        render_pack(store, scratch / "warm", cache_dir=cache, log=lambda _: None)  # builds the Vega bundle once
        times = []
        for i in range(args.repeat):
            started = time.perf_counter()
            result = render_pack(store, scratch / f"run{i}", cache_dir=cache, log=lambda _: None)
            times.append(time.perf_counter() - started)
        print(
            f"release {result.release_id}: {len(result.pages)} pages, {result.charts:,} charts; "
            f"HTML best {min(times):.2f} s of {args.repeat} (all: {', '.join(f'{t:.2f}' for t in times)})"
        )
        if args.pdf:
            started = time.perf_counter()
            pdf.print_pages(result.path, [p["path"] for p in result.pages], result.path / "pdf", log=lambda _: None)
            seconds = time.perf_counter() - started
            print(
                f"PDF: {len(result.pages)} pages in {seconds:.1f} s ({seconds / len(result.pages):.2f} s a page, "
                f"{pdf.CONCURRENT_PAGES} at a time)"
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
