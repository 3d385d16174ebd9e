"""Temporary folders a killed load leaves behind are removed by the next one, and only those."""

from __future__ import annotations

import subprocess
import sys

import pytest

from orchestration.lib import scratch, settings


@pytest.fixture
def temp(tmp_path, monkeypatch):
    """The scratch folder of a warehouse of the test's own."""
    monkeypatch.setenv("WAREHOUSE_PATH", str(tmp_path / "warehouse.duckdb"))
    folder = settings.scratch_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _ended_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_folder_whose_process_ended_is_removed_when_the_next_one_opens(temp):
    orphan = temp / f"cw-unzip-{_ended_pid()}@{scratch._host()}-abc123"
    (orphan / "ECDS_202404.csv").parent.mkdir()
    (orphan / "ECDS_202404.csv").write_text("half an extraction")
    with scratch.folder("unzip") as folder:
        assert folder.parent == temp and folder.is_dir()
        assert not orphan.exists()
    assert not folder.exists()


def test_folders_of_live_processes_other_hosts_and_other_names_are_kept(temp):
    kept = [
        temp / f"cw-unzip-1@{scratch._host()}-live",  # init: alive (or another user's)
        temp / f"cw-unzip-{_ended_pid()}@another_host-abc",  # a temp folder shared by containers
        temp / "cw-unzip-x8g2k1",  # named as before this module
        temp / f"cw-sheet-{_ended_pid()}@{scratch._host()}-abc",  # another kind: its own loads sweep it
    ]
    for folder in kept:
        folder.mkdir()
    assert scratch.remove_orphans("unzip") == []
    assert all(folder.is_dir() for folder in kept)
