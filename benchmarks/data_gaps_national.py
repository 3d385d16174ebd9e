"""What the validation and data-gap work adds to a national month of the pipeline.

    .venv/bin/python benchmarks/data_gaps_national.py [--out /tmp/cw-activity]

Uses the national landing folder that benchmarks/activity_national_month.py generates (run
that first, or pass --generate). Untimed: the reference feeds and models, and month 1
(2024-03) loaded and modelled, so month 2 has a month of history. Timed, for month 2 (2024-04):

- pipeline: the real loaders for hes_apc, hes_opa, ecds, ae_monthly, epd and the reference
  monthly feeds, then `dbt run` of every model downstream of their staging models, the
  data-quality models excluded;
- validation: every suite of those feeds for the month, kept in meta.validation_result and
  stored for the GX Data Docs (as the load assets do);
- data gaps: `dbt run` of the dq_ models and their intermediates, then of the marts that carry
  the gap notes (rebuilt a second time: the honest upper bound of what the notes cost);
- report: the GX Data Docs site and the HTML gap report.

Prints the seconds of each and the overhead ratio (validation + data gaps + notes + report) /
pipeline. Target (#6): at most 0.20. Not a test: run it and report the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from activity_national_month import ACTIVITY, COST, MONTHS, STAGING, dbt, load

from orchestration.defs.catalog import ALL_FEEDS
from orchestration.defs.data_quality.gap_report import render_gap_report
from orchestration.lib import data_docs, settings, validation
from orchestration.lib.dbt_vars import partition_vars
from orchestration.lib.load_assets import record_outcomes
from orchestration.lib.loader import ensure_raw_table
from orchestration.lib.warehouse import connect

MONTHLY_REFERENCE = ("gp_practice_map", "gp_registered_patients")
DQ_MODELS = (
    "stg_meta__load_log",
    "int_dq_org_month_volume",
    "int_dq_provider_catchment",
    "dq_submission_coverage",
    "dq_volume_anomaly",
    "dq_item_completeness",
    "dq_dqmi",
    "dq_attribution_gap",
    "dq_gap_summary",
    "int_dq_gap_notes",
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "cw-activity")
    parser.add_argument("--generate", action="store_true", help="generate the national landing first")
    args = parser.parse_args()
    landing_dir = args.out / "landing"
    if args.generate or not landing_dir.exists():
        subprocess.run(
            [sys.executable, "-m", "orchestration.synth", "national", "--start", f"{MONTHS[0]:%Y-%m}",
             "--end", f"{MONTHS[-1]:%Y-%m}", "--out", str(landing_dir)],
            check=True,
        )  # fmt: skip
    warehouse = args.out / "gaps.duckdb"
    for path in args.out.glob("gaps.duckdb*"):
        path.unlink()
    reports = args.out / "reports"
    os.environ.update(
        {"WAREHOUSE_PATH": str(warehouse), "LANDING_DIR": str(landing_dir), "REPORTS_DIR": str(reports)}
    )
    settings.export_environment()
    env = dict(os.environ)
    dq_exclude = ("--exclude", *DQ_MODELS, "int_dq_gap_notes+")
    figures: dict[str, object] = {}

    # Untimed set-up: reference data and month 1.
    with connect(warehouse) as conn:
        for spec in ALL_FEEDS:
            ensure_raw_table(conn, spec)
        reference = [s.name for s in ALL_FEEDS if s.name not in ACTIVITY + COST + MONTHLY_REFERENCE]
        load(conn, reference, landing_dir, None)
        load(conn, MONTHLY_REFERENCE, landing_dir, None)
        load(conn, ACTIVITY + COST, landing_dir, MONTHS[0])
    dbt("seed", env=env)
    dbt("run", "--exclude", *DQ_MODELS, "int_dq_gap_notes+", "--vars",
        json.dumps(partition_vars(MONTHS[0], MONTHS[1])), env=env)  # fmt: skip

    month = MONTHS[1]
    vars_ = json.dumps(partition_vars(month, date(2024, 5, 1)))
    started = time.perf_counter()
    with connect(warehouse) as conn:
        _, rows = load(conn, ACTIVITY, landing_dir, month)
    load_s = time.perf_counter() - started
    run_s = dbt("run", "--select", *(f"{s}+" for s in STAGING), *dq_exclude, "--vars", vars_, env=env)
    figures["rows_loaded"] = rows
    figures["pipeline_s"] = round(load_s + run_s, 1)
    figures["pipeline_load_s"] = round(load_s, 1)
    figures["pipeline_dbt_run_s"] = round(run_s, 1)

    started = time.perf_counter()
    feeds = ACTIVITY + MONTHLY_REFERENCE
    with connect(warehouse, read_only=True) as conn:
        outcomes = [
            validation.run_suite(conn, s, month, month) for f in feeds for s in validation.suite_files(f)
        ]
    with connect(warehouse) as conn:
        record_outcomes(conn, outcomes, month, month)
    data_docs.store(outcomes, reports / "data_docs", run_name=f"{month:%Y-%m}")
    figures["validation_s"] = round(time.perf_counter() - started, 1)
    figures["suites"] = len(outcomes)
    figures["suites_failed"] = sum(not o.passed for o in outcomes)

    figures["data_gap_models_s"] = round(dbt("run", "--select", *DQ_MODELS, "--vars", vars_, env=env), 1)
    figures["honesty_marts_s"] = round(
        dbt(
            "run", "--select", "int_dq_gap_notes+", "--exclude", "int_dq_gap_notes", "--vars", vars_, env=env
        ),
        1,
    )

    started = time.perf_counter()
    index = data_docs.build(reports / "data_docs")
    with connect(warehouse, read_only=True) as conn:
        pages = render_gap_report(
            conn, reports / "gap_report" / "benchmark", "benchmark", data_docs_index=index
        )
        figures["gap_rows"] = dict(
            conn.execute(
                "select gap_kind, count(*) from marts.dq_gap_summary group by all order by 1"
            ).fetchall()
        )
        figures["coverage_cells"] = conn.execute(
            "select count(*) from marts.dq_submission_coverage"
        ).fetchall()[0][0]
    figures["report_s"] = round(time.perf_counter() - started, 1)
    figures["report_pages"] = len(pages)

    added = (
        figures["validation_s"]
        + figures["data_gap_models_s"]
        + figures["honesty_marts_s"]
        + figures["report_s"]
    )
    figures["overhead_s"] = round(added, 1)
    figures["overhead_ratio"] = round(added / figures["pipeline_s"], 3)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
