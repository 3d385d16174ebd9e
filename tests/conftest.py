"""Shared fixtures. Real publisher files are read from ../shared/real_formats (present in CI)."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SHARED_DIR", REPO_ROOT.parent / "shared"))
REAL_FORMATS = SHARED / "real_formats"

requires_real_formats = pytest.mark.skipif(
    not REAL_FORMATS.is_dir(), reason=f"publisher files not found at {REAL_FORMATS}"
)


@pytest.fixture
def conn():
    connection = duckdb.connect()
    yield connection
    connection.close()


def real_file(relative: str) -> Path:
    return REAL_FORMATS / relative


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest():
    """Parse the dbt project when the manifest is older than any model, macro, test or seed.

    `make test` does this first; this keeps a bare `pytest` honest too.
    """
    import subprocess
    import sys

    project = REPO_ROOT / "dbt_project"
    manifest = project / "target" / "manifest.json"
    sources = [
        p for folder in ("models", "macros", "tests") for p in (project / folder).rglob("*") if p.is_file()
    ] + [project / "dbt_project.yml", *(REPO_ROOT / "seeds" / "reference").glob("*")]
    from filelock import FileLock

    with FileLock(str(project / "target.parse.lock")):  # pytest-xdist workers: one parses
        if not manifest.exists() or manifest.stat().st_mtime < max(p.stat().st_mtime for p in sources):
            dbt = Path(sys.executable).parent / "dbt"
            subprocess.run([str(dbt), "parse", "--quiet", "--profiles-dir", "."], cwd=project, check=True)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """The bad-input suite's table of cases and outcomes (tests/unit/test_bad_input_suite.py),
    gathered from the reports so it shows under pytest-xdist too."""
    rows = [
        value
        for report in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get("failed", [])
        if report.when == "call"
        for name, value in report.user_properties
        if name == "bad_input_case"
    ]
    if not rows:
        return
    terminalreporter.section(f"bad-input suite: {len(rows)} cases")
    terminalreporter.write_line("case | expected | outcome")
    for row in sorted(rows):
        terminalreporter.write_line(row)
