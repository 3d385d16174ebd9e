"""The whole shipped sample built once per test session, for the tests that judge data gaps
(they need the months of history the gap rules look back over)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT, SAMPLE


@pytest.fixture(scope="session")
def sample_warehouse(tmp_path_factory) -> Path:
    """`python -m orchestration.run_all` over every month of seeds/landing; the warehouse path."""
    root = tmp_path_factory.mktemp("sample")
    home = root / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    env = {
        **os.environ,
        "WAREHOUSE_PATH": str(root / "warehouse.duckdb"),
        "LANDING_DIR": str(SAMPLE),
        "DAGSTER_HOME": str(home),
        "PARTITIONS_START": "2021-01-01",
        "REPORTS_DIR": str(root / "reports"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "orchestration.run_all"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return root / "warehouse.duckdb"
