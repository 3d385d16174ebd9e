"""Test helpers: sample landing files (the project's own generated sample) as text, and pages as
headless Chromium renders them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest

from orchestration.pack.pdf import CHROMIUM, CHROMIUM_ARGS

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE = REPO_ROOT / "seeds" / "landing"


def sample_text(feed: str, month: str) -> str:
    """The CSV inside a shipped sample zip, as text (CRLF kept)."""
    folder = SAMPLE / feed / month
    (archive,) = list(folder.glob("*.zip"))
    with zipfile.ZipFile(archive) as handle:
        (member,) = handle.namelist()
        return handle.read(member).decode("latin-1")


def write(path: Path, text: str, encoding: str = "latin-1") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def dump_dom(page: Path) -> str:
    """The DOM headless Chromium builds from a local file (no server, no network)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test`, which installs it (Debian package chromium)")
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        started = time.monotonic()
        done = subprocess.run(
            [
                str(CHROMIUM),
                *CHROMIUM_ARGS,
                f"--user-data-dir={profile}",
                "--dump-dom",
                page.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 0, f"chromium failed on {page}: {done.stderr[-2000:]}"
    assert done.stdout.strip(), f"chromium returned no DOM for {page} after {time.monotonic() - started:.1f}s"
    return done.stdout


def text(html: str) -> str:
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def run_all_env(root: Path, landing: Path) -> dict[str, str]:
    """The environment of a `make run` on its own warehouse, Dagster home and reports under root."""
    home = root / "dagster_home"
    home.mkdir(exist_ok=True)
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    return {
        **os.environ,
        "WAREHOUSE_PATH": str(root / "warehouse.duckdb"),
        "LANDING_DIR": str(landing),
        "DAGSTER_HOME": str(home),
        "PARTITIONS_START": "2021-01-01",
        "REPORTS_DIR": str(root / "reports"),
        "PUBLISH_DIR": str(root / "published"),
        "SHARE_DIR": str(root / "packages"),
        "SHARE_SCOPES": "england",  # the whole-sample build asks for every scope (conftest.py)
        "PACK_PDF": "none",  # the whole-sample build prints the pack's PDFs (conftest.py)
    }


def run_all(env: dict[str, str]) -> subprocess.CompletedProcess:
    """`python -m orchestration.run_all` (what `make run` calls) in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "orchestration.run_all"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
