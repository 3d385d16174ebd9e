"""Time the EPD writer alone on one national month (about 17 million rows).

    .venv/bin/python benchmarks/prescribing_month.py /tmp/epd [YYYY-MM]

The geography is the national plan's (`plan.build_geography`), so the practices are those of
`cw-synth national`; the file is the one a national run writes for the month. Not a test: run it
and report the figures.
"""

from __future__ import annotations

import argparse
import shutil
import time
from datetime import date
from pathlib import Path

import numpy as np

from orchestration.synth import prescribing
from orchestration.synth.manifest import ReceiptLog
from orchestration.synth.plan import build_geography, national_plan


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("month", nargs="?", default="2022-10", help="YYYY-MM (default 2022-10)")
    args = parser.parse_args()
    month = date.fromisoformat(args.month + "-01")
    plan = national_plan(month, month)
    geo = build_geography(plan, np.random.default_rng(plan.seed))
    shutil.rmtree(args.out / prescribing.FEED, ignore_errors=True)
    started = time.perf_counter()
    prescribing.write_prescribing(geo, plan.seed, args.out, [month], ReceiptLog().receive, "national")
    elapsed = time.perf_counter() - started
    (path,) = (args.out / prescribing.FEED / f"{month:%Y-%m}").iterdir()
    with path.open("rb") as handle:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 24), b""))
    print(
        f"{geo.n} practices; {path.name}: {lines - 1:,} rows, {path.stat().st_size:,} bytes, {elapsed:.1f} s"
    )


if __name__ == "__main__":
    main()
