"""Publishing a national month's release, and BI queries on it against the private warehouse.

    .venv/bin/python benchmarks/release_national.py [--out /tmp/cw-activity] [--reuse]

1. Uses the national landing folder of benchmarks/activity_national_month.py (generates it
   when absent: 2024-03 and 2024-04, 106 sub-ICB locations, ~6,500 practices).
2. Untimed: the reference feeds, the cost releases and their models.
3. Timed, the month's pipeline (2024-03): the real loaders for hes_apc, hes_opa, ecds,
   ae_monthly and epd, then `dbt run` of every model downstream of their staging models; then
   every other model (the dq_ marts and the rest), so the release has every published table.
4. Timed, publishing the open release (`orchestration.release.publish.publish`): Parquet, CSV
   extracts, catalog, sha256 of every file, the switch. Twice: with the dbt docs built (the
   first release of a project version) and with them cached (every later month).
5. Five typical BI queries side by side, on the private DuckDB tables and on the release's
   catalog, each the median of 7 runs after a warm-up, in one process; and a sixth over the
   largest fact (fct_prescribing, 14.5M rows a month), which the catalog reads as a view over
   its Parquet (above NATIVE_MAX_ROWS).

Targets (#17): publishing ≤ 10% of the month's pipeline time; each query ≤ 1.2× the private.
Not a test: run it and report the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))

from activity_national_month import ACTIVITY, MONTHS, STAGING, dbt, load

from orchestration.defs.catalog import ALL_FEEDS
from orchestration.defs.experience.publish import write_share_table
from orchestration.lib import settings
from orchestration.lib.dbt_vars import partition_vars
from orchestration.lib.loader import ensure_raw_table
from orchestration.lib.warehouse import connect
from orchestration.release import docs, tables
from orchestration.release.publish import CheckSummary, publish
from orchestration.release.store import ReleaseStore

MONTH = MONTHS[0]


def bi_queries(conn: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Five queries a BI dashboard sends, for one sub-ICB location (the largest) and measure."""
    area = conn.execute(
        "select sub_icb_location_code from marts.fct_prescribing group by 1 order by count(*) desc limit 1"
    ).fetchone()[0]
    measure = conn.execute("select min(measure_id) from marts.fct_prescribing_measure").fetchone()[0]
    return {
        "area_month_trend (mart_commissioning_summary)": (
            "select month, setting, sum(activity) as activity, sum(cost) as cost, "
            "sum(cost) / sum(registered_patients) as cost_per_head from marts.mart_commissioning_summary "
            f"where area_level = 'sub_icb_location' and area_code = '{area}' group by all order by all"
        ),
        "indicator_spine (mart_ois_indicator)": (
            "select indicator_id, period, value, lower_ci_95, upper_ci_95, england_value, "
            "compared_to_england_95, recent_trend, value_note from marts.mart_ois_indicator "
            f"where area_code = '{area}' order by indicator_id, period"
        ),
        "top_20_services (mart_top_services)": (
            f"select * from marts.mart_top_services where area_code = '{area}' and spend_rank <= 20 "
            "order by financial_year_start, spend_rank"
        ),
        "practice_measure_percentiles (fct_prescribing_measure)": (
            "select month, org_code, calc_value, percentile, cost_savings from marts.fct_prescribing_measure "
            f"where org_type = 'practice' and sub_icb_location_code = '{area}' and measure_id = '{measure}' "
            "order by month, percentile"
        ),
        "gap_summary (dq_gap_summary)": (
            "select month, feed, gap_kind, severity, message from marts.dq_gap_summary "
            f"where sub_icb_location_code in ('{area}', 'ENGLAND') order by month, feed"
        ),
        # Not one of the five: the largest fact, a view over its Parquet in the catalog.
        "largest_fact_area_trend (fct_prescribing, view over Parquet)": (
            "select month, bnf_chapter_code, sum(items) as items, sum(actual_cost) as cost "
            f"from marts.fct_prescribing where sub_icb_location_code = '{area}' group by all order by all"
        ),
    }


def median_seconds(conn: duckdb.DuckDBPyConnection, sql: str, runs: int = 7) -> tuple[float, int]:
    rows = len(conn.execute(sql).fetchall())  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        conn.execute(sql).fetchall()
        times.append(time.perf_counter() - started)
    return statistics.median(times), rows


