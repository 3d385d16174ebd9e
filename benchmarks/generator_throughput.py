"""Generator and loader throughput at national scale for every feed the generator writes.

    .venv/bin/python benchmarks/generator_throughput.py [--months 3] [--out /tmp/cw-national]

Writes N national months (all 106 sub-ICB locations, ~6,500 practices, ~60M registered patients),
then loads them through the real loaders into a fresh DuckDB file, and prints wall time, rows,
bytes and peak RSS for each stage. Not a test: run it and report the figures.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb

from orchestration.defs.catalog import ALL_FEEDS
from orchestration.lib import landing
from orchestration.lib.dbt_vars import months_between
from orchestration.lib.loader import load_period
from orchestration.synth.generate import generate, national_plan


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--months", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "cw-national")
    args = parser.parse_args()
    start = date(2024, 4, 1)
    end = months_between(start, date(2030, 1, 1))[args.months - 1]
    shutil.rmtree(args.out, ignore_errors=True)

    t0 = time.perf_counter()
    manifest = generate(national_plan(start, end), args.out, progress=True)
    generate_s = time.perf_counter() - t0
    files = [p for p in args.out.rglob("*") if p.is_file()]
    size_mb = sum(p.stat().st_size for p in files) / 1e6

    warehouse = args.out / "bench.duckdb"
    rows = 0
    t1 = time.perf_counter()
    with duckdb.connect(str(warehouse)) as conn:
        for spec in ALL_FEEDS:
            for month in landing.available_periods(spec, args.out):
                result = load_period(conn, spec, month, landing.files_for_period(spec, month, args.out).files)
                rows += result.rows_loaded
        patients = conn.execute(
            "select sum(number_of_patients) from raw.gp_registered_patients "
            "where sex = 'ALL' and age_band = 'ALL' and _period = ?",
            [start],
        ).fetchone()[0]
    load_s = time.perf_counter() - t1

    print(f"national feeds, {args.months} month(s) from {start:%Y-%m}")
    print(
        f"  practices {manifest['practices']:,}; sub-ICB locations {len(manifest['sub_icb_locations'])}; "
        f"registered patients (first month) {patients:,}"
    )
    print(
        f"  generate: {generate_s:.1f} s, {len(files)} files, {size_mb:.1f} MB zipped, "
        f"{rows / generate_s:,.0f} rows/s, {generate_s / args.months:.1f} s per month"
    )
    print(f"  load:     {load_s:.1f} s, {rows:,} rows, {rows / load_s:,.0f} rows/s")
    print(f"  peak RSS: {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
