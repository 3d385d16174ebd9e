"""The published models' contracts: enforced, typed, locked, and what counts as breaking them.

Reads the dbt manifest (`dbt_project/target/manifest.json`, or `$DBT_TARGET_PATH`), which the
session fixture in tests/conftest.py parses when it is older than the project.
"""

from __future__ import annotations

import copy
import json

import pytest

from orchestration.release import contracts

RECORD_LEVEL_COLUMNS = {"patient_id", "lsoa_code"}


@pytest.fixture(scope="module")
def manifest() -> dict:
    path = contracts.default_manifest_path()
    if not path.is_file():
        pytest.fail(f"{path} not found: run `dbt parse` in dbt_project first")
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def published(manifest) -> list[dict]:
    return contracts.published_models(manifest)


def test_published_models_are_the_marts_dims_facts_marts_and_dq_tables(published):
    names = {m["name"] for m in published}
    assert {"dim_region", "fct_prescribing", "mart_ois_indicator", "dq_gap_summary"} <= names
    assert "int_ltc_programme_prescribing" not in names
    assert {m["schema"] for m in published} == {"marts"}


def test_every_published_model_enforces_a_contract_with_a_type_on_every_column(manifest, published):
    assert contracts.contract_problems(manifest) == []
    for model in published:
        assert model["contract_enforced"], model["name"]
        assert model["columns"], model["name"]
        assert all(c["data_type"] for c in model["columns"]), model["name"]


def test_no_published_column_is_hugeint_which_parquet_and_arrow_cannot_carry(published):
    hugeint = [
        f"{m['name']}.{c['name']}"
        for m in published
        for c in m["columns"]
        if "hugeint" in c["data_type"].lower()
    ]
    assert hugeint == []


def test_every_published_column_is_described(published):
    undocumented = [
        f"{m['name']}.{c['name']}" for m in published for c in m["columns"] if not c["description"]
    ]
    assert undocumented == []


def test_release_metadata_names_only_the_models_own_columns(published):
    for model in published:
        names = [c["name"] for c in model["columns"]]
        assert model["access"] in ("open", "restricted"), model["name"]
        assert model["order_by"], f"{model['name']} has no meta.release.order_by"
        assert set(model["order_by"]) <= set(names), model["name"]
        assert model["partition_by"] is None or model["partition_by"] in names, model["name"]


def test_partition_columns_are_dates_or_years(published):
    types = {
        m["name"]: next(c["data_type"] for c in m["columns"] if c["name"] == m["partition_by"])
        for m in published
        if m["partition_by"]
    }
    assert set(types.values()) == {"date", "integer"}
    assert "fct_public_health_indicator" not in types  # no date period to partition by
    assert types["fct_resident_population"] == "integer"


def test_restricted_models_are_the_record_level_facts_with_a_patient_id_or_lsoa_of_residence(published):
    restricted = {m["name"] for m in published if m["access"] == "restricted"}
    record_level = {
        m["name"]
        for m in published
        if m["name"].startswith("fct_") and RECORD_LEVEL_COLUMNS & {c["name"] for c in m["columns"]}
    }
    assert restricted == record_level == {"fct_apc_spell", "fct_outpatient_attendance", "fct_ae_attendance"}


def test_the_lock_matches_the_manifest(manifest):
    problems = contracts.compare(contracts.load_lock(), contracts.lock_from_manifest(manifest))
    assert not problems, "\n".join(problems)


def test_the_lock_file_is_written_as_update_writes_it(manifest):
    assert contracts.LOCK_PATH.read_text() == contracts.dumps(contracts.load_lock())


def test_the_bi_release_exposure_reads_every_published_table(manifest):
    from orchestration.release import tables

    exposure = manifest["exposures"]["exposure.commissioning.published_bi_release"]
    read = {
        f"{node['schema']}.{node['name']}"
        for unique_id in exposure["depends_on"]["nodes"]
        for node in [manifest["nodes"].get(unique_id) or manifest["sources"][unique_id]]
    }
    assert read == {t.relation for t in tables.published_tables(manifest)}