def build_warehouse(work: Path, warehouse: Path, landing_dir: Path, env: dict, figures: dict) -> float:
    """Untimed: the reference feeds and models. Timed: the month's pipeline (its seconds)."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    with connect(warehouse) as conn:
        for spec in ALL_FEEDS:
            ensure_raw_table(conn, spec)
        reference = [s.name for s in ALL_FEEDS if s.name not in ACTIVITY]
        load(conn, reference, landing_dir, None)
    dbt("seed", env=env)
    dbt("run", "--exclude", *(f"{s}+" for s in STAGING), env=env)

    vars_ = json.dumps(partition_vars(MONTH, date(2024, 4, 1)))
    with connect(warehouse) as conn:
        load_s, rows = load(conn, ACTIVITY, landing_dir, MONTH)
    run_s = dbt("run", "--select", *(f"{s}+" for s in STAGING), "--vars", vars_, env=env)
    figures["rows_loaded"] = rows
    figures["pipeline"] = {"load_s": round(load_s, 1), "dbt_run_s": round(run_s, 1)}
    # Untimed: whatever the two runs above did not build (models downstream of no activity).
    dbt("run", "--vars", vars_, "--exclude", *(f"{s}+" for s in STAGING), env=env)
    with connect(warehouse) as conn:
        write_share_table(conn)
    return load_s + run_s


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "cw-activity")
    parser.add_argument("--reuse", action="store_true", help="keep an earlier generated folder")
    parser.add_argument(
        "--pipeline-seconds",
        type=float,
        help="reuse the warehouse an earlier run built, with the pipeline time it reported, and "
        "measure only the publishing and the queries again",
    )
    args = parser.parse_args()
    landing_dir = args.out / "landing"
    if not args.reuse or not landing_dir.exists():
        shutil.rmtree(landing_dir, ignore_errors=True)
        window = ["--start", f"{MONTHS[0]:%Y-%m}", "--end", f"{MONTHS[-1]:%Y-%m}"]
        subprocess.run(
            [sys.executable, "-m", "orchestration.synth", "national", *window, "--out", str(landing_dir)],
            check=True,
        )
    work = args.out / "release_bench"
    warehouse = work / "warehouse.duckdb"
    env = {
        **os.environ,
        "WAREHOUSE_PATH": str(warehouse),
        "LANDING_DIR": str(landing_dir),
        "DO_NOT_TRACK": "1",
    }
    os.environ.update({"WAREHOUSE_PATH": str(warehouse), "LANDING_DIR": str(landing_dir)})
    settings.export_environment()
    figures: dict[str, object] = {}
    if args.pipeline_seconds:
        pipeline_s = args.pipeline_seconds
        for stale in (work / "published", work / "docs-cache"):
            shutil.rmtree(stale, ignore_errors=True)
    else:
        pipeline_s = build_warehouse(work, warehouse, landing_dir, env, figures)
    figures["pipeline_s"] = round(pipeline_s, 1)

    manifest = tables.load_manifest(settings.DBT_PROJECT_DIR / "target" / "manifest.json")
    store = ReleaseStore(work / "published")
    cache = work / "docs-cache"
    timings = {}
    for label in ("docs_built", "docs_cached"):
        release = publish(
            warehouse=warehouse,
            manifest=manifest,
            store=store,
            checks=CheckSummary(source="benchmark"),
            run_id=label,
            docs=lambda catalog: docs.build_docs(manifest, catalog, cache),
            log=lambda line: None,
        )
        timings[label] = release.seconds
        figures[f"publish_{label}_s"] = round(release.seconds, 1)
        time.sleep(1.1)
    figures["release"] = {
        "tables": len(release.tables),
        "rows": release.rows,
        "megabytes": round(release.bytes / 1e6, 1),
        "largest_tables": dict(sorted(release.tables.items(), key=lambda kv: -kv[1])[:5]),
    }
    for label, seconds in timings.items():
        figures[f"publish_share_of_pipeline_{label}"] = round(seconds / pipeline_s, 3)

    private = duckdb.connect(str(warehouse), read_only=True, config=settings.duckdb_config())
    public = duckdb.connect(str(store.catalog), read_only=True, config=settings.duckdb_config())
    queries = {}
    for name, sql in bi_queries(private).items():
        private_s, private_rows = median_seconds(private, sql)
        public_s, public_rows = median_seconds(public, sql)
        assert private_rows == public_rows, f"{name}: {private_rows} rows private, {public_rows} published"
        queries[name] = {
            "rows": private_rows,
            "private_ms": round(private_s * 1000, 1),
            "published_ms": round(public_s * 1000, 1),
            "ratio": round(public_s / private_s, 2),
        }
    private.close()
    public.close()
    figures["bi_queries"] = queries
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
