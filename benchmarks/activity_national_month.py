"""One national month of activity, A&E, cost and prescribing: the pipeline against bare DuckDB.

    .venv/bin/python benchmarks/activity_national_month.py [--out /tmp/cw-activity] [--reuse]

1. Generates two national months (2024-03, 2024-04: 106 sub-ICB locations, ~6,500 practices,
   ~62M patients; ~1.5M APC episodes, ~10M outpatient appointments, ~2.2M A&E attendances and the
   EPD rows of a month each) plus the reference feeds.
2. Loads the reference feeds and the cost releases (annual) and builds their models (not timed:
   not a month of these feeds).
3. Month 1, timed (the pipeline): the real loaders for hes_apc, hes_opa, ecds, ae_monthly and
   epd, then `dbt run` of every model downstream of their staging models for that month. Then,
   reported apart, the models' dbt tests and the feeds' validation suites.
4. The same reads and the same aggregations in a bare DuckDB script, on a copy of the warehouse
   taken before the month's loads: each file typed straight into its raw table (the loader's
   typing, none of its checks), then the SQL of every model dbt ran, compiled by dbt, executed
   in dbt's order with plain `create or replace` / delete + insert. The ratio pipeline / bare is
   what the loader's safety (quarantine, line numbers, hashing, atomic swap) and dbt and
   Dagster's orchestration cost (target: at most 1.5).
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
from orchestration.lib.loader import _read_csv_sql, _value_sql, detect_variant, ensure_raw_table, load_period
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
        stdout=subprocess.DEVNULL if args[0] == "compile" else None,  # it prints the SQL
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


def compiled_models(selection: tuple[str, ...], vars_: str, env: dict[str, str]) -> list[dict]:
    """The selected models as dbt runs them, in dbt's order: relation, materialisation, unique
    key and the compiled select (untimed: `dbt compile` against the pipeline's warehouse)."""
    models_only = (f"{s},resource_type:model" for s in selection)
    dbt("compile", "--select", *models_only, "--vars", vars_, env=env)
    target = settings.DBT_PROJECT_DIR / "target"
    nodes = json.loads((target / "manifest.json").read_text())["nodes"]
    order = [r["unique_id"] for r in json.loads((target / "run_results.json").read_text())["results"]]
    return [
        {
            "name": nodes[uid]["name"],
            "relation": nodes[uid]["relation_name"],
            "materialized": nodes[uid]["config"]["materialized"],
            "unique_key": nodes[uid]["config"].get("unique_key"),
            "sql": nodes[uid]["compiled_code"],
        }
        for uid in order
        if uid.startswith("model.")
    ]


def bare_read_sql(name: str, path: Path) -> str:
    """A plain typed read of a file into its raw table: the loader's own reader (without its
    rejects table) and its cleaning and typing of each column, without its checks, quarantine,
    line numbers, hashing or transaction."""
    spec = next(s for s in ALL_FEEDS if s.name == name)
    variant = detect_variant(spec, path)
    typed = ", ".join(
        col.typed_expression(_value_sql(spec, variant.mapping[col.name])) + f" as {col.name}"
        for col in spec.columns
        if col.name in variant.mapping
    )
    read = _read_csv_sql(spec, variant, path, spec.encoding, None)
    return f"select {typed}, '{path.name}' as _source_file, '{variant.name}' as _schema_variant from {read}"


def bare(out: Path, month: date, database: Path, models: list[dict]) -> tuple[float, float]:
    """The same reads and the same model SQL in plain DuckDB, on a copy of the warehouse taken
    before the month's activity loads: each file typed straight into its raw table, then every
    model dbt ran, in dbt's order, as `create or replace` (views, tables) or delete + insert of
    the month (incremental models, as dbt-duckdb's delete+insert does). No dbt, no Dagster, no
    loader checks. Returns (read seconds, model seconds)."""
    folder = f"{month:%Y-%m}"
    started = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix="cw-bare-"))
    with duckdb.connect(str(database), config=settings.duckdb_config()) as conn:
        for name in ACTIVITY:
            path = next((out / name / folder).glob("*"))
            if path.suffix == ".zip":  # as the loader does: the one file inside, extracted
                with zipfile.ZipFile(path) as archive:
                    path = Path(archive.extract(archive.namelist()[0], scratch))
            typed = f"select *, ?::date as _period from ({bare_read_sql(name, path)})"
            conn.execute(f"insert into raw.{name} by name {typed}", [month])
        read_s = time.perf_counter() - started
        started = time.perf_counter()
        for model in models:
            if model["materialized"] == "view":
                conn.execute(f"create or replace view {model['relation']} as {model['sql']}")
            elif model["materialized"] == "incremental":
                key = model["unique_key"]
                conn.execute(f"create or replace temp table bare_batch as {model['sql']}")
                conn.execute(f"create table if not exists {model['relation']} as from bare_batch limit 0")
                conn.execute(f"delete from {model['relation']} where {key} in (select {key} from bare_batch)")
                conn.execute(f"insert into {model['relation']} by name select * from bare_batch")
            else:
                conn.execute(f"create or replace table {model['relation']} as {model['sql']}")
    shutil.rmtree(scratch)
    return read_s, time.perf_counter() - started


