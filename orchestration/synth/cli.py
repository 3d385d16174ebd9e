"""`cw-synth` (or `python -m orchestration.synth`): write realistic feeds in published formats.

cw-synth sample --out seeds/landing                       # the shipped sample (24 months)
cw-synth national --start 2024-04 --end 2024-04 --out /tmp/national
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from datetime import date
from pathlib import Path

from orchestration.synth.generate import generate
from orchestration.synth.plan import national_plan, sample_plan


def _month(text: str) -> date:
    try:
        year, month = text.split("-")[:2]
        return date(int(year), int(month), 1)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM, got {text!r}") from exc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="cw-synth", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="scale", required=True)
    sample = sub.add_parser(
        "sample", help="the small shipped sample: 13 sub-ICB locations, 2021-01 … 2022-12"
    )
    national = sub.add_parser("national", help="all 106 sub-ICB locations, ~6,500 practices, ~60M patients")
    national.add_argument("--start", type=_month, required=True, help="first month, YYYY-MM")
    national.add_argument("--end", type=_month, required=True, help="last month, YYYY-MM")
    national.add_argument("--seed", type=int, default=20130401)
    for p in (sample, national):
        p.add_argument("--out", type=Path, required=True, help="landing folder to write")
        p.add_argument("--clean", action="store_true", help="delete the output folder's feed files first")
        p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)

    plan = sample_plan() if args.scale == "sample" else national_plan(args.start, args.end, args.seed)
    if args.clean and args.out.exists():
        shutil.rmtree(args.out)
    started = time.perf_counter()
    manifest = generate(plan, args.out, progress=not args.quiet)
    elapsed = time.perf_counter() - started
    size = sum(f.stat().st_size for f in args.out.rglob("*") if f.is_file())
    print(
        f"{plan.scale}: {manifest['practices']:,} practices, {len(manifest['sub_icb_locations'])} sub-ICB "
        f"locations, {manifest['months'][0]} … {manifest['months'][1]}, "
        f"{len(manifest['gaps'])} planted gaps; "
        f"{size / 1e6:.1f} MB in {elapsed:.1f} s → {args.out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
