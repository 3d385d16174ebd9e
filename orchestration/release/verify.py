"""Is a published release whole and what it says it is? The release checks, in plain functions.

- `files_problems`: every file release.json lists is there with its size (and sha256 when
  `deep`), and no unlisted file sits among the data (a view's glob would read it).
- `row_count_problems`: each view of the catalog counts the rows release.json states.
- `schema_problems`: each view's columns and types are the table's contract, in order.
- `disclosure_problems`: the open release holds no restricted table and no patient-level column.
"""

from __future__ import annotations

import duckdb

from orchestration.release import tables as published
from orchestration.release.store import MANIFEST, RELEASE_CATALOG, ReleaseStore, sha256_file


def _listed_files(manifest: dict) -> list[dict]:
    return [f for t in manifest["tables"].values() for f in t["files"]] + manifest.get("other_files", [])


def files_problems(store: ReleaseStore, release_id: str, *, deep: bool = True) -> list[str]:
    folder = store.release_dir(release_id)
    if not (folder / MANIFEST).is_file():
        return [f"{folder} has no {MANIFEST}: not a complete release"]
    manifest = store.manifest(release_id)
    problems = []
    for entry in _listed_files(manifest):
        path = folder / entry["path"]
        if not path.is_file():
            problems.append(f"missing file {entry['path']}")
        elif path.stat().st_size != entry["bytes"]:
            problems.append(
                f"{entry['path']} is {path.stat().st_size:,} bytes, release.json says {entry['bytes']:,}"
            )
        elif deep and sha256_file(path) != entry["sha256"]:
            problems.append(
                f"{entry['path']} does not match its sha256 in release.json (changed after publishing)"
            )
    listed = {entry["path"] for entry in _listed_files(manifest)} | {MANIFEST}
    data = folder / "data"
    for path in sorted(data.rglob("*")) if data.is_dir() else []:
        if path.is_file() and str(path.relative_to(folder)) not in listed:
            problems.append(f"unlisted file {path.relative_to(folder)} (never read: views list their files)")
    return problems


def _connect(store: ReleaseStore, release_id: str) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(store.release_dir(release_id) / RELEASE_CATALOG), read_only=True)


def row_count_problems(store: ReleaseStore, release_id: str) -> list[str]:
    manifest = store.manifest(release_id)
    problems = []
    with _connect(store, release_id) as conn:
        for relation, table in manifest["tables"].items():
            try:
                (rows,) = conn.execute(f"select count(*) from {relation}").fetchone()
            except duckdb.Error as exc:
                problems.append(f"{relation} cannot be read: {exc}")
                continue
            if rows != table["rows"]:
                problems.append(f"{relation} has {rows:,} rows; release.json says {table['rows']:,}")
    return problems


def _normal(data_type: str | None) -> str:
    return (data_type or "").upper().replace(" ", "")


def schema_problems(store: ReleaseStore, release_id: str) -> list[str]:
    manifest = store.manifest(release_id)
    problems = []
    with _connect(store, release_id) as conn:
        for relation, table in manifest["tables"].items():
            schema, name = relation.split(".")
            actual = conn.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = ? and table_name = ? order by ordinal_position",
                [schema, name],
            ).fetchall()
            expected = [(c["name"], c["data_type"]) for c in table["columns"]]
            names, contract = [a for a, _ in actual], [e for e, _ in expected]
            if names != contract:
                problems.append(f"{relation}: columns {names} differ from its contract {contract}")
                continue
            for (column, got), (_, want) in zip(actual, expected, strict=True):
                if want is None:
                    problems.append(f"{relation}.{column} has no data_type in its contract")
                elif _normal(got) != _normal(want):
                    problems.append(f"{relation}.{column} is {got}; its contract says {want}")
    return problems


def disclosure_problems(store: ReleaseStore, release_id: str) -> list[str]:
    manifest = store.manifest(release_id)
    if manifest["access"] != published.OPEN:
        return []
    problems = []
    for relation, table in manifest["tables"].items():
        if table["access"] != published.OPEN:
            problems.append(f"{relation} is {table['access']} but sits in the open release")
        leaking = sorted(published.PATIENT_LEVEL_COLUMNS & {c["name"] for c in table["columns"]})
        if leaking:
            problems.append(f"{relation} carries patient-level columns {leaking}")
    return problems
