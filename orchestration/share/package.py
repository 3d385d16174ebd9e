"""Data packages a CSU can share with any commissioner: validated, disclosure-controlled and
self-describing, built from one published release.

A package is a folder and a zip of the same name, for a scope (England, one ICB, or one sub-ICB
location: other areas' rows excluded, national comparators kept):

    <SHARE_DIR>/<release id>/<scope>/
      datapackage.json      Frictionless Data Package: a tabular resource per table (CSV) with its
                            schema (types, descriptions from the dbt docs, primary key, missing
                            values `""` and `*`), licence, sources with publisher and period, the
                            Parquet copy of each table, and the size and sha256 of every file
      data/<table>.csv      `*` where a value is suppressed
      data/<table>.parquet  NULL where a value is suppressed
      validation.json       the checks behind the release, the feeds and files behind the package,
                            the data-gap notes touching its rows, and the disclosure scan
      README.md             the same in words
    <SHARE_DIR>/<release id>/<scope>.zip

Every value goes through disclosure.shareable_sql (the one mechanism, driven by each column's
`meta.disclosure`) and every table through disclosure.scan before anything is written. Nothing
partial is left: a package is built in a hidden folder and renamed into place.
"""

from __future__ import annotations

import json
import re
import shutil
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.defs.catalog import ALL_FEEDS
from orchestration.lib import settings
from orchestration.release import verify
from orchestration.release.publish import ident, sql_string
from orchestration.release.store import RELEASE_CATALOG, ReleaseStore, sha256_file
from orchestration.share import disclosure

# What commissioners ask for (#12): outcomes, activity and money, programmes, prescribing,
# services, peers and opportunity, and what cannot be trusted.
STANDARD_TABLES = (
    "mart_ois_indicator",
    "mart_commissioning_summary",
    "mart_commissioning_specialty",
    "mart_ltc_programme",
    "fct_prescribing_measure",
    "mart_top_services",
    "mart_sub_icb_peers",
    "mart_ois_peer_opportunity",
    "dq_gap_summary",
)
SCHEMA = "marts"
ENGLAND = "england"
LEVELS = {"icb": "icb", "sub_icb": "sub_icb_location", "sub_icb_location": "sub_icb_location"}
OGL = {
    "name": "OGL-UK-3.0",
    "title": "Open Government Licence v3.0",
    "path": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
}
# Frictionless field types for the DuckDB types the contracts use.
FIELD_TYPES = {
    "VARCHAR": "string",
    "DATE": "date",
    "INTEGER": "integer",
    "BIGINT": "integer",
    "DOUBLE": "number",
    "BOOLEAN": "boolean",
    "TIMESTAMP": "datetime",
}
# Record-level or patient-identifiable fields: never in a package (checked on every schema).
IDENTIFYING = re.compile(
    r"^(patient_id|pseudo\w*|nhs_number|person_id|date_of_birth|dob|\w*postcode|lsoa_code|lsoa_of_residence)$"
)


class PackageError(RuntimeError):
    """A package was not built; the message says why and nothing partial was written."""


class UnknownScope(PackageError):
    pass


class NothingToShare(PackageError):
    pass


class ReleaseUnfit(PackageError):
    pass


@dataclass(frozen=True)
class Scope:
    level: str  # england, icb or sub_icb_location
    code: str | None
    name: str
    codes: tuple[str, ...] = ()  # the area codes whose rows the package keeps (besides England's)

    @property
    def slug(self) -> str:
        return ENGLAND if self.level == ENGLAND else f"{self.level}-{self.code}"

    @property
    def label(self) -> str:
        return "England" if self.level == ENGLAND else f"{self.name} ({self.code})"


@dataclass
class BuiltPackage:
    scope: Scope
    release_id: str
    folder: Path
    archive: Path
    tables: dict[str, dict] = field(default_factory=dict)
    seconds: float = 0.0


