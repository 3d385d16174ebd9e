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
