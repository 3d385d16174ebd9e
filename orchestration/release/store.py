"""Where releases live on disk, and the one atomic switch between them.

    <root>/
      commissioning.duckdb      the current release's catalog (a hard link to it): the one fixed path a
                                BI tool opens
      CURRENT                   the current release id, one line
      current -> releases/<id>  the same, as a symlink (Parquet readers resolve it once)
      releases/<id>/            one release: data/, csv/, docs/, catalog.duckdb, release.json

A release folder is complete when its `release.json` exists: it is written last, after every
Parquet file, the CSV extracts and the catalog (whose views name the folder's own files, so the
folder is written where it will stay). Only complete releases are ever pointed at; a folder a
killed or failed publish left without its release.json is removed by the next publish.
The switch replaces the three pointers with `os.replace` (an atomic rename on POSIX): a reader
opening the catalog, reading CURRENT or resolving `current` sees the old release or the new one,
never a mix, and a reader that already opened the old catalog keeps reading the old release's
files, which stay on disk for the next `keep - 1` releases.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

CATALOG = "commissioning.duckdb"
CURRENT = "CURRENT"
CURRENT_LINK = "current"
RELEASES = "releases"
MANIFEST = "release.json"
RELEASE_CATALOG = "catalog.duckdb"
LOCK = ".publish.lock"


class NoRelease(LookupError):
    """Nothing has been published at this root yet."""


@dataclass(frozen=True)
class ReleaseStore:
    root: Path

    @property
    def releases_dir(self) -> Path:
        return self.root / RELEASES

    @property
    def catalog(self) -> Path:
        """The fixed path of the current release's DuckDB catalog."""
        return self.root / CATALOG

    def release_dir(self, release_id: str) -> Path:
        return self.releases_dir / release_id

    def complete_releases(self) -> list[str]:
        """Ids of every complete release, oldest first (ids sort by build time)."""
        if not self.releases_dir.is_dir():
            return []
        return sorted(
            path.name
            for path in self.releases_dir.iterdir()
            if path.is_dir() and not path.name.startswith(".") and (path / MANIFEST).is_file()
        )

    def current_id(self) -> str:
        """The release readers are pointed at now."""
        pointer = self.root / CURRENT
        if not pointer.is_file():
            raise NoRelease(
                f"No release has been published under {self.root} yet: run `make run` (or `make publish` "
                "after a good build)."
            )
        return pointer.read_text().strip()

    def current_dir(self) -> Path:
        return self.release_dir(self.current_id())

    def manifest(self, release_id: str | None = None) -> dict:
        """The release.json of a release (the current one by default)."""
        path = self.release_dir(release_id or self.current_id()) / MANIFEST
        return json.loads(path.read_text())

    @contextmanager
    def publishing(self) -> Iterator[None]:
        """One publisher at a time per root (a run and a `make publish` never interleave)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / LOCK, "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def discard_incomplete(self) -> list[str]:
        """Remove what a killed or failed publish left behind: release folders without their
        release.json, and staged pointers. Never touches a complete release."""
        removed = []
        if not self.releases_dir.is_dir():
            return removed
        for path in self.releases_dir.iterdir():
            if not (path / MANIFEST).is_file():
                shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink()
                removed.append(path.name)
        for leftover in self.root.glob("*.tmp"):
            leftover.unlink(missing_ok=True)
        return removed

    def switch_to(self, release_id: str) -> None:
        """Point readers at a complete release: catalog, CURRENT and the `current` link, each
        replaced atomically."""
        target = self.release_dir(release_id)
        if not (target / MANIFEST).is_file():
            raise RuntimeError(f"refusing to switch to {target}: it has no {MANIFEST} (incomplete release)")
        staged_catalog = self.root / f"{CATALOG}.tmp"
        staged_catalog.unlink(missing_ok=True)
        try:  # the release's own catalog under the fixed name: no copy of the tables stored in it
            os.link(target / RELEASE_CATALOG, staged_catalog)
        except OSError:  # a file system without hard links
            shutil.copyfile(target / RELEASE_CATALOG, staged_catalog)
            _fsync(staged_catalog)
        os.replace(staged_catalog, self.catalog)
        staged_pointer = self.root / f"{CURRENT}.tmp"
        staged_pointer.write_text(release_id + "\n")
        _fsync(staged_pointer)
        os.replace(staged_pointer, self.root / CURRENT)
        staged_link = self.root / f"{CURRENT_LINK}.tmp"
        staged_link.unlink(missing_ok=True)
        staged_link.symlink_to(Path(RELEASES) / release_id)
        os.replace(staged_link, self.root / CURRENT_LINK)

    def prune(self, keep: int) -> list[str]:
        """Delete complete releases beyond the newest `keep` (never the current one)."""
        current = self.current_id()
        releases = self.complete_releases()
        doomed = [r for r in releases[: max(len(releases) - keep, 0)] if r != current]
        for release_id in doomed:
            shutil.rmtree(self.release_dir(release_id), ignore_errors=True)
        return doomed


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()