def _lock() -> dict:
    return {
        "models": {
            "fct_x": {
                "name": "fct_x",
                "version": None,
                "access": "open",
                "partition_by": "month",
                "columns": [
                    {"name": "month", "data_type": "date"},
                    {"name": "area_code", "data_type": "varchar"},
                    {"name": "items", "data_type": "bigint"},
                ],
            }
        }
    }


def test_a_removed_column_is_breaking():
    current = _lock()
    current["models"]["fct_x"]["columns"].pop(2)
    (problem,) = contracts.compare(_lock(), current)
    assert problem.startswith("breaking: fct_x.items")
    assert "add a new model version (dbt `versions:`) or restore the column" in problem


def test_a_changed_type_is_breaking():
    current = _lock()
    current["models"]["fct_x"]["columns"][2]["data_type"] = "double"
    (problem,) = contracts.compare(_lock(), current)
    assert problem.startswith("breaking: fct_x.items changed type from bigint to double")
    assert "add a new model version (dbt `versions:`) or restore the column" in problem


def test_an_added_column_is_not_breaking_but_not_in_the_lock():
    current = _lock()
    current["models"]["fct_x"]["columns"].append({"name": "cost", "data_type": "double"})
    (problem,) = contracts.compare(_lock(), current)
    assert problem.startswith("not in the lock: fct_x.cost")
    assert "run `python -m orchestration.release.contracts --update`" in problem


def test_a_new_model_is_not_in_the_lock_and_a_dropped_one_is_breaking():
    current = _lock()
    current["models"]["dim_y"] = copy.deepcopy(current["models"]["fct_x"]) | {"name": "dim_y"}
    (added,) = contracts.compare(_lock(), current)
    assert added.startswith("not in the lock: dim_y")
    (dropped,) = contracts.compare(current, _lock())
    assert dropped.startswith("breaking: dim_y is no longer published")


def test_a_new_model_version_carries_the_breaking_change_without_breaking_the_old_one():
    lock = _lock()
    lock["models"]["fct_x"]["version"] = 1
    lock["models"] = {"fct_x.v1": lock["models"]["fct_x"]}
    current = copy.deepcopy(lock)
    v2 = copy.deepcopy(lock["models"]["fct_x.v1"]) | {"version": 2}
    v2["columns"][2]["data_type"] = "double"
    current["models"]["fct_x.v2"] = v2
    (problem,) = contracts.compare(lock, current)
    assert problem.startswith("not in the lock: fct_x.v2")


def test_moving_a_table_out_of_the_open_release_is_breaking():
    current = _lock()
    current["models"]["fct_x"]["access"] = "restricted"
    (problem,) = contracts.compare(_lock(), current)
    assert problem.startswith("breaking: fct_x access changed from open to restricted")


def test_the_command_fails_with_the_problems_and_update_rewrites_the_lock(manifest, tmp_path, capsys):
    manifest_path = tmp_path / "manifest.json"
    manifest_path.write_text(json.dumps(manifest))
    lock_path = tmp_path / "published_contracts.json"
    stale = contracts.lock_from_manifest(manifest)
    stale["models"]["dim_region"]["columns"].append({"name": "gone", "data_type": "varchar"})
    lock_path.write_text(contracts.dumps(stale))

    assert contracts.main(["--manifest", str(manifest_path), "--lock", str(lock_path)]) == 1
    assert "breaking: dim_region.gone (varchar) was removed" in capsys.readouterr().err

    assert contracts.main(["--update", "--manifest", str(manifest_path), "--lock", str(lock_path)]) == 0
    assert json.loads(lock_path.read_text()) == contracts.lock_from_manifest(manifest)
    assert contracts.main(["--manifest", str(manifest_path), "--lock", str(lock_path)]) == 0
