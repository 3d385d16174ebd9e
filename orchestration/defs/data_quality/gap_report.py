"""The data-gap report: static HTML pages a commissioner can open from a folder, no server.

`render_gap_report` reads the dq_ marts and `meta.validation_result` and writes:

- `index.html` (England): what cannot be trusted, gap counts by kind and feed, a coverage
  heat-map per feed (organisation × month, worst organisations first), failed checks, item
  completeness / DQMI / attribution summaries, and links to the sub-ICB pages and Data Docs;
- `sub_icb/<code>.html` per sub-ICB location: every current one in `marts.dim_sub_icb` that
  `marts.dim_practice` has a practice in (every current one when no practice is loaded), and
  any other with a gap in `marts.dq_gap_summary`. A page gives the area's gaps with messages and
  the outputs they affect, or says it has none, plus the national gaps that affect every area.

Each table is optional: one that is not built yet (or cannot be read) is named as such on the
page instead of failing the run. Aggregation happens in DuckDB; Python only shapes rows for the
Jinja templates in `templates/` (autoescaped; inline CSS, no JavaScript, no external URLs).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import jinja2

from orchestration.defs.catalog import ALL_FEEDS
from orchestration.lib import data_docs

TEMPLATES = Path(__file__).parent / "templates"

TABLES = {
    "coverage": "marts.dq_submission_coverage",
    "gaps": "marts.dq_gap_summary",
    "items": "marts.dq_item_completeness",
    "dqmi": "marts.dq_dqmi",
    "attribution": "marts.dq_attribution_gap",
    "checks": "meta.validation_result",
}

# Heat-map rows per feed (worst first); national practice-level feeds have ~7,000 organisations.
MAX_HEATMAP_ORGS = 60
MAX_TABLE_ROWS = 300
MAX_UNTRUSTED_LINES = 12

STATUS = {  # status → (letter shown in the cell, plain-English label)
    "present": ("·", "present"),
    "missing": ("M", "missing: no records"),
    "late": ("L", "late: the file arrived after its usual date"),
    "partial": ("P", "partial: far fewer records than usual"),
    "zero": ("Z", "zero: a submission with no activity"),
}

GAP_KINDS = {
    "missing_submission": "Missing submission",
    "late_file": "Late file",
    "partial_submission": "Partial submission",
    "zero_submission": "Zero submission",
    "low_item_completeness": "Data item poorly completed",
    "item_not_in_extract": "Data item absent from the extract",
    "default_codes": "Default codes above threshold",
    "unattributed_activity": "Activity not attributable to an area",
    "unknown_organisation": "Unknown organisation code",
    "volume_anomaly": "Unusual volume",
    "schema_variant_change": "File layout changed",
    "feed_absent": "Feed absent: no files for the run's months",
}

FEED_TITLES = {spec.name: spec.title.split(" (")[0] for spec in ALL_FEEDS}
FEED_CADENCES = {spec.name: spec.cadence for spec in ALL_FEEDS}


@dataclass
class Section:
    """One part of a page built from one table: its rows, or why there are none."""

    table: str
    built: bool
    data: Any = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)


def render_gap_report(
    conn: duckdb.DuckDBPyConnection,
    out_dir: Path,
    run_label: str,
    data_docs_index: Path | None = None,
) -> list[Path]:
    """Write index.html and sub_icb/<code>.html under out_dir; returns the files written.

    `data_docs_index` is the GX Data Docs index (`data_docs.build`); when given, the page links
    to it and each failed check links to its suite's latest validation page.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    env = _environment()
    present = _existing_tables(conn)
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    docs = _data_docs_links(data_docs_index, out_dir)

    def section(key: str, read: Callable[[], Any]) -> Section:
        table = TABLES[key]
        if table not in present:
            return Section(table, built=False)
        try:
            return Section(table, built=True, data=read())
        except duckdb.Error as error:  # a table in an older shape: say so, keep the page
            return Section(table, built=True, error=f"{type(error).__name__}: {error}")

    gaps = section("gaps", lambda: _gap_overview(conn))
    sub_icbs = section("gaps", lambda: _sub_icbs(conn, present))
    checks = section("checks", lambda: _failed_checks(conn, docs["suites"]))
    context = {
        "run_label": run_label,
        "generated": generated,
        "tables": [(table, table in present) for table in TABLES.values()],
        "untrusted": _untrusted(gaps, checks),
        "gaps": gaps,
        "coverage": section("coverage", lambda: _heatmaps(conn)),
        "checks": checks,
        "items": section("items", lambda: _item_completeness(conn)),
        "dqmi": section("dqmi", lambda: _dqmi(conn)),
        "attribution": section("attribution", lambda: _attribution(conn)),
        "sub_icbs": sub_icbs,
        "docs": docs,
        "status_legend": [(status, letter, label) for status, (letter, label) in STATUS.items()],
    }
    index = out_dir / "index.html"
    index.write_text(env.get_template("index.html.j2").render(**context, root=""), encoding="utf-8")
    written = [index]

    if sub_icbs.data:
        national = gaps.data["national"] if gaps.data else _area_gaps(conn, "ENGLAND")
        folder = out_dir / "sub_icb"
        folder.mkdir(exist_ok=True)
        template = env.get_template("sub_icb.html.j2")
        for area in sub_icbs.data:
            area_gaps = _area_gaps(conn, area["code"])
            page = folder / area["file"]
            page.write_text(
                template.render(
                    run_label=run_label,
                    generated=generated,
                    area=area,
                    untrusted=_untrusted_lines(area_gaps["by_kind"]),
                    gaps=area_gaps,
                    national=national,
                    root="../",
                ),
                encoding="utf-8",
            )
            written.append(page)
    return written


