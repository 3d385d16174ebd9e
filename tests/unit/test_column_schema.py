"""Every asset's definition carries its typed column schema, so the Dagster UI lists the columns
of a table with their types before anything has run.

The definitions are loaded as `make ui` loads them and read by asset key (not by which
AssetsDefinition holds a key, which changes as the dbt assets are regrouped).
"""

from __future__ import annotations

import json

import dagster as dg
import duckdb
import pytest

from orchestration.defs.catalog import ALL_FEEDS
from orchestration.lib import column_schema, loader
from orchestration.lib.column_schema import dbt_column_schema, feed_column_schema
from orchestration.lib.dbt_translator import CommissioningTranslator
from tests.helpers import REPO_ROOT

SCHEMA = "dagster/column_schema"


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads((REPO_ROOT / "dbt_project" / "target" / "manifest.json").read_text())


@pytest.fixture(scope="module")
def specs() -> dict[dg.AssetKey, dg.AssetSpec]:
    from orchestration.definitions import defs

    return {spec.key: spec for spec in defs.resolve_all_asset_specs()}


def columns(spec: dg.AssetSpec) -> dict[str, tuple[str, str | None]]:
    schema = spec.metadata[SCHEMA]
    assert isinstance(schema, dg.TableSchema), spec.key
    return {c.name: (c.type, c.description) for c in schema.columns}


def test_a_mart_lists_its_contract_columns_with_types_and_descriptions(specs):
    dim_icb = columns(specs[dg.AssetKey(["marts", "dim_icb"])])
    assert dim_icb["icb_code"] == ("varchar", "ICB ODS code (Q…).")
    assert dim_icb["sub_icb_locations"][0] == "bigint"
    fact = columns(specs[dg.AssetKey(["marts", "fct_apc_spell"])])
    assert fact["discharge_date"][0] == "date" and fact["discharge_date"][1]


def test_every_model_with_an_enforced_contract_carries_its_declared_types(specs, manifest):
    contracted = [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"].get("contract", {}).get("enforced")
    ]
    assert len(contracted) >= 30
    for node in contracted:
        key = dg.AssetKey([node["schema"], node.get("alias") or node["name"]])
        declared = {name: (c["data_type"], c["description"] or None) for name, c in node["columns"].items()}
        assert columns(specs[key]) == declared, key


def test_a_raw_feed_lists_the_columns_the_loader_creates(specs):
    hes_apc = columns(specs[dg.AssetKey(["raw", "hes_apc"])])
    assert hes_apc["admidate"][0] == "date"
    assert hes_apc["epikey"][0] == "varchar" and "EPIKEY" in hes_apc["epikey"][1]
    assert list(hes_apc)[-5:] == ["_source_file", "_period", "_loaded_at", "_schema_variant", "_line"]
    assert hes_apc["_period"][0] == "date"
    practices = columns(specs[dg.AssetKey(["raw", "ods_epraccur"])])
    assert practices["organisation_code"] == ("varchar", "ODS code")


@pytest.mark.parametrize("spec", ALL_FEEDS, ids=lambda s: s.name)
def test_a_feed_schema_is_the_raw_table_duckdb_creates(spec):
    conn = duckdb.connect()
    loader.ensure_raw_table(conn, spec)
    created = conn.execute(
        "select column_name, lower(data_type) from information_schema.columns "
        "where table_schema = 'raw' and table_name = ? order by ordinal_position",
        [spec.name],
    ).fetchall()
    assert [(c.name, c.type) for c in feed_column_schema(spec).columns] == created


def test_without_declared_types_the_catalog_gives_them(tmp_path, monkeypatch, manifest):
    """A staging view no yml documents, a model whose yml columns carry no type, and a contract
    model whose declared types win over the warehouse's."""
    staging = "model.commissioning.stg_ons__lsoa_lookup"
    untyped = next(
        uid
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model"
        and node["columns"]
        and not any(c.get("data_type") for c in node["columns"].values())
    )
    contract = "model.commissioning.dim_icb"
    assert not manifest["nodes"][staging]["columns"]
    untyped_columns = list(manifest["nodes"][untyped]["columns"])
    catalog = {
        "nodes": {
            staging: {
                "columns": {
                    "lsoa_code": {"type": "VARCHAR", "index": 2, "name": "lsoa_code", "comment": None},
                    "published_month": {
                        "type": "DATE",
                        "index": 1,
                        "name": "published_month",
                        "comment": None,
                    },
                }
            },
            untyped: {
                "columns": {
                    name.upper(): {"type": "BIGINT", "index": i, "name": name.upper(), "comment": None}
                    for i, name in enumerate(untyped_columns, start=1)
                }
            },
            contract: {"columns": {"icb_code": {"type": "INTEGER", "index": 1, "name": "icb_code"}}},
        },
        "sources": {},
    }
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    monkeypatch.setattr(column_schema, "CATALOG", tmp_path / "catalog.json")
    translator = CommissioningTranslator()

    def schema_of(uid: str) -> dict[str, tuple[str, str | None]]:
        return columns(translator.get_asset_spec(manifest, uid, None))

    assert schema_of(staging) == {"published_month": ("date", None), "lsoa_code": ("varchar", None)}
    typed = schema_of(untyped)
    assert list(typed) == untyped_columns  # the yml's spelling, the table's order
    for name in untyped_columns:
        assert typed[name] == ("bigint", manifest["nodes"][untyped]["columns"][name]["description"] or None)
    assert schema_of(contract)["icb_code"][0] == "varchar"


def test_with_no_catalog_an_untyped_column_shows_unknown_and_no_columns_no_schema(tmp_path):
    assert column_schema.load_catalog(tmp_path / "absent.json") == {}
    props = {"columns": {"code": {"name": "code", "description": "A code."}}, "config": {}}
    (column,) = dbt_column_schema(props).columns
    assert (column.name, column.type, column.description) == ("code", "?", "A code.")
    assert dbt_column_schema({"columns": {}, "config": {}}) is None
    seed = {"columns": {}, "config": {"column_types": {"weight": "double"}}}
    found = {"columns": {"weight": {"type": "INTEGER", "index": 1, "name": "weight"}}}
    (weight,) = dbt_column_schema(seed, found).columns
    assert weight.type == "double"  # the seed's declared type, not the catalog's
