"""What a release holds, read from the dbt manifest: one place says which tables are published.

- Every dbt model in schema `marts` named `dim_*`, `fct_*`, `mart_*` or `dq_*`, with its enforced
  contract (column names and types), its docs, and `config.meta.release`:
  `access` (`open`, the default, or `restricted`: record-level rows with a pseudonymised patient
  id or a record's LSOA of residence), `partition_by` (a period column: one Parquet folder per
  period) and `order_by` (the area and period columns BI filters on).
- Every table of the dbt source `share` (tables the pipeline writes with disclosure control
  applied, e.g. `share.fft_trust_experience`), documented in `models/share/_share__sources.yml`.

Restricted tables go only into the access-controlled release that `RESTRICTED_PUBLISH_DIR` names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

PUBLISHED_PREFIXES = ("dim_", "fct_", "mart_", "dq_")
PUBLISHED_SCHEMA = "marts"
SHARE_SOURCE = "share"
OPEN = "open"
RESTRICTED = "restricted"
ACCESS_LEVELS = (OPEN, RESTRICTED)
# Columns that identify a patient: never in the open release, whatever a model's meta says.
PATIENT_LEVEL_COLUMNS = frozenset({"patient_id", "nhs_number", "date_of_birth", "person_id", "pseudo_id"})


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str | None
    description: str


@dataclass(frozen=True)
class PublishedTable:
    schema: str
    name: str
    access: str
    partition_by: str | None
    order_by: tuple[str, ...]
    description: str
    columns: tuple[Column, ...]
    version: int | str | None = None
    contract_enforced: bool = False

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def asset_key_path(self) -> list[str]:
        return [self.schema, self.name]


def load_manifest(path: Path) -> dict:
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: parse the dbt project first (`make run` does it).")
    return json.loads(path.read_text())


def is_published_model(node: dict) -> bool:
    return (
        node.get("resource_type") == "model"
        and node.get("schema") == PUBLISHED_SCHEMA
        and node["name"].startswith(PUBLISHED_PREFIXES)
    )


def _release_meta(node: dict, where: str) -> dict:
    meta = (
        (node.get("config") or {}).get("meta", {}).get("release") or node.get("meta", {}).get("release") or {}
    )
    access = meta.get("access", OPEN)
    if access not in ACCESS_LEVELS:
        raise ValueError(f"{where}: meta.release.access is {access!r}; expected one of {ACCESS_LEVELS}")
    return {**meta, "access": access}


def _table(node: dict, schema: str, where: str, contract: bool) -> PublishedTable:
    meta = _release_meta(node, where)
    columns = tuple(
        Column(name, column.get("data_type"), (column.get("description") or "").strip())
        for name, column in node.get("columns", {}).items()
    )
    names = {c.name for c in columns}
    for key in ("partition_by",):
        if meta.get(key) and meta[key] not in names:
            raise ValueError(
                f"{where}: meta.release.{key} names {meta[key]!r}, which is not one of its columns"
            )
    unknown = [c for c in meta.get("order_by", []) if c not in names]
    if unknown:
        raise ValueError(f"{where}: meta.release.order_by names {unknown}, which are not among its columns")
    return PublishedTable(
        schema=schema,
        name=node.get("alias") or node["name"],
        access=meta["access"],
        partition_by=meta.get("partition_by"),
        order_by=tuple(meta.get("order_by", [])),
        description=(node.get("description") or "").strip(),
        columns=columns,
        version=node.get("version"),
        contract_enforced=contract and bool((node.get("contract") or {}).get("enforced")),
    )


def published_tables(manifest: dict) -> list[PublishedTable]:
    """Every published table, sorted by schema and name."""
    tables = [
        _table(node, PUBLISHED_SCHEMA, node["original_file_path"], contract=True)
        for node in manifest["nodes"].values()
        if is_published_model(node)
    ]
    tables += [
        _table(source, SHARE_SOURCE, source["original_file_path"], contract=False)
        for source in manifest.get("sources", {}).values()
        if source.get("source_name") == SHARE_SOURCE
    ]
    return sorted(tables, key=lambda t: (t.schema, t.name))


def for_access(tables: list[PublishedTable], access: str) -> list[PublishedTable]:
    """The tables a release of this access level holds itself: the open release holds the open
    tables; the restricted release adds the restricted ones (its catalog also reads the open
    release's files of the same build)."""
    return [t for t in tables if t.access == access]
