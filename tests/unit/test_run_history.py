"""The run history: the project's dagster.yaml stores Dagster's events with our unsynced SQLite
event log, in Dagster's own files, readable by any Dagster process (the UI)."""

from __future__ import annotations

import shutil

import dagster as dg
import pytest
from sqlalchemy import text

from orchestration.lib.run_history import UnsyncedSqliteEventLogStorage
from tests.helpers import REPO_ROOT


@pytest.fixture
def home(tmp_path, monkeypatch):
    shutil.copy(REPO_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    return tmp_path


@dg.asset(partitions_def=dg.StaticPartitionsDefinition(["2022-05", "2022-06"]))
def monthly_feed() -> None:
    return None


def test_the_projects_dagster_home_stores_events_in_dagsters_files_without_fsync(home):
    with dg.DagsterInstance.get() as instance:
        storage = instance.event_log_storage
        assert isinstance(storage, UnsyncedSqliteEventLogStorage)
        for month in ("2022-05", "2022-06"):
            assert dg.materialize([monthly_feed], instance=instance, partition_key=month).success
        run_ids = [run.run_id for run in instance.get_runs()]
        # Dagster's layout: one file per run and the index, under history/runs
        assert {p.name for p in (home / "history" / "runs").glob("*.db")} == {
            *(f"{run_id}.db" for run_id in run_ids),
            "index.db",
        }
        with storage.index_connection() as conn:
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 0  # OFF

    # A second process (the webserver) opening the same home reads what the run wrote.
    with dg.DagsterInstance.get() as reader:
        assert reader.get_materialized_partitions(dg.AssetKey("monthly_feed")) == {"2022-05", "2022-06"}
        records = reader.get_records_for_run(run_ids[0]).records
        assert any(r.event_log_entry.dagster_event_type == dg.DagsterEventType.RUN_SUCCESS for r in records)


def test_an_explicit_base_dir_is_honoured(tmp_path):
    storage = UnsyncedSqliteEventLogStorage.from_config_value(None, {"base_dir": str(tmp_path / "elsewhere")})
    assert storage.path_for_shard("index") == str(tmp_path / "elsewhere" / "index.db")
