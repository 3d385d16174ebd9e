"""Feeds and months the landing folder does not hold, recorded as data gaps in `meta.feed_absence`.

A commissioning support unit rarely holds every feed. A feed with no file for any month of a
run (no folder, or files for other months only), or a snapshot feed with no release, is a data
gap: its load asset succeeds on an empty (or unchanged) raw table, records the gap here, and
the data-quality marts report it (`int_dq_feed_absence` → `dq_submission_coverage`,
`dq_gap_summary`, the provisional flags of the marts built from it). A month missing from a
feed that delivers the other months of the run still fails its load (a misfiled or misnamed
delivery the operator can fix), and is recorded here too (kind `missing_month`) so the closing
summary lists it as a gap.

The table is created with the other meta tables (`loader.META_DDL`), so the dbt source exists
once any feed has loaded. One row per feed × month (`_period` NULL for a snapshot feed). Each
load of a window replaces the feed's rows for that window's months, so the table says what the
latest load of each month found.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from orchestration.lib import loader
from orchestration.lib.feed_spec import FeedSpec
from orchestration.lib.warehouse import table_exists

FEED_ABSENT = "feed_absent"
MISSING_MONTH = "missing_month"


@dataclass(frozen=True)
class Absence:
    feed: str
    kind: str
    months: tuple[date, ...]
    detail: str


def span(months: Sequence[date]) -> str:
    """`2024-04…2025-03`, or `2024-04` for one month."""
    first, last = min(months), max(months)
    return f"{first:%Y-%m}" if first == last else f"{first:%Y-%m}…{last:%Y-%m}"


def why_absent(folder: Path, spec: FeedSpec, delivered: Sequence[date]) -> str:
    """What the landing folder holds instead, in words."""
    if not folder.is_dir():
        return "no such folder"
    if delivered:
        return f"it holds files for {span(delivered)} only"
    return f"no <YYYY-MM>/ folder in it holds a file named like {' or '.join(spec.file_patterns)}"


def monthly_detail(spec: FeedSpec, folder: Path, months: Sequence[date], delivered: Sequence[date]) -> str:
    return f"{spec.name}: no files for {span(months)} in {folder} ({why_absent(folder, spec, delivered)})"


def snapshot_detail(spec: FeedSpec, folder: Path) -> str:
    return f"{spec.name}: no release in {folder} ({why_absent(folder, spec, ())})"


def record(
    conn: duckdb.DuckDBPyConnection,
    spec: FeedSpec,
    folder: Path,
    window: Sequence[date] | None,
    absent: Sequence[date | None],
    kind: str,
    detail: str,
    run_id: str | None,
) -> None:
    """Replace the feed's absence rows for the window with one row per month in `absent`.

    For a snapshot feed the window is None and `absent` is `[None]` (no release) or empty. An
    empty `absent` clears the window: the feed arrived, or its months were loaded before.
    """
    loader.ensure_meta(conn)
    recorded_at = datetime.now(UTC).replace(tzinfo=None)
    first, last = (min(window), max(window)) if window else (None, None)
    conn.execute("begin transaction")
    try:
        if window is None:
            conn.execute("delete from meta.feed_absence where feed = ? and _period is null", [spec.name])
            periods: Sequence[date | None] = [None] if absent else []
        else:
            conn.execute(
                "delete from meta.feed_absence where feed = ? and _period in (select unnest(?::date[]))",
                [spec.name, list(window)],
            )
            periods = list(absent)
        for period in periods:
            conn.execute(
                "insert into meta.feed_absence values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [spec.name, period, kind, str(folder), first, last, detail, run_id, recorded_at],
            )
        conn.execute("commit")
    except Exception:
        conn.execute("rollback")
        raise


def loaded_periods(conn: duckdb.DuckDBPyConnection, feed: str) -> set[date]:
    """The periods of a feed the warehouse already holds (from an earlier load)."""
    if not table_exists(conn, "meta", "load_log"):
        return set()
    return {
        row[0]
        for row in conn.execute(
            "select distinct _period from meta.load_log where feed = ?", [feed]
        ).fetchall()
    }


def of_run(conn: duckdb.DuckDBPyConnection, run_id: str) -> list[Absence]:
    """The absences a run recorded, one per feed and kind (absent feeds first)."""
    if not table_exists(conn, "meta", "feed_absence"):
        return []
    rows = conn.execute(
        """
        select
            feed, kind, list(_period order by _period) filter (where _period is not null), any_value(detail)
        from meta.feed_absence
        where run_id = ?
        group by feed, kind
        order by kind != 'feed_absent', feed
        """,
        [run_id],
    ).fetchall()
    return [Absence(feed, kind, tuple(months or ()), detail) for feed, kind, months, detail in rows]
