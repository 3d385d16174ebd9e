"""Zip archives as NHS England ships several feeds: the one CSV inside, extracted safely.

An archive is refused, with its name and the member's, when it:

* holds a member whose name climbs out of its folder (`../../x.csv`), is absolute (`/tmp/x.csv`,
  `C:\\x.csv`) or is a symbolic link: only the base name would ever be written, but such an
  archive was not made by a publisher's export and is not trusted for its other members either;
* is corrupt (not a zip, truncated, a bad CRC, damaged compressed data), encrypted, or in a
  compression method Python cannot read (Deflate64, which Windows writes for large files);
* declares a member larger than `ARCHIVE_MAX_INFLATED_BYTES` or compressed more than
  `ARCHIVE_MAX_RATIO` to 1 (checked before anything is extracted), or turns out to while it is
  inflated: headers can lie, so the bytes actually inflated are counted against both limits
  (the ratio against the archive's size on disk, which cannot lie), and extraction stops before
  the chunk that would cross one is written. Defaults and reasons: `settings.py`.

The member is extracted into a scratch folder beside the warehouse (`scratch.py`), removed when
the load ends, failed or not. The archive itself is only read.
"""

from __future__ import annotations

import lzma
import re
import stat
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from orchestration.lib import scratch, settings
from orchestration.lib.load_errors import ArchiveTooLarge, BadArchive, UnsafeArchiveMember

CHUNK = 1 << 20
DATA_SUFFIXES = (".csv", ".txt")
# What the zip library raises for damaged archives and member data (OSError: bz2's "Invalid data
# stream"; reading only, a failed write is not the archive's fault).
_DAMAGED = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError, ValueError)
_READABLE_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
_METHOD_NAMES = {6: "Implode", 9: "Deflate64", 93: "Zstandard", 95: "XZ", 98: "PPMd", 99: "AES encryption"}


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_ratio: float
    grace_bytes: int = settings.ARCHIVE_RATIO_GRACE_BYTES

    @classmethod
    def from_settings(cls) -> Limits:
        return cls(settings.archive_max_inflated_bytes(), settings.archive_max_ratio())


def unsafe_name(info: zipfile.ZipInfo) -> str | None:
    """Why a member's name (or kind) is not one a publisher's export writes, or None."""
    name = info.filename
    if name.startswith(("/", "\\")):
        return "is an absolute path"
    if re.match(r"[A-Za-z]:", name):
        return "names a drive (an absolute Windows path)"
    if ".." in re.split(r"[/\\]", name):
        return "climbs out of the folder it would be extracted to ('..')"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "is a symbolic link"
    return None


def data_member(path: Path, archive: zipfile.ZipFile) -> zipfile.ZipInfo:
    """The one .csv/.txt member, after refusing any member with an unsafe name."""
    infos = archive.infolist()
    for info in infos:
        reason = unsafe_name(info)
        if reason:
            raise UnsafeArchiveMember(
                f"{path}: refused: the zip archive holds a member named {info.filename!r}, which "
                f"{reason}. Nothing was extracted; a publisher's archive holds plain relative names."
            )
    members = [i.filename for i in infos if not i.is_dir() and i.filename.lower().endswith(DATA_SUFFIXES)]
    if len(members) != 1:
        shown = members[:10] + ([f"… {len(members) - 10} more"] if len(members) > 10 else [])
        raise BadArchive(
            f"{path}: expected exactly one .csv or .txt file inside the zip archive, found {shown or 'none'}"
        )
    return archive.getinfo(members[0])


