"""The dbt docs that travel with a release: one static page (`dbt docs generate --static`), no
server and no network needed.

dbt builds its catalog by querying a database. It is pointed at the release's own catalog (the
views a BI tool sees), never at the private warehouse, so it takes no lock a load needs. The
page depends only on the dbt project and the published schemas, so it is cached per project
fingerprint: a month's run on an unchanged project reuses it instead of paying dbt's start-up,
parse and compile again (about 14 s).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from orchestration.lib import settings

STATIC_PAGE = "static_index.html"
DOCS_PAGE = "index.html"
# Beside dbt's own artefacts: the docs depend on the project alone, so every warehouse built from
# this checkout (tests included) shares them.
CACHE = settings.DBT_PROJECT_DIR / "target" / "release_docs"


def project_fingerprint(manifest: dict) -> str:
    """What the docs show: every node's and source's checksum, description, columns and config
    (not the parse time, which changes on every parse)."""
    content = {
        uid: [node.get("checksum"), node.get("description"), node.get("columns"), node.get("config")]
        for section in ("nodes", "sources", "exposures")
        for uid, node in sorted(manifest.get(section, {}).items())
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()[:16]


def build_docs(manifest: dict, catalog_db: Path, cache_root: Path) -> Path:
    """A folder holding `index.html` (the static dbt docs), from the cache when the project is
    unchanged."""
    cached = cache_root / project_fingerprint(manifest)
    if (cached / DOCS_PAGE).is_file():
        return cached
    with tempfile.TemporaryDirectory(prefix="dbt-docs-") as scratch:
        target = Path(scratch) / "target"
        env = {**os.environ, settings.WAREHOUSE_ENV: str(catalog_db), "DO_NOT_TRACK": "1"}
        done = subprocess.run(
            [
                str(Path(sys.executable).parent / "dbt"),
                "docs",
                "generate",
                "--static",
                "--quiet",
                "--target-path",
                str(target),
                "--profiles-dir",
                str(settings.DBT_PROJECT_DIR),
                "--project-dir",
                str(settings.DBT_PROJECT_DIR),
            ],
            cwd=settings.DBT_PROJECT_DIR,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        page = target / STATIC_PAGE
        if done.returncode or not page.is_file():
            output = (done.stdout + done.stderr)[-3000:]
            raise RuntimeError(f"`dbt docs generate --static` failed (exit {done.returncode}):\n{output}")
        staged = cache_root / f".{cached.name}.{os.getpid()}.building"
        shutil.rmtree(staged, ignore_errors=True)
        staged.mkdir(parents=True)
        shutil.copyfile(page, staged / DOCS_PAGE)  # manifest and catalog are inlined in the page
        try:
            staged.rename(cached)
        except OSError:  # another process cached the same project's docs meanwhile
            shutil.rmtree(staged, ignore_errors=True)
            if not (cached / DOCS_PAGE).is_file():
                raise
    for stale in cache_root.iterdir():  # only the current project's docs are kept
        if stale != cached and not stale.name.startswith("."):
            shutil.rmtree(stale, ignore_errors=True)
    return cached
