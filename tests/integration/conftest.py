"""The whole shipped sample built once per test session, for the tests that judge data gaps
(they need the months of history the gap rules look back over)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import SAMPLE, run_all, run_all_env


@pytest.fixture(scope="session")
def sample_warehouse(tmp_path_factory) -> Path:
    """`python -m orchestration.run_all` over every month of seeds/landing; the warehouse path."""
    root = tmp_path_factory.mktemp("sample")
    result = run_all(run_all_env(root, SAMPLE))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return root / "warehouse.duckdb"