def check_declared(path: Path, info: zipfile.ZipInfo, limits: Limits) -> None:
    """Refuse, before extracting, a member that is encrypted, in a method Python cannot read, or
    declared larger or more compressed than the limits."""
    name = info.filename
    if info.flag_bits & 0x1:
        raise BadArchive(
            f"{path}: the zip member {name!r} is encrypted (password-protected); the loader takes no "
            "passwords: unzip it with the password and land the .csv itself"
        )
    if info.compress_type not in _READABLE_METHODS:
        method = _METHOD_NAMES.get(info.compress_type, "unknown")
        raise BadArchive(
            f"{path}: the zip member {name!r} is compressed with method {info.compress_type} ({method}), "
            "which Python's zipfile cannot read: re-zip it with Deflate, or land the .csv itself"
        )
    if info.file_size > limits.max_bytes:
        raise ArchiveTooLarge(
            f"{path}: refused before extracting {name!r}: it declares {info.file_size:,} bytes "
            f"inflated, over the limit of {limits.max_bytes:,} bytes ({settings.ARCHIVE_MAX_BYTES_ENV}). "
            f"Nothing was extracted; if a real file is this large, raise {settings.ARCHIVE_MAX_BYTES_ENV}."
        )
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > limits.grace_bytes and ratio > limits.max_ratio:
        raise ArchiveTooLarge(
            f"{path}: refused before extracting {name!r}: it declares {info.file_size:,} bytes "
            f"inflated from {info.compress_size:,} compressed, {ratio:,.0f} to 1, over the limit of "
            f"{limits.max_ratio:g} to 1 ({settings.ARCHIVE_MAX_RATIO_ENV}); publishers' CSVs compress "
            "3 to 15 to 1, a zip bomb about 1,000 to 1. Nothing was extracted."
        )


def _damaged(path: Path, name: str, exc: BaseException) -> BadArchive:
    detail = str(exc) or "its data ends before the member does"  # EOFError says nothing
    return BadArchive(
        f"{path}: the zip member {name!r} is damaged ({type(exc).__name__}: {detail}); the archive "
        "is truncated or corrupt: download it again"
    )


def inflate(
    path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, limits: Limits
) -> None:
    """Write the member to `target`, counting what is inflated; stop before a limit is crossed."""
    archive_bytes = path.stat().st_size
    inflated = 0
    try:
        source = archive.open(info)
    except _DAMAGED as exc:
        raise _damaged(path, info.filename, exc) from exc
    with source, target.open("wb") as out:
        while True:
            try:
                chunk = source.read(CHUNK)
            except _DAMAGED as exc:
                raise _damaged(path, info.filename, exc) from exc
            if not chunk:
                return
            inflated += len(chunk)
            lied = (
                f"its headers declared {info.file_size:,} bytes from {info.compress_size:,} compressed: "
                "they do not match its data. Nothing extracted was kept."
            )
            if inflated > limits.max_bytes:
                raise ArchiveTooLarge(
                    f"{path}: extracting {info.filename!r} stopped after {inflated:,} bytes inflated, over "
                    f"the limit of {limits.max_bytes:,} bytes ({settings.ARCHIVE_MAX_BYTES_ENV}); {lied}"
                )
            if inflated > limits.grace_bytes and inflated > limits.max_ratio * archive_bytes:
                raise ArchiveTooLarge(
                    f"{path}: extracting {info.filename!r} stopped after {inflated:,} bytes inflated from "
                    f"a {archive_bytes:,}-byte archive, over the limit of {limits.max_ratio:g} to 1 "
                    f"({settings.ARCHIVE_MAX_RATIO_ENV}); {lied}"
                )
            out.write(chunk)


def open_archive(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except _DAMAGED as exc:
        raise BadArchive(
            f"{path}: not a readable zip archive ({type(exc).__name__}: {exc}); it is truncated, "
            "corrupt or not a zip file at all: download it again"
        ) from exc


@contextmanager
def extracted_member(path: Path) -> Iterator[Path]:
    """The archive's one .csv/.txt member as a file in a scratch folder (removed on exit)."""
    limits = Limits.from_settings()
    with open_archive(path) as archive:
        info = data_member(path, archive)
        check_declared(path, info, limits)
        with scratch.folder("unzip") as folder:
            # A plain name: the member's own could read as a glob pattern to DuckDB (scratch.py).
            target = folder / ("member" + Path(info.filename).suffix.lower())
            inflate(path, archive, info, target, limits)
            yield target
