"""Warehouses built once per test session by `make run`'s entry point:

- `sample_warehouse`: the whole shipped sample, with a package for every scope and the
  commissioning pack with its PDFs, for the tests that judge data gaps (they need the months of
  history the gap rules look back over), the shared packages and the pack;
- `e2e_workspace` / `e2e_first_run`: three months of every monthly feed (May to July 2022,
  across the switch from CCGs to sub-ICB locations) and every snapshot release; the end-to-end
  tests re-run and break it on purpose, so `e2e_first_run.pristine` is a copy of it as first built.

Under pytest-xdist (`make test` runs two workers) each is built once per session, by whichever
worker needs it first, in a folder both workers see; `--dist loadgroup` keeps the tests that
change the e2e workspace on one worker (their `xdist_group`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import date
from pathlib import Path
from typing import NamedTuple

import pytest
from filelock import FileLock

from tests.helpers import SAMPLE, run_all, run_all_env

E2E_MONTHS = (date(2022, 5, 1), date(2022, 6, 1), date(2022, 7, 1))


def _shared_dir(tmp_path_factory, name: str) -> Path:
    """A folder every pytest-xdist worker of this session sees (each worker has its own
    basetemp, `<session>/popen-gwN`; their parent is the session's)."""
    base = tmp_path_factory.getbasetemp()
    return (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / name


def _build_once(root: Path, build) -> subprocess.CompletedProcess:
    """Run `build(root)` (a `make run`) once per test session, whichever worker asks first; the
    others wait on the lock and read the same outcome."""
    outcome = root.parent / f"{root.name}.outcome.json"
    with FileLock(str(root) + ".lock"):
        if not outcome.exists():
            root.mkdir(parents=True, exist_ok=True)
            result = build(root)
            outcome.write_text(
                json.dumps(
                    {"returncode": result.returncode, "stdout": result.stdout, "stderr": result.stderr}
                )
            )
    done = json.loads(outcome.read_text())
    return subprocess.CompletedProcess(["make run"], done["returncode"], done["stdout"], done["stderr"])


@pytest.fixture(scope="session")
def sample_warehouse(tmp_path_factory) -> Path:
    """`python -m orchestration.run_all` over every month of seeds/landing; the warehouse path."""
    root = _shared_dir(tmp_path_factory, "sample")
    extra = {"SHARE_SCOPES": "all", "PACK_PDF": "all"}
    result = _build_once(root, lambda r: run_all({**run_all_env(r, SAMPLE), **extra}))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return root / "warehouse.duckdb"


@pytest.fixture(scope="session")
def e2e_workspace(tmp_path_factory) -> tuple[Path, Path, dict[str, str]]:
    """(root, landing folder, environment) of a three-month workspace, not yet built."""
    root = _shared_dir(tmp_path_factory, "e2e")
    landing = root / "landing"
    from orchestration.definitions import ALL_FEEDS

    with FileLock(str(root) + ".landing.lock"):
        if not landing.exists():
            staged = root.parent / "e2e.landing.staging"
            shutil.rmtree(staged, ignore_errors=True)
            for spec in ALL_FEEDS:
                if spec.cadence == "monthly":  # three months of every monthly feed
                    for month in E2E_MONTHS:
                        shutil.copytree(
                            SAMPLE / spec.name / f"{month:%Y-%m}", staged / spec.name / f"{month:%Y-%m}"
                        )
                elif (SAMPLE / spec.name).is_dir():  # every release of the snapshot feeds
                    shutil.copytree(SAMPLE / spec.name, staged / spec.name)
            root.mkdir(parents=True, exist_ok=True)
            staged.rename(landing)
    return root, landing, run_all_env(root, landing)


class FirstRun(NamedTuple):
    result: subprocess.CompletedProcess
    pristine: Path  # the workspace as the run left it (warehouse, Dagster home, landing): copy it to use it


@pytest.fixture(scope="session")
def e2e_first_run(e2e_workspace, tmp_path_factory) -> FirstRun:
    """The first `make run` of the e2e workspace; a copy of the built workspace is kept."""
    root, _, env = e2e_workspace
    pristine = _shared_dir(tmp_path_factory, "e2e_pristine")

    def build(_root: Path) -> subprocess.CompletedProcess:
        result = run_all(env)
        if result.returncode == 0:
            for name in (
                "warehouse.duckdb",
                "dagster_home",
                "landing",
            ):  # not the release: its views name root
                source = root / name
                target = pristine / name
                shutil.copytree(source, target) if source.is_dir() else shutil.copy2(source, target)
        return result

    result = _build_once(pristine, build)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return FirstRun(result, pristine)
