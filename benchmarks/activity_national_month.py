"""One national month of activity, A&E, cost and prescribing: the pipeline against bare DuckDB.

    .venv/bin/python benchmarks/activity_national_month.py [--out /tmp/cw-activity] [--reuse]

1. Generates two national months (2024-03, 2024-04: 106 sub-ICB locations, ~6,500 practices,
   ~62M patients; ~1.5M APC episodes, ~10M outpatient appointments, ~2.2M A&E attendances and the
   EPD rows of a month each) plus the reference feeds.
2. Loads the reference feeds and builds the reference models (not timed: not these feeds).
3. Month 1, timed: the real loaders for hes_apc, hes_opa, ecds, ae_monthly, epd (and the cost
   releases), then `dbt run` of every model downstream of their staging models for that month,
   then the models' dbt tests and the feeds' validation suites (reported apart).
4. The same reads and aggregations as a bare DuckDB script (typed CSV reads into tables; spells,
   outpatient, A&E and prescribing aggregates by practice → sub-ICB), in a fresh file.
5. Month 2 the same way, then checks that month 1's rows were not rebuilt (incremental models).

Prints wall times, rows, the pipeline/bare ratio and peak RSS (this process and dbt's). Not a
test: run it and report the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import date
from pathlib import Path

import duckdb

from orchestration.defs.catalog import ALL_FEEDS
from orchestration.lib import landing, settings, validation
from orchestration.lib.dbt_vars import partition_vars
from orchestration.lib.loader import ensure_raw_table, load_period
from orchestration.lib.warehouse import connect

MONTHS = (date(2024, 3, 1), date(2024, 4, 1))
ACTIVITY = ("hes_apc", "hes_opa", "ecds", "ae_monthly", "epd")
COST = ("tariff_apc_prices", "tariff_op_attendance_prices", "ncc_org_unit_costs")
STAGING = ("stg_hes__apc_episodes", "stg_hes__opa_appointments", "stg_sus__ecds", "stg_epd__prescribing")


def rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def dbt(*args: str, env: dict[str, str], check: bool = True) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), *args, "--profiles-dir", ".", "--quiet"],
        cwd=settings.DBT_PROJECT_DIR,
        env=env,
        check=check,
    )
    if done.returncode:
        print(f"dbt {args[0]} exited {done.returncode} (see dbt_project/logs)")
    return time.perf_counter() - started


def load(conn, names, out: Path, month: date | None) -> tuple[float, int]:
    started, rows = time.perf_counter(), 0
    for spec in (s for s in ALL_FEEDS if s.name in names):
        periods = [month] if month and spec.cadence == "monthly" else landing.available_periods(spec, out)
        for period in periods:
            result = load_period(conn, spec, period, landing.files_for_period(spec, period, out).files)
            rows += result.rows_loaded
    return time.perf_counter() - started, rows


def bare(out: Path, month: date, database: Path) -> float:
    """The same reads (typed by DuckDB's sniffer) and the aggregations the marts make."""
    folder = f"{month:%Y-%m}"
    started = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix="cw-bare-"))
    files = {}
    for name in ("hes_apc", "hes_opa", "ecds", "epd"):
        path = next((out / name / folder).glob("*"))
        if path.suffix == ".zip":  # as the loader does: the one file inside, extracted
            with zipfile.ZipFile(path) as archive:
                path = Path(archive.extract(archive.namelist()[0], scratch))
        files[name] = path
    with zipfile.ZipFile(next((out / "gp_practice_map" / folder).glob("*"))) as archive:
        practice_map = Path(archive.extract(archive.namelist()[0], scratch))
    with duckdb.connect(str(database)) as conn:
        conn.execute(
            "create table practice_map as select * from read_csv(?, header=true)", [str(practice_map)]
        )
        conn.execute(
            f"create table apc as select * from read_csv('{files['hes_apc']}', delim='|', header=true)"
        )
        conn.execute(
            f"create table opa as select * from read_csv('{files['hes_opa']}', delim='|', header=true)"
        )
        conn.execute(f"create table ecds as select * from read_csv('{files['ecds']}', header=true)")
        conn.execute(f"create table epd as select * from read_csv('{files['epd']}', header=true)")
        commissioner = "SUB_ICB_LOCATION_CODE"  # the benchmark months are in the sub-ICB era
        conn.execute(
            f"""
            create table spells as
            select SUSSPELLID, any_value(GPPRAC) as gpprac, min(ADMIDATE) as admidate,
                   max(DISDATE) as disdate, first(ADMIMETH order by EPIORDER) as admimeth,
                   first(CLASSPAT order by EPIORDER) as classpat, first(SUSHRG order by EPIORDER) as hrg,
                   count(*) as episodes
            from apc group by SUSSPELLID;
            create table spells_by_area as
            select m.{commissioner} as area, s.admimeth, s.classpat, count(*) as spells,
                   sum(datediff('day', s.admidate, s.disdate)) as bed_days
            from spells s left join practice_map m on s.gpprac = m.PRACTICE_CODE group by all;
            create table opa_by_area as
            select m.{commissioner} as area, o.TRETSPEF, o.ATTENDED, o.FIRSTATT, count(*) as appointments
            from opa o left join practice_map m on o.GPPRAC = m.PRACTICE_CODE group by all;
            create table ecds_by_area as
            select m.{commissioner} as area, e.EC_Department_Type, count(*) as attendances
            from ecds e left join practice_map m on e.GP_Practice_Code = m.PRACTICE_CODE group by all;
            create table epd_by_practice as
            select PRACTICE_CODE, BNF_CODE, sum(ITEMS) as items,
                   sum(ACTUAL_COST) as actual_cost
            from epd group by all;
            """
        )
    shutil.rmtree(scratch)
    return time.perf_counter() - started


