"""Warehouses built once per test session by `make run`'s entry point:

- `sample_warehouse`: the whole shipped sample, with a package for every scope, for the tests
  that judge data gaps (they need the months of history the gap rules look back over) and the
  shared packages;
- `e2e_workspace` / `e2e_first_run`: three months of every monthly feed (May to July 2022,
  across the switch from CCGs to sub-ICB locations) and every snapshot release; the end-to-end
  tests re-run and break it on purpose, so `e2e_first_run.pristine` is a copy of it as first built.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.helpers import SAMPLE, run_all, run_all_env

E2E_MONTHS = (date(2022, 5, 1), date(2022, 6, 1), date(2022, 7, 1))


@pytest.fixture(scope="session")
def sample_warehouse(tmp_path_factory) -> Path:
    """`python -m orchestration.run_all` over every month of seeds/landing; the warehouse path."""
    root = tmp_path_factory.mktemp("sample")
    result = run_all({**run_all_env(root, SAMPLE), "SHARE_SCOPES": "all"})
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return root / "warehouse.duckdb"


@pytest.fixture(scope="session")
def e2e_workspace(tmp_path_factory) -> tuple[Path, Path, dict[str, str]]:
    """(root, landing folder, environment) of a three-month workspace, not yet built."""
    root = tmp_path_factory.mktemp("e2e")
    landing = root / "landing"
    from orchestration.definitions import ALL_FEEDS

    for spec in ALL_FEEDS:
        if spec.cadence == "monthly":  # three months of every monthly feed
            for month in E2E_MONTHS:
                shutil.copytree(SAMPLE / spec.name / f"{month:%Y-%m}", landing / spec.name / f"{month:%Y-%m}")
        elif (SAMPLE / spec.name).is_dir():  # every release of the snapshot feeds
            shutil.copytree(SAMPLE / spec.name, landing / spec.name)
    return root, landing, run_all_env(root, landing)


class FirstRun(NamedTuple):
    result: subprocess.CompletedProcess
    pristine: Path  # the workspace as the run left it (warehouse, Dagster home, landing, release)


@pytest.fixture(scope="session")
def e2e_first_run(e2e_workspace, tmp_path_factory) -> FirstRun:
    """The first `make run` of the e2e workspace; a copy of the built workspace is kept."""
    root, _, env = e2e_workspace
    result = run_all(env)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    pristine = tmp_path_factory.mktemp("e2e_pristine")
    for name in ("warehouse.duckdb", "dagster_home", "landing"):  # not the release: its views name root
        source = root / name
        shutil.copytree(source, pristine / name) if source.is_dir() else shutil.copy2(source, pristine / name)
    return FirstRun(result, pristine)
