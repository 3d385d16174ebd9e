"""What the load's fault guards cost on a national month: this tree against an earlier commit.

    .venv/bin/python benchmarks/load_overhead.py --landing /tmp/nat/landing --month 2024-03 \
        [--base 11225ba] [--repeat 3]

For each monthly feed with a file for the month in the landing folder (a national month from
`cw-synth national`), loads the month into a fresh warehouse and runs every suite of the feed,
the way the load asset does:

- this tree: stage the file, switch it in and judge it by the blocking suites inside the
  transaction (the guards: truncation, an open quote, overlong or multi-line text, a shrunk
  re-delivery), then run the other suites read-only;
- the base commit (checked out in a temporary git worktree, run with this tree's Python): load,
  then run every suite read-only after the commit (no guards).

The DuckDB lock retry is not exercised: with no other process holding the file it returns on the
first attempt (its cost is the one `connect` it already made). Prints seconds per feed (median of
`--repeat`), the difference, and the difference as a share of `--pipeline` seconds, the national
month's whole pipeline (default: 328 s, `make run` on the same month in the release benchmark).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Run inside a tree (this one or the base worktree): one feed, one fresh warehouse, seconds out.
WORKER = r"""
import inspect, json, sys, time
from datetime import date
from pathlib import Path
import duckdb
from orchestration.defs.catalog import ALL_FEEDS
from orchestration.lib import landing, loader, settings, validation

feed, month, warehouse = sys.argv[1], date.fromisoformat(sys.argv[2] + "-01"), sys.argv[4]
landing_dir = Path(sys.argv[3])
spec = next(s for s in ALL_FEEDS if s.name == feed)
files = landing.files_for_period(spec, month, landing_dir).files
suites = validation.suite_files(spec.name)
conn = duckdb.connect(warehouse, config=settings.duckdb_config())
conn.execute("set enable_progress_bar = false")
for other in ALL_FEEDS:  # suites look up other feeds' tables (the practice map, ODS)
    loader.ensure_raw_table(conn, other)
for suite in suites:  # GX's imports and first validation are not the load's cost
    validation.run_suite(conn, suite, month, month)
guarded = "judge" in inspect.signature(loader.load_period).parameters
if guarded:  # imported before the clock starts (it imports Dagster)
    from orchestration.lib.load_assets import blocking_judge
started = time.perf_counter()
if guarded:
    result = loader.load_period(conn, spec, month, files, blocking_judge(spec))
    rest = [s for s in suites if s.severity != "error"]
else:
    result = loader.load_period(conn, spec, month, files)
    rest = suites
conn.close()
with duckdb.connect(warehouse, read_only=True) as reader:
    for suite in rest:
        validation.run_suite(reader, suite, month, month)
print("RESULT " + json.dumps({"seconds": time.perf_counter() - started, "rows": result.rows_loaded}))
"""


def run(tree: Path, feed: str, month: str, landing_dir: Path) -> dict:
    with tempfile.TemporaryDirectory(prefix="cw-overhead-") as tmp:
        env = {
            **os.environ,
            "PYTHONPATH": str(tree),
            "WAREHOUSE_PATH": f"{tmp}/w.duckdb",
            "GX_ANALYTICS_ENABLED": "False",
        }
        done = subprocess.run(
            [sys.executable, "-c", WORKER, feed, month, str(landing_dir), f"{tmp}/w.duckdb"],
            cwd=tree,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            raise SystemExit(f"{tree} {feed}: {done.stderr[-3000:]}")
        found = re.findall(r"RESULT (\{.*?\})", done.stdout)
        if not found:
            raise SystemExit(f"{tree} {feed}: no result\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        return json.loads(found[-1])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--month", required=True)
    parser.add_argument("--base", default="11225ba", help="commit before the guards")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--feeds", nargs="*", help="only these feeds (default: every monthly feed landed)")
    parser.add_argument(
        "--pipeline", type=float, default=328.0, help="seconds of the national month's pipeline"
    )
    args = parser.parse_args()

    sys.path.insert(0, str(REPO))
    from orchestration.defs.catalog import ALL_FEEDS
    from orchestration.lib import landing

    feeds = [
        s.name
        for s in ALL_FEEDS
        if s.cadence == "monthly"
        and (landing.feed_dir(s, args.landing) / args.month).is_dir()
        and (not args.feeds or s.name in args.feeds)
    ]
    base = Path(tempfile.mkdtemp(prefix="cw-base-"))
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(base), args.base],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    try:
        total_new = total_old = 0.0
        print(f"{'feed':<28}{'rows':>12}{'base s':>10}{'this s':>10}{'diff s':>9}")
        for feed in feeds:
            old, new = [], []
            for _ in range(args.repeat):  # interleaved, so drift in the machine's load hits both
                old.append(run(base, feed, args.month, args.landing))
                new.append(run(REPO, feed, args.month, args.landing))
            o = statistics.median(r["seconds"] for r in old)
            n = statistics.median(r["seconds"] for r in new)
            total_old, total_new = total_old + o, total_new + n
            print(f"{feed:<28}{new[0]['rows']:>12,}{o:>10.2f}{n:>10.2f}{n - o:>+9.2f}")
        diff = total_new - total_old
        print(f"{'all':<28}{'':>12}{total_old:>10.2f}{total_new:>10.2f}{diff:>+9.2f}")
        print(
            f"guards: {diff:+.1f} s = {diff / args.pipeline:+.2%} of the national month's pipeline "
            f"({args.pipeline:.0f} s)"
        )
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=REPO, check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
