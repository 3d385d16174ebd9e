"""Scratch files the loader writes for DuckDB to read: beside the warehouse, removed always.

A zip member or a workbook sheet is written out before DuckDB reads it. The folder is
`settings.scratch_dir()` (`<warehouse folder>/tmp`), not the system /tmp: see there why. Each
load gets its own folder under it, removed when the load ends, failed or not.

DuckDB's `read_csv` reads its path as a glob pattern: a landing file named
`gp-reg-pat-prac-quin-age[1].csv` would read `gp-reg-pat-prac-quin-age1.csv` instead, and a `*`
or `?` in a name can read several files. Such a file is read through a link with a plain name.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from orchestration.lib import settings

GLOB_CHARACTERS = frozenset("*?[")


@contextmanager
def folder(prefix: str) -> Iterator[Path]:
    """A new empty folder under the scratch folder, removed (with what is in it) on exit."""
    base = settings.scratch_dir()
    base.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=prefix, dir=base) as tmp:
        yield Path(tmp)


def reads_as_pattern(path: Path) -> bool:
    """Whether DuckDB would take this path for a glob pattern rather than the file itself."""
    return not GLOB_CHARACTERS.isdisjoint(str(path))


@contextmanager
def plainly_named(path: Path) -> Iterator[Path]:
    """The path itself, or, when DuckDB would read it as a pattern, a link to it with a plain
    name in a scratch folder (the file is neither copied nor touched)."""
    if not reads_as_pattern(path):
        yield path
        return
    with folder("cw-link-") as tmp:
        link = tmp / ("landing" + "".join(c for c in path.suffix if c.isalnum() or c == "."))
        link.symlink_to(Path(path).resolve())
        yield link
