"""The landing folder: `<LANDING_DIR>/<feed>/<YYYY-MM>/<file exactly as published>`.

Publishers reuse one file name every month (`gp-reg-pat-prac-quin-age.csv`, `epraccur.csv`), so
the period a file belongs to is the folder it is dropped in; the file's own period column is
checked against it by validation. Files are never moved, renamed or edited.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from orchestration.lib import settings
from orchestration.lib.feed_spec import FeedSpec
from orchestration.lib.load_errors import MissingSubmission

PERIOD_FOLDER = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class PeriodFiles:
    period: date
    files: tuple[Path, ...]
    superseded: tuple[Path, ...] = ()


def period_of_folder(name: str) -> date | None:
    match = PERIOD_FOLDER.match(name)
    if not match:
        return None
    year, month = int(match[1]), int(match[2])
    return date(year, month, 1) if 1 <= month <= 12 else None


def _matches(spec: FeedSpec, path: Path) -> bool:
    return any(fnmatch.fnmatch(path.name.lower(), p.lower()) for p in spec.file_patterns)


def feed_dir(spec: FeedSpec, root: Path | None = None) -> Path:
    return (root or settings.landing_dir()) / spec.name


def files_for_period(spec: FeedSpec, period: date, root: Path | None = None) -> PeriodFiles:
    """The file to load for one period; the newest wins when a month was re-delivered."""
    folder = feed_dir(spec, root) / f"{period:%Y-%m}"
    candidates = sorted(p for p in folder.glob("*") if p.is_file()) if folder.is_dir() else []
    matching = []
    for pattern in spec.file_patterns:  # earlier patterns are preferred
        matching = [p for p in candidates if fnmatch.fnmatch(p.name.lower(), pattern.lower())]
        if matching:
            break
    if not matching:
        found = ", ".join(p.name for p in candidates) or "nothing"
        raise MissingSubmission(
            f"{spec.title}: no file for {period:%Y-%m} in {folder} (found {found}; expected a name "
            f"like {' or '.join(spec.file_patterns)})"
        )
    if spec.files_per_period == "all":
        return PeriodFiles(period, tuple(sorted(matching)))
    newest_first = sorted(matching, key=lambda p: (p.stat().st_mtime_ns, p.name), reverse=True)
    return PeriodFiles(period, (newest_first[0],), tuple(newest_first[1:]))


def available_periods(spec: FeedSpec, root: Path | None = None) -> list[date]:
    """Every period folder of a feed that holds at least one matching file."""
    base = feed_dir(spec, root)
    if not base.is_dir():
        return []
    periods = []
    for folder in sorted(base.iterdir()):
        period = period_of_folder(folder.name)
        if period and folder.is_dir() and any(_matches(spec, p) for p in folder.iterdir()):
            periods.append(period)
    return periods


def landing_state(spec: FeedSpec, root: Path | None = None) -> dict[str, str]:
    """path → 'mtime:size' for every matching file: what the sensor compares between ticks."""
    base = feed_dir(spec, root)
    state: dict[str, str] = {}
    if not base.is_dir():
        return state
    for path in sorted(base.glob("*/*")):
        if path.is_file() and period_of_folder(path.parent.name) and _matches(spec, path):
            stat = path.stat()
            state[str(path.relative_to(base))] = f"{stat.st_mtime_ns}:{stat.st_size}"
    return state