# --- reading -----------------------------------------------------------------------------------


def _existing_tables(conn: duckdb.DuckDBPyConnection) -> set[str]:
    rows = conn.execute(
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_schema in ('marts', 'meta')"
    ).fetchall()
    return {name for (name,) in rows}


def _rows(conn: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict]:
    cursor = conn.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _gap_overview(conn: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Counts by gap kind × feed, the error lines for 'cannot be trusted', national gaps."""
    counts = _rows(
        conn,
        """
        select gap_kind, feed, count(*) as gaps, count(*) filter (where severity = 'error') as errors
        from marts.dq_gap_summary
        group by gap_kind, feed
        order by gap_kind, feed
        """,
    )
    feeds = sorted({r["feed"] for r in counts})
    kinds = sorted({r["gap_kind"] for r in counts}, key=_kind_order)
    cells = {(r["gap_kind"], r["feed"]): r for r in counts}
    pivot = [
        {
            "kind": kind,
            "label": GAP_KINDS.get(kind, kind),
            "cells": [cells.get((kind, feed)) for feed in feeds],
            "total": sum(r["gaps"] for r in counts if r["gap_kind"] == kind),
        }
        for kind in kinds
    ]
    return {
        "feeds": [(feed, FEED_TITLES.get(feed, feed)) for feed in feeds],
        "pivot": pivot,
        "total": sum(r["gaps"] for r in counts),
        "errors": sum(r["errors"] for r in counts),
        "by_kind": _by_kind(conn, None),
        "national": _area_gaps(conn, "ENGLAND"),
    }


def _by_kind(conn: duckdb.DuckDBPyConnection, area: str | None) -> list[dict]:
    """Error gaps grouped by feed × kind: how many, which organisations and months, what they affect."""
    where = "" if area is None else "and sub_icb_location_code = ?"
    return _rows(
        conn,
        f"""
        with errors as (
            select * from marts.dq_gap_summary where severity = 'error' {where}
        ),
        outputs as (
            select feed, gap_kind, string_agg(distinct trim(output), ', ' order by trim(output)) as outputs
            from (
                select feed, gap_kind, unnest(string_split_regex(affected_outputs, '\\s*[,;]\\s*')) as output
                from errors
                where affected_outputs is not null
            )
            where trim(output) != ''
            group by feed, gap_kind
        )
        select
            errors.feed,
            errors.gap_kind,
            count(*) as gaps,
            count(distinct errors.org_code) as organisations,
            count(distinct errors.sub_icb_location_code) filter (
                where errors.sub_icb_location_code != 'ENGLAND'
            ) as areas,
            bool_or(errors.sub_icb_location_code = 'ENGLAND') as national,
            min(errors.month) as first_month,
            max(errors.month) as last_month,
            sum(errors.expected_records_absent) as records_absent,
            any_value(outputs.outputs) as outputs
        from errors
        left join outputs using (feed, gap_kind)
        group by errors.feed, errors.gap_kind
        order by count(*) desc, errors.feed, errors.gap_kind
        """,
        [] if area is None else [area],
    )


def _area_gaps(conn: duckdb.DuckDBPyConnection, code: str) -> dict[str, Any]:
    rows = _rows(
        conn,
        """
        select
            month, feed, gap_kind, org_code, severity, expected_records_absent, affected_outputs,
            message, count(*) over () as total
        from marts.dq_gap_summary
        where sub_icb_location_code = ?
        order by severity = 'warn', month, feed, gap_kind, org_code
        limit ?
        """,
        [code, MAX_TABLE_ROWS],
    )
    for row in rows:
        row["kind_label"] = GAP_KINDS.get(row["gap_kind"], row["gap_kind"])
    total = rows[0]["total"] if rows else 0
    return {"rows": rows, "total": total, "capped": total > len(rows), "by_kind": _by_kind(conn, code)}


def _sub_icbs(conn: duckdb.DuckDBPyConnection, present: set[str]) -> list[dict]:
    """Every area the warehouse holds, with its own gaps counted (none is an answer too).

    The areas are the current sub-ICB locations of `marts.dim_sub_icb` that `marts.dim_practice`
    places a practice in: the dimension lists all 106, and a page saying "no gaps" for an area
    whose data were never loaded would be a false all-clear. Without any practice, every current
    sub-ICB location; areas with a gap of their own always have a page.
    """
    areas = "select null::varchar as code, null::varchar as name, null::varchar as icb_code where false"
    if "marts.dim_sub_icb" in present:
        held = ""
        if "marts.dim_practice" in present:
            held = """
                and (
                    sub_icb_location_code in (select sub_icb_location_code from marts.dim_practice)
                    or not exists (
                        select 1 from marts.dim_practice where sub_icb_location_code is not null
                    )
                )"""
        areas = f"""
            select sub_icb_location_code as code, any_value(sub_icb_location_name) as name,
                any_value(icb_code) as icb_code
            from marts.dim_sub_icb
            where is_current {held}
            group by sub_icb_location_code"""
    rows = _rows(
        conn,
        f"""
        with areas as ({areas}),
        gaps as (
            select
                sub_icb_location_code as code,
                max(sub_icb_location_name) as name,
                max(icb_code) as icb_code,
                count(*) as gaps,
                count(*) filter (where severity = 'error') as errors,
                count(distinct feed) as feeds
            from marts.dq_gap_summary
            where sub_icb_location_code != 'ENGLAND'
            group by sub_icb_location_code
        )
        select
            code,
            coalesce(areas.name, gaps.name) as name,
            coalesce(areas.icb_code, gaps.icb_code) as icb_code,
            coalesce(gaps.gaps, 0) as gaps,
            coalesce(gaps.errors, 0) as errors,
            coalesce(gaps.feeds, 0) as feeds
        from areas
        full join gaps using (code)
        order by coalesce(gaps.errors, 0) desc, coalesce(gaps.gaps, 0) desc, code
        """,
    )
    for row in rows:
        row["file"] = _page_name(row["code"])
    return rows


def _heatmaps(conn: duckdb.DuckDBPyConnection) -> list[dict]:
    """One grid per feed: the file as a whole, then the organisations with gaps, most first.

    Organisations that submitted every expected month are counted, not drawn: at national scale
    they are thousands of rows of "present".
    """
    cells = _rows(
        conn,
        """
        with coverage as (
            select feed, org_type, org_code, month, status, status_reason, records, usual_records
            from marts.dq_submission_coverage
        ),
        organisations as (
            select
                feed,
                org_code,
                count(*) filter (where status != 'present') as gaps,
                row_number() over (
                    partition by feed
                    order by count(*) filter (where status != 'present') desc, org_code
                ) as position
            from coverage
            where org_type != 'file'
            group by feed, org_code
        )
        select coverage.*, coalesce(organisations.position, 0) as position
        from coverage
        left join organisations using (feed, org_code)
        where coverage.org_type = 'file' or (organisations.gaps > 0 and organisations.position <= ?)
        order by coverage.feed, position, coverage.month
        """,
        [MAX_HEATMAP_ORGS],
    )
    summary = {
        row["feed"]: row
        for row in _rows(
            conn,
            """
            with organisations as (
                select
                    feed,
                    org_code,
                    any_value(org_type) as org_type,
                    bool_or(status != 'present') as has_gap,
                    count(*) filter (where status = 'missing') as missing,
                    count(*) filter (where status = 'late') as late,
                    count(*) filter (where status = 'partial') as partial,
                    count(*) filter (where status = 'zero') as zero,
                    count(*) as cells
                from marts.dq_submission_coverage
                where org_type != 'file'
                group by feed, org_code
            ),
            files as (
                select feed, count(*) filter (where status != 'present') as file_gaps
                from marts.dq_submission_coverage
                where org_type = 'file'
                group by feed
            )
            select
                feed,
                any_value(organisations.org_type) as org_type,
                count(organisations.org_code) as organisations,
                count(organisations.org_code) filter (where has_gap) as with_gaps,
                coalesce(sum(missing), 0) as missing,
                coalesce(sum(late), 0) as late,
                coalesce(sum(partial), 0) as partial,
                coalesce(sum(zero), 0) as zero,
                coalesce(sum(cells), 0) as cells,
                coalesce(any_value(files.file_gaps), 0) as file_gaps
            from files
            full join organisations using (feed)
            group by feed
            """,
        )
    }
    feeds = []
    for feed in sorted(summary):
        feed_cells = [c for c in cells if c["feed"] == feed]
        months = sorted({c["month"] for c in feed_cells})
        column = {m: i for i, m in enumerate(months)}
        grid: dict[tuple[int, str], dict] = {}
        for c in feed_cells:
            row = grid.setdefault(
                (c["position"], c["org_code"]),
                {
                    "org_code": "whole file" if c["org_type"] == "file" else c["org_code"],
                    "cells": [None] * len(months),
                },
            )
            row["cells"][column[c["month"]]] = _cell(c)
        totals = summary[feed]
        shown = sum(1 for position, _ in grid if position > 0)
        feeds.append(
            {
                **totals,
                "title": FEED_TITLES.get(feed, feed),
                "org_type": totals["org_type"] or "organisation",
                "months": months,
                "years": _year_spans(months),
                "rows": [grid[key] for key in sorted(grid)],
                "shown": shown,
                "complete": totals["organisations"] - totals["with_gaps"],
                "capped": totals["with_gaps"] > shown,
            }
        )
    return feeds


def _failed_checks(conn: duckdb.DuckDBPyConnection, pages: dict[str, str]) -> dict[str, Any]:
    summary = _rows(
        conn,
        """
        select
            count(*) as checks,
            count(*) filter (where not passed) as failed,
            count(*) filter (where not passed and severity = 'error') as errors
        from meta.validation_result
        """,
    )[0]
    rows = _rows(
        conn,
        """
        select feed, suite, check_name, severity, period_start, period_end, rows_validated,
            expectations_evaluated, expectations_failed, unexpected_rows, failures, validated_at
        from meta.validation_result
        where not passed
        order by severity = 'warn', feed, suite, period_start
        limit ?
        """,
        [MAX_TABLE_ROWS],
    )
    for row in rows:
        row["failure_lines"] = [line for line in (row["failures"] or "").splitlines() if line.strip()]
        row["docs_page"] = pages.get(row["suite"])
    return {**summary, "rows": rows, "capped": summary["failed"] > len(rows)}


def _item_completeness(conn: duckdb.DuckDBPyConnection) -> list[dict]:
    return _rows(
        conn,
        """
        select
            feed,
            data_item,
            any_value(source_column) as source_column,
            count(*) as provider_months,
            count(*) filter (where status = 'low') as low,
            count(*) filter (where status = 'not_in_extract') as not_in_extract,
            round(avg(item_score), 1) as mean_item_score
        from marts.dq_item_completeness
        group by feed, data_item
        having count(*) filter (where status != 'ok') > 0
        order by count(*) filter (where status != 'ok') desc, feed, data_item
        limit ?
        """,
        [MAX_TABLE_ROWS],
    )


def _dqmi(conn: duckdb.DuckDBPyConnection) -> list[dict]:
    """Per feed, the latest month: providers, median DQMI and the lowest providers."""
    return _rows(
        conn,
        """
        with latest as (
            select * from marts.dq_dqmi
            qualify month = max(month) over (partition by feed)
        ),
        ranked as (
            select *, row_number() over (partition by feed order by dqmi, provider_code) as position
            from latest
        )
        select
            feed,
            max(month) as month,
            count(*) as providers,
            round(median(dqmi), 1) as median_dqmi,
            string_agg(provider_code || ' ' || round(dqmi, 1), ', ' order by position)
                filter (where position <= 5) as lowest
        from ranked
        group by feed
        order by feed
        """,
    )


def _attribution(conn: duckdb.DuckDBPyConnection) -> list[dict]:
    rows = _rows(
        conn,
        """
        select
            feed,
            reason,
            count(*) filter (where is_material) as material_org_months,
            count(distinct org_code) filter (where is_material) as organisations,
            sum(unattributed_records) as unattributed_records,
            sum(unattributed_records) / nullif(sum(records), 0) as unattributed_share
        from marts.dq_attribution_gap
        group by feed, reason
        order by feed, sum(unattributed_records) desc
        """,
    )
    return rows


# --- shaping -----------------------------------------------------------------------------------


def _untrusted(gaps: Section, checks: Section) -> list[str]:
    """The short list at the top of the England page."""
    if not gaps.built:
        lines = [
            f"The gap summary ({gaps.table}) has not been built, so this report cannot say which "
            "figures are affected by missing or poor data."
        ]
    elif gaps.error:
        lines = [f"The gap summary ({gaps.table}) could not be read: {gaps.error}"]
    else:
        lines = _untrusted_lines(gaps.data["by_kind"])
    if checks.built and not checks.error and checks.data["errors"]:
        suites = sorted({(r["feed"], r["suite"]) for r in checks.data["rows"] if r["severity"] == "error"})
        lines.append(
            f"{checks.data['errors']} blocking data check(s) failed "
            f"({', '.join(suite for _, suite in suites[:6])}{', …' if len(suites) > 6 else ''}): "
            "outputs built from those loads were held back (see Failed checks)."
        )
    return lines


def _untrusted_lines(by_kind: list[dict]) -> list[str]:
    lines = []
    for row in by_kind[:MAX_UNTRUSTED_LINES]:
        feed = FEED_TITLES.get(row["feed"], row["feed"])
        kind = GAP_KINDS.get(row["gap_kind"], row["gap_kind"]).lower()
        months = _month(row["first_month"])
        if row["last_month"] != row["first_month"]:
            months += f" to {_month(row['last_month'])}"
        if row["gap_kind"] == "feed_absent":  # one feed, every area: the months are the story
            affects = f" Affects: {row['outputs']}." if row["outputs"] else ""
            if FEED_CADENCES.get(row["feed"]) == "snapshot":
                held = f"held no release of it, so every area's figures for {months} built from it are"
            else:
                held = f"held no file of it for {months}, so every area's figures built from it are"
            lines.append(f"{feed} — feed absent: the landing folder {held} missing or provisional.{affects}")
            continue
        where = "every area" if row["national"] else _plural(row["areas"], "sub-ICB location")
        absent = (
            f", about {round(row['records_absent']):,} records absent"
            if row["records_absent"] is not None and row["records_absent"] > 0
            else ""
        )
        affects = f" Affects: {row['outputs']}." if row["outputs"] else ""
        lines.append(
            f"{feed} — {kind}: {_plural(row['gaps'], 'gap')} "
            f"({_plural(row['organisations'], 'organisation')}, {where}, {months}{absent}).{affects}"
        )
    if len(by_kind) > MAX_UNTRUSTED_LINES:
        lines.append(f"… and {len(by_kind) - MAX_UNTRUSTED_LINES} more kinds of gap in the tables below.")
    return lines


def _cell(row: dict) -> dict[str, str]:
    status = row["status"]
    letter = STATUS[status][0] if status in STATUS else status[:1].upper()
    detail = [f"{row['org_code']} {_month(row['month'])}: {status}"]
    if row["status_reason"]:
        detail.append(row["status_reason"])
    if row["records"] is not None:
        usual = f" (usual {row['usual_records']:,.0f})" if row["usual_records"] is not None else ""
        detail.append(f"{row['records']:,.0f} records{usual}")
    return {"status": status, "letter": letter, "title": "; ".join(detail)}


def _year_spans(months: list[date]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for month in months:
        if spans and spans[-1][0] == month.year:
            spans[-1] = (month.year, spans[-1][1] + 1)
        else:
            spans.append((month.year, 1))
    return spans


def _data_docs_links(index: Path | None, out_dir: Path) -> dict[str, Any]:
    if index is None or not index.exists():
        return {"index": None, "suites": {}}
    pages = data_docs.validation_pages(index)
    return {
        "index": _relative(index, out_dir),
        "suites": {suite: _relative(page, out_dir) for suite, page in pages.items()},
    }


def _relative(path: Path, start: Path) -> str:
    return Path(os.path.relpath(path.resolve(), start.resolve())).as_posix()


def _page_name(code: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", code) + ".html"


def _kind_order(kind: str) -> tuple[int, str]:
    order = list(GAP_KINDS)
    return (order.index(kind) if kind in order else len(order), kind)


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def _month(value: date | None) -> str:
    return value.strftime("%b %Y") if value else ""


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["month"] = _month
    env.filters["month_letter"] = lambda value: value.strftime("%b")[0]
    env.filters["number"] = lambda value: "" if value is None else f"{value:,.0f}"
    env.filters["share"] = lambda value: "" if value is None else f"{value:.1%}"
    env.globals["feed_title"] = lambda feed: FEED_TITLES.get(feed, feed)
    env.globals["kind_label"] = lambda kind: GAP_KINDS.get(kind, kind)
    env.globals["plural"] = _plural
    return env