def slowest_models(top: int = 8) -> dict[str, float]:
    """The dbt run's slowest models (its run_results.json)."""
    results = json.loads((settings.DBT_PROJECT_DIR / "target" / "run_results.json").read_text())["results"]
    ranked = sorted(results, key=lambda r: r["execution_time"], reverse=True)[:top]
    return {r["unique_id"].split(".")[-1]: round(r["execution_time"], 1) for r in ranked}


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

    # Reference data, the cost releases (annual) and their models: not timed against the bare
    # script. Feeds the two-month plan does not write (Fingertips, GPPS …) get their empty raw
    # tables so every model builds.
    with connect(warehouse) as conn:
        for spec in ALL_FEEDS:
            ensure_raw_table(conn, spec)
        reference = [s.name for s in ALL_FEEDS if s.name not in ACTIVITY]
        figures["reference_load_s"], _ = load(conn, reference, landing_dir, None)
    figures["reference_dbt_s"] = dbt("seed", env=env) + dbt(
        "run", "--exclude", *(f"{s}+" for s in STAGING), env=env
    )

    selection = tuple(f"{s}+" for s in STAGING)
    bare_dir = args.out / "bare"
    for index, month in enumerate(MONTHS, start=1):
        vars_ = json.dumps(partition_vars(month, MONTHS[-1] if month == MONTHS[0] else date(2024, 5, 1)))
        # Untimed: the bare script starts from the warehouse as it is before this month's loads
        # (same reference tables, same earlier months), under the same catalog name.
        shutil.rmtree(bare_dir, ignore_errors=True)
        bare_dir.mkdir(parents=True)
        shutil.copy2(warehouse, bare_dir / warehouse.name)

        with connect(warehouse) as conn:
            load_s, rows = load(conn, ACTIVITY, landing_dir, month)
        run_s = dbt("run", "--select", *selection, "--vars", vars_, env=env)
        model_timings = slowest_models()
        test_s = dbt("test", "--select", *selection, "--vars", vars_, env=env, check=False)
        started = time.perf_counter()
        with connect(warehouse, read_only=True) as conn:
            for name in ACTIVITY:
                for suite in validation.suite_files(name):
                    validation.run_suite(conn, suite, month, month)
        suites_s = time.perf_counter() - started
        models = compiled_models(selection, vars_, env)
        bare_read_s, bare_models_s = bare(landing_dir, month, bare_dir / warehouse.name, models)
        bare_s = bare_read_s + bare_models_s
        figures[f"month_{index}"] = {
            "rows_loaded": rows,
            "load_s": round(load_s, 1),
            "dbt_run_s": round(run_s, 1),
            "pipeline_s": round(load_s + run_s, 1),
            "models": len(models),
            "bare_read_s": round(bare_read_s, 1),
            "bare_models_s": round(bare_models_s, 1),
            "bare_duckdb_s": round(bare_s, 1),
            "ratio_pipeline_to_bare": round((load_s + run_s) / bare_s, 2),
            "ratio_load_to_bare_read": round(load_s / bare_read_s, 2),
            "ratio_dbt_run_to_bare_models": round(run_s / bare_models_s, 2),
            "dbt_tests_s": round(test_s, 1),
            "validation_suites_s": round(suites_s, 1),
            "slowest_models_s": model_timings,
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
    shutil.rmtree(bare_dir, ignore_errors=True)

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
