"""The gap report: after every run, a static HTML page (England and one per sub-ICB location)
of the data gaps the dq_ marts found, the coverage heat-map and the checks that failed, beside
the GX Data Docs of the validation suites. Both open from disk, without a server:
`reports/gap_report/latest.html` points at the newest run's page."""

from datetime import UTC, datetime

import dagster as dg

from orchestration.defs.data_quality.gap_report import render_gap_report
from orchestration.lib import data_docs, settings
from orchestration.lib.load_assets import DATA_DOCS_DIR
from orchestration.lib.warehouse import WRITER_POOL, connect

GROUP = "data_quality"
DQ_MARTS = (
    "dq_submission_coverage",
    "dq_volume_anomaly",
    "dq_item_completeness",
    "dq_dqmi",
    "dq_attribution_gap",
)
LATEST = "latest.html"


def run_label(run_id: str, stamp: str) -> str:
    """How the pages name the run: the templates say "Run …" themselves."""
    return f"{run_id[:8]}, {stamp}"


@dg.asset(
    key=dg.AssetKey(["reports", "gap_report"]),
    group_name=GROUP,
    deps=[dg.AssetKey(["marts", name]) for name in (*DQ_MARTS, "dq_gap_summary")],
    description="Static HTML gap report (England and per sub-ICB location) and the GX Data Docs.",
    pool=WRITER_POOL,
    kinds={"html"},
)
def gap_report(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    reports = settings.reports_dir()
    docs_root = reports / DATA_DOCS_DIR
    index = data_docs.build(docs_root) if (docs_root / "results").is_dir() else None
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ")
    out_dir = reports / "gap_report" / stamp
    with connect(read_only=True) as conn:
        pages = render_gap_report(
            conn, out_dir, run_label=run_label(context.run_id, stamp), data_docs_index=index
        )
        gaps = dict(
            conn.execute("select severity, count(*) from marts.dq_gap_summary group by all").fetchall()
        )
    latest = reports / "gap_report" / LATEST
    target = f"{stamp}/index.html"
    latest.write_text(
        f'<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0; url={target}">'
        f'<title>Gap report</title><a href="{target}">Latest gap report ({stamp})</a>\n'
    )
    context.log.info(f"Gap report: {out_dir / 'index.html'} ({len(pages)} pages)")
    return dg.MaterializeResult(
        metadata={
            "report": dg.MetadataValue.path(str(out_dir / "index.html")),
            "latest": dg.MetadataValue.path(str(latest)),
            "data_docs": dg.MetadataValue.path(str(index) if index else "not built"),
            "pages": len(pages),
            "gaps_error": gaps.get("error", 0),
            "gaps_warn": gaps.get("warn", 0),
            "gaps_info": gaps.get("info", 0),
        }
    )


assets = [gap_report]
