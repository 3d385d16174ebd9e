"""Test helpers: sample landing files (the project's own generated sample) as text."""

from __future__ import annotations

import zipfile
from pathlib import Path

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
