"""Temporary folders for the copies a load reads (a zip archive's CSV, a workbook's sheet as CSV),
which a killed load cannot remove.

A process killed with SIGKILL (or by the kernel's out-of-memory killer) runs no cleanup, so its
`tempfile.TemporaryDirectory` stays: a national month's extraction is hundreds of MB (ECDS,
390 MB) to a few GB (EPD), left in the system temp folder by every killed load. Each folder is
named after its process and host (`cw-unzip-<pid>@<host>-<random>`), and opening one first removes
the folders of this host whose process is gone. A folder of another host (a temp folder shared
between containers) or of a live process is never touched.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


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


def _owner(folder: Path, kind: str) -> tuple[int, str] | None:
    """(pid, host) from `cw-<kind>-<pid>@<host>-<random>`, or None for any other name."""
    pid, at, rest = folder.name.removeprefix(f"cw-{kind}-").partition("@")
    host = rest.rpartition("-")[0]
    return (int(pid), host) if at and pid.isdigit() and host else None


def remove_orphans(kind: str) -> list[Path]:
    """Remove this host's `cw-<kind>-` folders whose process has ended; return them."""
    removed = []
    for folder in Path(tempfile.gettempdir()).glob(f"cw-{kind}-*@*"):
        owner = _owner(folder, kind)
        if owner and owner[1] == _host() and owner[0] != os.getpid() and not _alive(owner[0]):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


@contextmanager
def folder(kind: str) -> Iterator[Path]:
    """A temporary folder, removed on exit (and by a later load if this process is killed)."""
    remove_orphans(kind)
    with tempfile.TemporaryDirectory(prefix=f"cw-{kind}-{os.getpid()}@{_host()}-") as tmp:
        yield Path(tmp)
