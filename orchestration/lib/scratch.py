"""Scratch files the loader writes for DuckDB to read: beside the warehouse, removed always.

A zip member, a workbook sheet or a transcoded copy is written out before DuckDB reads it. The
folder is `settings.scratch_dir()` (`<warehouse folder>/tmp`), not the system /tmp, so nothing is
written outside the warehouse's folders. Each load gets its own folder under it, removed when the
load ends, failed or not.

A process killed with SIGKILL (or by the kernel's out-of-memory killer) runs no cleanup, so its
folder would stay: a national month's extraction is hundreds of MB (ECDS, 390 MB) to a few GB
(EPD). Each folder is therefore named after its process and host (`cw-unzip-<pid>@<host>-<random>`),
and opening one first removes the folders of this host whose process is gone. A folder of another
host (a warehouse folder shared between containers) or of a live process is never touched.

DuckDB's `read_csv` reads its path as a glob pattern: a landing file named
`gp-reg-pat-prac-quin-age[1].csv` would read `gp-reg-pat-prac-quin-age1.csv` instead, and a `*`
or `?` in a name can read several files. Such a file is read through a link with a plain name.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from orchestration.lib import settings

GLOB_CHARACTERS = frozenset("*?[")


def _host() -> str:
    return socket.gethostname().replace("-", "_").replace("/", "_") or "localhost"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def _kind(name: str) -> str:
    """`unzip` from `unzip`, `cw-unzip-` or `cw-unzip`."""
    return name.removeprefix("cw-").strip("-")


def _owner(folder: Path, kind: str) -> tuple[int, str] | None:
    """(pid, host) from `cw-<kind>-<pid>@<host>-<random>`, or None for any other name."""
    pid, at, rest = folder.name.removeprefix(f"cw-{kind}-").partition("@")
    host = rest.rpartition("-")[0]
    return (int(pid), host) if at and pid.isdigit() and host else None


def remove_orphans(kind: str) -> list[Path]:
    """Remove this host's `cw-<kind>-` folders whose process has ended; return them."""
    kind = _kind(kind)
    base = settings.scratch_dir()
    removed = []
    for folder in base.glob(f"cw-{kind}-*@*"):
        owner = _owner(folder, kind)
        if owner and owner[1] == _host() and owner[0] != os.getpid() and not _alive(owner[0]):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


@contextmanager
def folder(kind: str) -> Iterator[Path]:
    """A new empty folder under the scratch folder, removed (with what is in it) on exit, and by
    a later load of this host if this process is killed."""
    kind = _kind(kind)
    remove_orphans(kind)
    base = settings.scratch_dir()
    base.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"cw-{kind}-{os.getpid()}@{_host()}-", dir=base) as tmp:
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
    with folder("link") as tmp:
        link = tmp / ("landing" + "".join(c for c in path.suffix if c.isalnum() or c == "."))
        link.symlink_to(Path(path).resolve())
        yield link
