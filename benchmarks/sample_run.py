"""How long `make run` takes on the shipped sample, and where the time goes.

Runs `python -m orchestration.run_all` (what `make run` calls after install) on a fresh warehouse,
Dagster home and release folder in a temporary directory, `--repeat` times, and prints the wall
time and the step times from its progress lines (orchestration/lib/progress.py), median over the
runs. Not a test: the figures go in the README.

    .venv/bin/python benchmarks/sample_run.py --repeat 3
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
STEP = re.compile(r"^\[ *\d+\] ok +(\S+) +([0-9.]+) s", re.M)


def one_run(scratch: Path) -> tuple[float, dict[str, float]]:
    home = scratch / "dagster_home"
    home.mkdir(parents=True)
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    env = {
        **os.environ,
        "WAREHOUSE_PATH": str(scratch / "warehouse" / "commissioning.duckdb"),
        "DAGSTER_HOME": str(home),
        "REPORTS_DIR": str(scratch / "reports"),
        "PUBLISH_DIR": str(scratch / "published"),
        "SHARE_DIR": str(scratch / "packages"),
    }
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "orchestration.run_all"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(done.stdout[-3000:] + done.stderr[-3000:])
    return elapsed, {name: float(seconds) for name, seconds in STEP.findall(done.stdout)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    walls, steps = [], defaultdict(list)
    for index in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="cw-sample-run-") as scratch:
            wall, times = one_run(Path(scratch))
        walls.append(wall)
        for name, seconds in times.items():
            steps[name].append(seconds)
        print(f"run {index + 1}: {wall:.1f} s", flush=True)
    median = {name: statistics.median(values) for name, values in steps.items()}
    loads = [v for k, v in median.items() if k.startswith("raw/")]
    wall = statistics.median(walls)
    print(f"\nmake run on the sample (after install), median of {args.repeat}: {wall:.1f} s")
    print(f"  feed loads and their checks ({len(loads)} steps): {sum(loads):.1f} s")
    for name, seconds in sorted(median.items(), key=lambda item: -item[1]):
        if not name.startswith("raw/"):
            print(f"  {name:<36} {seconds:6.1f} s")
    other = wall - sum(median.values())
    print(f"  start-up, checks that passed, summary   {other:6.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
