"""The column schema (`dagster/column_schema`) each asset carries in its definition, so the
Dagster UI lists every table's columns with their types and descriptions before anything runs.

- A raw feed's table is created by the loader from its `FeedSpec`: the canonical columns, then
  the loader's own bookkeeping columns (`LOADER_COLUMNS`).
- A dbt model's types come from its yml (`data_type`: every published model has an enforced
  contract, so they are always there), a seed's from its `column_types`, and anything else
  from the catalog `dbt docs generate` writes (`make docs`: `dbt_project/target/catalog.json`),
  which holds every relation the warehouse has, with each column's type in table order. Without
  a catalog, a column no yml types shows `?`, as dagster-dbt's default does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg

from orchestration.lib import settings
from orchestration.lib.feed_spec import FeedSpec

CATALOG = settings.DBT_PROJECT_DIR / "target" / "catalog.json"
UNKNOWN_TYPE = "?"

# Every raw table has these after the feed's own columns (loader._raw_table_ddl).
LOADER_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("_source_file", "varchar", "The landing file the row was read from."),
    ("_period", "date", "The month (or release) the file was landed for: the partition."),
    ("_loaded_at", "timestamp", "When the load that wrote the row ran."),
    ("_schema_variant", "varchar", "The publisher's header layout the file was recognised as."),
    ("_line", "bigint", "The line of the file the row was published on."),
)


def feed_column_schema(spec: FeedSpec) -> dg.TableSchema:
    """The columns of `raw.<feed>` as the loader creates it."""
    columns = [dg.TableColumn(c.name, c.sql_type.lower(), c.description or None) for c in spec.columns]
    columns += [dg.TableColumn(name, sql_type, description) for name, sql_type, description in LOADER_COLUMNS]
    return dg.TableSchema(columns=columns)


def load_catalog(path: Path | None = None) -> dict[str, Mapping[str, Any]]:
    """unique_id → catalog entry for every node and source in dbt's catalog (`CATALOG` unless
    given); empty when there is none (`make docs` writes it) or it cannot be read."""
    try:
        catalog = json.loads((path or CATALOG).read_text())
    except (OSError, ValueError):
        return {}
    return {**catalog.get("nodes", {}), **catalog.get("sources", {})}


def dbt_column_schema(
    props: Mapping[str, Any], catalog_entry: Mapping[str, Any] | None = None
) -> dg.TableSchema | None:
    """A dbt resource's columns: those the catalog found in the warehouse, in table order, then
    any the yml documents that the catalog lacks (a model not built since); None when neither
    knows a column.

    A type is the yml's `data_type`, else the seed's `column_types`, else the catalog's; the
    description is the yml's, else the column comment in the warehouse.
    """
    documented = {name.lower(): info for name, info in (props.get("columns") or {}).items()}
    seed_types = {k.lower(): v for k, v in (props.get("config", {}).get("column_types") or {}).items()}
    found = sorted(
        (catalog_entry or {}).get("columns", {}).values(), key=lambda c: (c.get("index") or 0, c["name"])
    )
    names = [c["name"].lower() for c in found]
    names += [name for name in documented if name not in set(names)]
    if not names:
        return None
    in_catalog = {c["name"].lower(): c for c in found}
    columns = []
    for name in names:
        info, seen = documented.get(name, {}), in_catalog.get(name, {})
        data_type = info.get("data_type") or seed_types.get(name) or (seen.get("type") or "").lower()
        columns.append(
            dg.TableColumn(
                name=info.get("name") or seen.get("name") or name,
                type=data_type or UNKNOWN_TYPE,
                description=info.get("description") or seen.get("comment") or None,
                tags={tag: "" for tag in info.get("tags", [])},
            )
        )
    return dg.TableSchema(columns=columns)