def resolve_scope(conn: duckdb.DuckDBPyConnection, text: str) -> Scope:
    """`england`, `icb:QWO`, `sub_icb:02T`, or a bare code (looked up among both)."""
    raw = text.strip()
    if raw.lower() == ENGLAND:
        return Scope(ENGLAND, None, "England")
    level, _, code = raw.rpartition(":")
    code = code.strip().upper()
    if level and level.lower() not in LEVELS:
        raise UnknownScope(f"scope {text!r}: the level must be icb or sub_icb (e.g. icb:QWO, sub_icb:02T)")
    icbs = dict(conn.execute("select icb_code, icb_name from marts.dim_icb").fetchall())
    locations = dict(
        conn.execute(
            "select sub_icb_location_code, any_value(sub_icb_location_name) from marts.dim_sub_icb "
            "where is_current group by 1"
        ).fetchall()
    )
    wanted = LEVELS.get(level.lower()) if level else None
    if code in icbs and wanted in (None, "icb"):
        members = tuple(
            r[0]
            for r in conn.execute(
                "select distinct sub_icb_location_code from marts.dim_sub_icb "
                "where is_current and icb_code = ?",
                [code],
            ).fetchall()
        )
        return Scope("icb", code, icbs[code], (code, *sorted(members)))
    if code in locations and wanted in (None, "sub_icb_location"):
        return Scope("sub_icb_location", code, locations[code], (code,))
    known = "ICB" if wanted == "icb" else "sub-ICB location" if wanted else "ICB or sub-ICB location"
    raise UnknownScope(
        f"no {known} has code {code!r} in this release ({len(icbs)} ICBs, e.g. "
        f"{', '.join(sorted(icbs)[:3])}; {len(locations)} sub-ICB locations, e.g. "
        f"{', '.join(sorted(locations)[:3])}). "
        "Use `england`, `icb:<code>` or `sub_icb:<code>`."
    )


def _codes(scope: Scope) -> tuple[str, ...] | None:
    """The area codes a scope keeps (None: England keeps every row)."""
    return None if scope.level == ENGLAND else scope.codes


def upstream_feeds(manifest: dict, model: str) -> list[str]:
    """The raw feeds a model is built from (dbt's lineage walked up to the sources)."""
    seen, feeds, todo = (
        set(),
        set(),
        [f"model.{manifest['metadata'].get('project_name', 'commissioning')}.{model}"],
    )
    while todo:
        node = todo.pop()
        for parent in manifest["parent_map"].get(node, []):
            if parent in seen:
                continue
            seen.add(parent)
            if parent.startswith("source.") and manifest["sources"][parent]["source_name"] == "raw":
                feeds.add(manifest["sources"][parent]["name"])
            elif parent.startswith("model."):
                todo.append(parent)
    return sorted(feeds)


def primary_key(manifest: dict, model: str) -> list[str]:
    """From the model's unique-combination (or unique) test, if it has one."""
    for node in manifest["nodes"].values():
        meta = node.get("test_metadata") or {}
        if node.get("resource_type") != "test" or not (node.get("attached_node") or "").endswith(f".{model}"):
            continue
        if meta.get("name") == "unique_combination_of_columns":
            kwargs = meta.get("kwargs", {})
            return list(
                kwargs.get("combination_of_columns")
                or kwargs.get("arguments", {}).get("combination_of_columns")
            )
        if meta.get("name") == "unique" and node.get("column_name"):
            return [node["column_name"]]
    return []


def _csv_select(rules: disclosure.TableRules, relation: str, columns: Sequence[str]) -> str:
    shown = []
    for column in columns:
        if rules.controls(column):
            shown.append(
                f"case when list_contains(suppressed_columns, {sql_string(column)}) then '*' "
                f"else cast({ident(column)} as varchar) end as {ident(column)}"
            )
        else:
            shown.append(ident(column))
    return f"select {', '.join(shown)} from {relation}"


def _licences(feeds: Sequence[str]) -> list[dict]:
    specs = {s.name: s for s in ALL_FEEDS}
    licences = (
        [OGL] if any(specs[f].licence == "open_government_licence" for f in feeds if f in specs) else []
    )
    if any(specs[f].licence == "data_sharing_agreement" for f in feeds if f in specs):
        licences.append({"name": "data-sharing-agreement", "title": settings.data_sharing_agreement()})
    return licences or [OGL]


def _sources(feeds: Sequence[str], periods: dict[str, tuple[str, str]]) -> list[dict]:
    specs = {s.name: s for s in ALL_FEEDS}
    out = []
    for feed in feeds:
        spec = specs.get(feed)
        first, last = periods.get(feed, (None, None))
        out.append(
            {
                "title": f"{spec.publisher if spec else 'unknown publisher'}: {spec.title if spec else feed} "
                f"({feed}), {first or '?'} to {last or '?'}",
                "publisher": spec.publisher if spec else None,
                "feed": feed,
                "period": {"first": first, "last": last},
            }
        )
    return out


