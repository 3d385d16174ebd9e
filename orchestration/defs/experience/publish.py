"""Friends and Family Test values as we publish them: NHS England's suppression applied.

The warehouse keeps FFT counts as received (`intermediate.int_fft_percentages`). Anything we hand
to another organisation goes through this asset. It applies first-level, second-level and
cascade suppression per setting, month and ICB (fft_suppression.suppress_fft), recomputes the
percentages from what is left, and writes `share.fft_trust_experience` and a CSV extract under
`<warehouse folder>/exports/`.
"""

from pathlib import Path

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from orchestration.defs.experience.fft_suppression import suppress_fft
from orchestration.lib.warehouse import WRITER_POOL

LIKERT = ["very_good", "good", "neither_good_nor_poor", "poor", "very_poor", "dont_know"]
SOURCE = dg.AssetKey(["intermediate", "int_fft_percentages"])


def publishable(frame: pd.DataFrame) -> pd.DataFrame:
    """Suppress each setting × month separately (ICBs are the parents, trusts the children)."""
    parts = [
        suppress_fft(part, "icb_code", "trust_code", "total_responses", LIKERT)
        for _, part in frame.groupby(["setting", "period_month"], sort=True)
    ]
    out = pd.concat(parts, ignore_index=True) if parts else frame.assign(suppression_reason=None)
    shown = out["suppression_reason"].isna() & (out["total_responses"] > 0)
    out["percentage_positive"] = ((out["very_good"] + out["good"]) / out["total_responses"]).where(shown)
    out["percentage_negative"] = ((out["poor"] + out["very_poor"]) / out["total_responses"]).where(shown)
    out["total_responses"] = out["total_responses"].where(out["suppression_reason"].isna()).astype("Int64")
    return out


def extract_csv(shared: pd.DataFrame) -> str:
    """The shared table as NHS England writes it: `*` for suppressed cells, `-` where undefined."""
    out = shared.copy()
    out["period_month"] = pd.to_datetime(out["period_month"]).dt.strftime("%Y-%m")
    hidden = out["suppression_reason"].notna()
    for column in [*LIKERT, "total_responses", "percentage_positive", "percentage_negative"]:
        out[column] = out[column].astype("object").where(~hidden, "*")
    for column in ("percentage_positive", "percentage_negative"):
        out[column] = out[column].where(out[column].notna(), "-")
    out["suppression_reason"] = out["suppression_reason"].fillna("")
    return out.to_csv(index=False, lineterminator="\n")


def write_share_table(conn) -> pd.DataFrame:
    """Replace `share.fft_trust_experience` with the suppressed FFT; returns what it wrote."""
    frame = conn.execute(
        "select setting, period_month, icb_code, trust_code, trust_name, "
        + ", ".join(LIKERT)
        + ", total_responses from intermediate.int_fft_percentages order by all"
    ).df()
    shared = publishable(frame)
    conn.execute("create schema if not exists share")
    conn.register("shared_frame", shared)
    # Typed as the source's yml declares (models/share/_share__sources.yml): pandas carries the
    # month as a timestamp, and a column with no value this window would otherwise have no type.
    columns = ", ".join(
        f'cast("{column.name}" as {column.data_type}) as "{column.name}"' for column in shared_columns()
    )
    conn.execute(f"create or replace table share.fft_trust_experience as select {columns} from shared_frame")
    conn.unregister("shared_frame")
    return shared


def shared_columns():
    """The columns of share.fft_trust_experience, with their types, as its yml declares them."""
    from orchestration.defs.dbt.project import dbt_project
    from orchestration.release import tables

    manifest = tables.load_manifest(Path(dbt_project.manifest_path))
    (table,) = [t for t in tables.published_tables(manifest) if t.relation == "share.fft_trust_experience"]
    return table.columns


@dg.asset(
    key=dg.AssetKey(["share", "fft_trust_experience"]),
    deps=[SOURCE],
    group_name="experience",
    pool=WRITER_POOL,
    kinds={"duckdb", "csv"},
    description="FFT per trust and month with NHS England's published suppression applied: safe to share.",
)
def fft_trust_experience(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
    with duckdb.get_connection() as conn:
        shared = write_share_table(conn)
    exports = Path(duckdb.database).parent / "exports"
    exports.mkdir(parents=True, exist_ok=True)
    extract = exports / "fft_trust_experience.csv"
    extract.write_text(extract_csv(shared))
    reasons = shared["suppression_reason"].value_counts().to_dict()
    context.log.info(f"FFT extract: {len(shared):,} rows, suppressed {reasons}")
    return dg.MaterializeResult(
        metadata={
            "rows": len(shared),
            "suppressed_by_reason": dg.MetadataValue.json({str(k): int(v) for k, v in reasons.items()}),
            "extract": dg.MetadataValue.path(str(extract)),
        }
    )
