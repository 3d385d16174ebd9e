"""Disclosure as a check on everything in the warehouse's `share` schema.

Every table there may leave the warehouse, so each is re-read after it is written and judged by
the disclosure regime its yml declares (`models/share/_share__sources.yml`, table
`config.meta.disclosure.regime`), independently of the code that applied it:

- `hes`: NHS Digital's HES/ECDS rule (feeds_and_methods §9.1): no sub-national count in 1-7, and
  every sub-national count a multiple of 5. The count columns are those whose column meta says
  `disclosure: count`; `national_when` (SQL) marks the national rows, which are not controlled.
- `fft`: NHS England's Friends and Family Test rule (§5.1), the rule FFT is published under: no
  shown child with 1-4 responses (first level), and no parent group with exactly one suppressed
  child among several (second level and cascade: a lone hidden child would be recovered by
  subtracting its shown siblings from the published parent total).

A table with no regime, or one the schema holds that the yml does not declare, fails the check:
nothing leaves unexamined. The checks are blocking, so a table that fails is not published in a
release and no package is built from it. The packages have their own scan of every file they
hold (`data_packages` → `packages_disclose_nothing`).
"""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.defs.dbt.project import dbt_project
from orchestration.lib import settings
from orchestration.lib.warehouse import WRITER_POOL, connect

REGIME_KEY = "regime"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def share_tables(manifest: dict) -> list[dict]:
    """The `share` source tables the yml declares, as manifest nodes."""
    return sorted(
        (n for n in manifest.get("sources", {}).values() if n.get("source_name") == "share"),
        key=lambda n: n["name"],
    )


def _meta(entry: dict) -> dict:
    return {**(entry.get("meta") or {}), **((entry.get("config") or {}).get("meta") or {})}


def hes_problems(conn: duckdb.DuckDBPyConnection, table: str, node: dict, disclosure: dict) -> list[str]:
    counts = [
        name for name, column in node.get("columns", {}).items() if _meta(column).get("disclosure") == "count"
    ]
    if not counts:
        return [f"share.{table}: regime hes names no count column (column meta `disclosure: count`)"]
    national = disclosure.get("national_when", "false")
    problems = []
    for column in counts:
        small, unrounded = conn.execute(
            f"select count(*) filter (where {_q(column)} between 1 and 7), "
            f"count(*) filter (where {_q(column)} % 5 != 0) "
            f"from share.{_q(table)} where not coalesce(({national}), false)"
        ).fetchone()
        if small:
            problems.append(f"share.{table}.{column}: {small:,} sub-national count(s) in 1-7")
        if unrounded:
            problems.append(
                f"share.{table}.{column}: {unrounded:,} sub-national count(s) not a multiple of 5"
            )
    return problems


def fft_problems(conn: duckdb.DuckDBPyConnection, table: str, node: dict, disclosure: dict) -> list[str]:
    parent = disclosure.get("parent", "icb_code")
    groups = ", ".join(_q(c) for c in disclosure.get("group_by", ["setting", "period_month"]))
    shown_small = conn.execute(
        f"select count(*) from share.{_q(table)} "
        "where suppression_reason is null and total_responses between 1 and 4"
    ).fetchone()[0]
    lone = conn.execute(
        f"select count(*) from (select {groups}, {_q(parent)} from share.{_q(table)} "
        f"group by all having count(*) filter (where suppression_reason is not null) = 1 "
        "and count(*) filter (where suppression_reason is not null or total_responses > 0) > 1)"
    ).fetchone()[0]
    problems = []
    if shown_small:
        problems.append(f"share.{table}: {shown_small:,} shown row(s) with 1-4 responses (first level)")
    if lone:
        problems.append(
            f"share.{table}: {lone:,} {parent} group(s) with exactly one suppressed child, recoverable "
            "from the parent total (second level / cascade)"
        )
    return problems


REGIMES = {"hes": hes_problems, "fft": fft_problems}


def table_problems(conn: duckdb.DuckDBPyConnection, node: dict) -> list[str]:
    table = node["name"]
    disclosure = _meta(node).get("disclosure") or {}
    regime = disclosure.get(REGIME_KEY)
    if regime not in REGIMES:
        return [
            f"share.{table}: its yml declares no known disclosure regime (meta.disclosure.regime: "
            f"{regime!r}; known: {sorted(REGIMES)})"
        ]
    return REGIMES[regime](conn, table, node, disclosure)


def undeclared_tables(conn: duckdb.DuckDBPyConnection, manifest: dict) -> list[str]:
    declared = {n["name"] for n in share_tables(manifest)}
    held = {
        name
        for (name,) in conn.execute(
            "select table_name from information_schema.tables where table_schema = 'share'"
        ).fetchall()
    }
    return [
        f"share.{name}: not declared in models/share/_share__sources.yml" for name in sorted(held - declared)
    ]


def _check(node: dict) -> dg.AssetChecksDefinition:
    table = node["name"]
    regime = (_meta(node).get("disclosure") or {}).get(REGIME_KEY)

    @dg.asset_check(
        asset=dg.AssetKey(["share", table]),
        name="discloses_nothing",
        description=f"share.{table} re-read and judged by its disclosure regime ({regime}); the schema "
        "holds no undeclared table.",
        blocking=True,
        pool=WRITER_POOL,
    )
    def _discloses_nothing() -> dg.AssetCheckResult:
        manifest = json.loads(Path(dbt_project.manifest_path).read_text())
        with connect(settings.warehouse_path(), read_only=True) as conn:
            rows = conn.execute(f"select count(*) from share.{_q(table)}").fetchone()[0]
            problems = table_problems(conn, node) + undeclared_tables(conn, manifest)
        return dg.AssetCheckResult(
            passed=not problems,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "regime": regime or "none",
                "rows_scanned": rows,
                "problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in problems) or "none"),
            },
        )

    return _discloses_nothing


def share_table_checks() -> list[dg.AssetChecksDefinition]:
    manifest = json.loads(Path(dbt_project.manifest_path).read_text())
    return [_check(node) for node in share_tables(manifest)]