def build_package(
    *,
    store: ReleaseStore,
    manifest: dict,
    scope_text: str,
    out_root: Path,
    tables: Sequence[str] = STANDARD_TABLES,
    log: Callable[[str], None] = print,
) -> BuiltPackage:
    started = time.perf_counter()
    release_id = store.current_id()  # NoRelease names the folder when nothing is published yet
    broken = verify.files_problems(store, release_id, deep=False)
    if broken:
        raise ReleaseUnfit(
            f"release {release_id} fails its checks, so no package was built: {'; '.join(broken[:5])}"
        )
    rules = {
        t: disclosure.TableRules.from_manifest(manifest, t) for t in tables
    }  # NotShareable names a column
    release_dir = store.release_dir(release_id)
    with duckdb.connect(str(release_dir / RELEASE_CATALOG), read_only=True) as conn:
        (failed,) = conn.execute("select names from release_checks where outcome = 'failed'").fetchone()
        if failed:
            raise ReleaseUnfit(
                f"release {release_id} was built with failed blocking checks ({', '.join(failed)}): "
                "no package was built"
            )
        facts = conn.execute(
            "select built_at, checks_passed, checks_warned, checks_failed from release"
        ).fetchone()
        scope = resolve_scope(conn, scope_text)
        periods = {
            feed: (str(first), str(last))
            for feed, first, last in conn.execute(
                "select feed, min(period), max(period) from release_feeds group by 1"
            ).fetchall()
        }
        files = conn.execute(
            "select feed, period, file, sha256, rows_loaded, rows_quarantined from release_feeds order by all"
        ).fetchall()
        final = out_root / release_id / scope.slug
        staging = out_root / release_id / f".building-{scope.slug}"
        shutil.rmtree(staging, ignore_errors=True)
        (staging / "data").mkdir(parents=True)
        try:
            described = {}
            shown_counts = 0
            for name in tables:
                relation = f"{SCHEMA}.{ident(name)}"
                table_rules = rules[name]
                shared = disclosure.shareable_sql(
                    table_rules, relation, disclosure.scope_where(table_rules, _codes(scope))
                )
                conn.execute(f"create or replace temp table package_rows as {shared}")
                problems = disclosure.scan(conn, "package_rows", table_rules)
                if problems:
                    raise PackageError(
                        f"{name} would disclose: {'; '.join(problems[:5])}; nothing was written"
                    )
                columns = table_rules.names
                rows, suppressed, shown = conn.execute(
                    f"select count(*), coalesce(sum(len(suppressed_columns)), 0), "
                    f"count(*) filter (where not ({table_rules.national_when}) and ("
                    + (
                        " or ".join(f"coalesce({ident(c)}, 0) <> 0" for c in table_rules.count_columns)
                        or "false"
                    )
                    + ")) from package_rows"
                ).fetchone()
                shown_counts += shown
                csv_path = staging / "data" / f"{name}.csv"
                parquet_path = staging / "data" / f"{name}.parquet"
                conn.execute(
                    f"copy ({_csv_select(table_rules, 'package_rows', columns)}) to {sql_string(csv_path)} "
                    "(format csv, header true)"
                )
                # Parquet keeps `suppressed_columns`, so a reader (and the scan) can tell a suppressed
                # NULL from a value the source never had; CSV writes `*` instead.
                conn.execute(
                    f"copy package_rows to {sql_string(parquet_path)} (format parquet, compression zstd)"
                )
                feeds = upstream_feeds(manifest, name)
                described[name] = {
                    "scan_problems": problems,  # what the scan returned (a build with any stops above)
                    "rows": rows,
                    "suppressed_cells": suppressed,
                    "feeds": feeds,
                    "columns": columns,
                }
                log(f"{scope.slug} {name}: {rows:,} rows, {suppressed:,} cells suppressed")
            if scope.level != ENGLAND and not shown_counts:
                raise NothingToShare(
                    f"every count for {scope.label} is suppressed or zero in release {release_id}: "
                    "a package of suppressed cells shares nothing, so none was written"
                )
            gaps = _gap_notes(conn, rules.get("dq_gap_summary"), scope)
            manifest_facts = {
                "release_id": release_id,
                "built_at": facts[0].isoformat(),
                "checks": {"passed": facts[1], "warned": facts[2], "failed": facts[3]},
            }
            descriptor = _descriptor(manifest, scope, manifest_facts, described, staging, periods)
            (staging / "datapackage.json").write_text(json.dumps(descriptor, indent=2, default=str) + "\n")
            validation = {
                "release": manifest_facts,
                "scope": {"level": scope.level, "code": scope.code, "name": scope.name},
                "disclosure_scan": {name: d["scan_problems"] for name, d in described.items()},
                "suppressed_cells": {name: d["suppressed_cells"] for name, d in described.items()},
                "feeds": [
                    dict(
                        zip(
                            ("feed", "period", "file", "sha256", "rows_loaded", "rows_quarantined"),
                            f,
                            strict=True,
                        )
                    )
                    for f in files
                    if f[0] in {feed for d in described.values() for feed in d["feeds"]}
                ],
                "data_gap_notes": gaps,
            }
            (staging / "validation.json").write_text(json.dumps(validation, indent=2, default=str) + "\n")
            (staging / "README.md").write_text(_readme(scope, manifest_facts, described, gaps))
            _replace(staging, final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    archive = _zip(final)
    return BuiltPackage(scope, release_id, final, archive, described, time.perf_counter() - started)


def _gap_notes(
    conn: duckdb.DuckDBPyConnection, rules: disclosure.TableRules | None, scope: Scope
) -> list[dict]:
    """The data-gap notes that touch the package's rows, in words (scoped like the tables)."""
    where = disclosure.scope_where(rules, _codes(scope)) if rules else None
    rows = conn.execute(
        "select month, feed, gap_kind, severity, org_code, sub_icb_location_code, message "
        f"from marts.dq_gap_summary {'where ' + where if where else ''} order by month, severity, feed"
    ).fetchall()
    keys = ("month", "feed", "gap_kind", "severity", "org_code", "sub_icb_location_code", "message")
    return [
        dict(zip(keys, (str(v) if k == "month" else v for k, v in zip(keys, r, strict=True)), strict=True))
        for r in rows
    ]


def _descriptor(
    manifest: dict, scope: Scope, facts: dict, described: dict[str, dict], folder: Path, periods: dict
) -> dict:
    resources = []
    all_feeds: set[str] = set()
    for name, info in described.items():
        node = next(
            n for n in manifest["nodes"].values() if n.get("resource_type") == "model" and n["name"] == name
        )
        all_feeds |= set(info["feeds"])
        csv_path, parquet_path = folder / "data" / f"{name}.csv", folder / "data" / f"{name}.parquet"
        fields = [
            {
                "name": column,
                "type": FIELD_TYPES.get((node["columns"][column].get("data_type") or "").upper(), "any"),
                "description": (node["columns"][column].get("description") or "").strip(),
            }
            for column in info["columns"]
        ]
        schema = {"fields": fields, "missingValues": ["", "*"]}
        key = primary_key(manifest, name)
        if key:
            schema["primaryKey"] = key
        common = {
            "title": name.replace("_", " "),
            "description": (node.get("description") or "").strip(),
            "licenses": _licences(info["feeds"]),
            "sources": _sources(info["feeds"], periods),
        }
        resources.append(
            {
                "name": name,
                "path": f"data/{name}.csv",
                "type": "table",
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "bytes": csv_path.stat().st_size,
                "hash": f"sha256:{sha256_file(csv_path)}",
                **common,
                "schema": schema,
            }
        )
        resources.append(
            {
                "name": f"{name}_parquet",
                "path": f"data/{name}.parquet",
                "type": "file",
                "format": "parquet",
                "mediatype": "application/vnd.apache.parquet",
                "bytes": parquet_path.stat().st_size,
                "hash": f"sha256:{sha256_file(parquet_path)}",
                **common,
            }
        )
    release_id = facts["release_id"]
    return {
        "profile": "data-package",
        "name": f"commissioning-{scope.slug}-{release_id}".lower().replace("_", "-"),
        "id": f"{release_id}/{scope.slug}",
        "title": f"Commissioning intelligence: {scope.label}",
        "description": (
            "Outcomes, activity and spend, long-term-condition programmes, prescribing measures, top "
            f"services, peers and opportunity, and the data gaps, for {scope.label} with England's "
            f"comparators. Built from release {release_id} ({facts['built_at']}); HES/ECDS-derived "
            "sub-national counts rounded to the nearest 5 with 1-7 suppressed (*), rates recomputed "
            "from the rounded figures."
        ),
        "version": release_id,
        "created": datetime.now(UTC).isoformat(),
        "keywords": ["NHS", "commissioning", "ICB", "sub-ICB location", scope.slug],
        "licenses": _licences(sorted(all_feeds)),
        "sources": _sources(sorted(all_feeds), periods),
        "release": facts,
        "scope": {"level": scope.level, "code": scope.code, "name": scope.name, "areas": list(scope.codes)},
        "resources": resources,
    }


def _readme(scope: Scope, facts: dict, described: dict[str, dict], gaps: list[dict]) -> str:
    lines = [
        f"# Commissioning intelligence: {scope.label}",
        "",
        f"Built from warehouse release `{facts['release_id']}` ({facts['built_at']}). The release's "
        f"checks: {facts['checks']['passed']} passed, {facts['checks']['warned']} warned, "
        f"{facts['checks']['failed']} failed (none of them blocking: a release with a failed blocking "
        "check is never published).",
        "",
        "## Disclosure control",
        "",
        "Sub-national counts derived from hospital records are shown as 0 when zero, `*` when 1 to 7, and "
        "otherwise rounded to the nearest 5; percentages and crude rates are recalculated from the rounded "
        "figures; standardised rates are as published and blank where fewer than 10 events; a second cell is "
        "suppressed where one suppressed value could be worked out from a total. National figures and "
        "counts of organisations are not rounded. In the CSV files `*` marks a suppressed value; in the "
        "Parquet files it is empty (NULL) and `suppressed_columns` names the suppressed cells of each row.",
        "",
        "## Tables",
        "",
        "| Table | Rows | Cells suppressed |",
        "|---|---:|---:|",
        *(
            f"| `data/{name}.csv` | {d['rows']:,} | {d['suppressed_cells']:,} |"
            for name, d in described.items()
        ),
        "",
        "Columns, types and descriptions are in `datapackage.json` (a Frictionless Data Package: "
        "`frictionless validate datapackage.json`). `validation.json` lists the files behind each table.",
        "",
        "## What cannot be trusted here",
        "",
    ]
    if gaps:
        errors = [g for g in gaps if g["severity"] == "error"]
        lines.append(
            f"{len(gaps)} data-gap notes touch these rows ({len(errors)} of them errors). The first:"
        )
        lines.append("")
        lines += [f"- {g['month']} {g['feed']}: {g['message']}" for g in gaps[:20]]
    else:
        lines.append("No data-gap notes touch these rows.")
    return "\n".join(lines) + "\n"


def _replace(staging: Path, final: Path) -> None:
    """Put a finished package in place of an earlier build of the same release and scope."""
    if final.exists():
        old = final.with_name(f".old-{final.name}")
        shutil.rmtree(old, ignore_errors=True)
        final.rename(old)
        staging.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        staging.rename(final)


def _zip(folder: Path) -> Path:
    archive = folder.with_suffix(".zip")
    staged = folder.parent / f".{archive.name}.building"
    with zipfile.ZipFile(staged, "w", compression=zipfile.ZIP_DEFLATED) as handle:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                handle.write(path, Path(folder.name) / path.relative_to(folder))
    staged.replace(archive)
    return archive


def scan_package(folder: Path, manifest: dict, release_catalog: Path) -> list[str]:
    """Re-read every shared file of a package, CSV (`*` read as suppressed) and Parquet, and
    return whatever the disclosure scan or the identifying-field rule finds (empty: clean)."""
    descriptor = json.loads((folder / "datapackage.json").read_text())
    problems = []
    with duckdb.connect(str(release_catalog), read_only=True) as conn:  # lookups and stats macros
        for resource in descriptor["resources"]:
            name = resource["name"].removesuffix("_parquet")
            rules = disclosure.TableRules.from_manifest(manifest, name)
            path = folder / resource["path"]
            if resource["format"] == "parquet":
                source = f"read_parquet({sql_string(path)})"
            else:  # `*` is a suppressed value, an empty field one the source never had
                text = ", ".join(f"{sql_string(c)}: 'varchar'" for c in rules.names)
                typed = ", ".join(
                    f"cast(nullif({ident(c)}, '*') as {rules.column(c).data_type or 'varchar'}) as {ident(c)}"
                    for c in rules.names
                )
                marked = ", ".join(
                    f"case when {ident(c)} = '*' then {sql_string(c)} end" for c in rules.names
                )
                source = (
                    f"(select {typed}, [c for c in [{marked}] if c is not null] as suppressed_columns "
                    f"from read_csv({sql_string(path)}, header = true, auto_detect = false, "
                    f"columns = {{{text}}}))"
                )
            conn.execute(f"create or replace temp table scanned_rows as select * from {source}")  # read once
            problems += [f"{resource['path']}: {p}" for p in disclosure.scan(conn, "scanned_rows", rules)]
            fields = [f["name"] for f in resource.get("schema", {}).get("fields", [])]
            problems += [
                f"{resource['path']}: identifying field {f}" for f in fields if IDENTIFYING.search(f)
            ]
    return problems