def fingerprint(conn, table: str, column: str, month: date) -> tuple:
    return conn.execute(
        f"select count(*), sum(hash(t)) from {table} as t where {column} = ?", [month]
    ).fetchall()[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "cw-activity")
    parser.add_argument("--reuse", action="store_true", help="keep an earlier generated folder")
    args = parser.parse_args()
    landing_dir = args.out / "landing"
    warehouse = args.out / "pipeline.duckdb"
    if not args.reuse or not landing_dir.exists():
        shutil.rmtree(args.out, ignore_errors=True)
        started = time.perf_counter()  # in a child process, so its memory is not counted below
        subprocess.run(
            [
                sys.executable,
                "-m",
                "orchestration.synth",
                "national",
                "--start",
                f"{MONTHS[0]:%Y-%m}",
                "--end",
                f"{MONTHS[-1]:%Y-%m}",
                "--out",
                str(landing_dir),
            ],
            check=True,
        )
        print(f"generate: {time.perf_counter() - started:.1f} s")
    for path in args.out.glob("*.duckdb*"):
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    env = {
        **os.environ,
        "WAREHOUSE_PATH": str(warehouse),
        "LANDING_DIR": str(landing_dir),
        "DO_NOT_TRACK": "1",
    }
    settings.export_environment()
    figures: dict[str, object] = {}

    # Reference data and models (not timed against the bare script). Feeds the two-month plan
    # does not write (Fingertips, GPPS …) get their empty raw tables so every model builds.
    with connect(warehouse) as conn:
        for spec in ALL_FEEDS:
            ensure_raw_table(conn, spec)
        reference = [s.name for s in ALL_FEEDS if s.name not in ACTIVITY + COST]
        figures["reference_load_s"], _ = load(conn, reference, landing_dir, None)
    figures["reference_dbt_s"] = dbt("seed", env=env) + dbt(
        "run", "--exclude", *(f"{s}+" for s in STAGING), env=env
    )

    for index, month in enumerate(MONTHS, start=1):
        vars_ = json.dumps(partition_vars(month, MONTHS[-1] if month == MONTHS[0] else date(2024, 5, 1)))
        with connect(warehouse) as conn:
            load_s, rows = load(conn, ACTIVITY + (COST if index == 1 else ()), landing_dir, month)
        run_s = dbt("run", "--select", *(f"{s}+" for s in STAGING), "--vars", vars_, env=env)
        test_s = dbt("test", "--select", *(f"{s}+" for s in STAGING), "--vars", vars_, env=env, check=False)
        started = time.perf_counter()
        with connect(warehouse, read_only=True) as conn:
            for name in ACTIVITY:
                for suite in validation.suite_files(name):
                    validation.run_suite(conn, suite, month, month)
        suites_s = time.perf_counter() - started
        bare_s = bare(landing_dir, month, args.out / f"bare_{index}.duckdb")
        figures[f"month_{index}"] = {
            "rows_loaded": rows,
            "load_s": round(load_s, 1),
            "dbt_run_s": round(run_s, 1),
            "pipeline_s": round(load_s + run_s, 1),
            "dbt_tests_s": round(test_s, 1),
            "validation_suites_s": round(suites_s, 1),
            "bare_duckdb_s": round(bare_s, 1),
            "ratio_pipeline_to_bare": round((load_s + run_s) / bare_s, 2),
        }
        if index == 1:
            with connect(warehouse, read_only=True) as conn:
                before = {
                    t: fingerprint(conn, t, c, month)
                    for t, c in (
                        ("marts.fct_apc_spell", "extract_month"),
                        ("marts.fct_outpatient_attendance", "extract_month"),
                    )
                }
        print(json.dumps(figures[f"month_{index}"], indent=2), flush=True)

    with connect(warehouse, read_only=True) as conn:
        after = {
            t: fingerprint(conn, t, c, MONTHS[0])
            for t, c in (
                ("marts.fct_apc_spell", "extract_month"),
                ("marts.fct_outpatient_attendance", "extract_month"),
            )
        }
    figures["month_1_untouched_by_month_2"] = before == after
    figures["peak_rss_mb_loader_process"] = round(rss_mb(resource.RUSAGE_SELF))
    figures["peak_rss_mb_dbt"] = round(rss_mb(resource.RUSAGE_CHILDREN))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
