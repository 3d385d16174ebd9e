"""The landing folder: `<LANDING_DIR>/<feed>/<YYYY-MM>/<file exactly as published>`.

Publishers reuse one file name every month (`gp-reg-pat-prac-quin-age.csv`, `epraccur.csv`), so
the period a file belongs to is the folder it is dropped in; the file's own period column is
checked against it by validation. Files are never moved, renamed or edited.

When a month is re-delivered, the newest file wins: newest by the receipt log
(`<landing>/_receipts.csv`, receipts.py) where it lists the file, else by modification time (a
file copied with its original timestamp keeps it, so the log is the better witness).
`PeriodFiles.rule` says which decided, and the load asset logs it beside the superseded files.

Symbolic links are followed only while they stay inside the landing folder (its resolved
path): a month filed under two folders, or a `current` alias, is fine. A link to anywhere else (a
feed folder, a month folder or a file) is refused with `UnsafeLandingPath`, naming the link and
its target: the landing folder is the boundary of what the warehouse reads, and a link out of it
would load a file nobody delivered. Links whose names match nothing the feed reads are ignored,
never followed.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from orchestration.lib import receipts, settings
from orchestration.lib.feed_spec import FeedSpec
from orchestration.lib.load_errors import MissingSubmission, UnsafeLandingPath

PERIOD_FOLDER = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class PeriodFiles:
    period: date
    files: tuple[Path, ...]
    superseded: tuple[Path, ...] = ()
    rule: str = "the only matching file"  # why these files, when there was a choice

    @property
    def choice(self) -> str:
        """What a re-delivery replaced and why, for the run's log."""
        return f"superseded {[p.name for p in self.superseded]} ({self.rule})" if self.superseded else ""


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


def refuse_links_out(path: Path, root: Path | None = None) -> Path:
    """The path, unless it is a symbolic link that leads out of the landing folder (or cannot be
    followed): then `UnsafeLandingPath`, naming the link and its target."""
    if not path.is_symlink():
        return path
    boundary = (root or settings.landing_dir()).resolve()
    try:
        target = path.resolve()
    except (OSError, RuntimeError) as exc:  # a loop of links
        raise UnsafeLandingPath(f"{path}: a symbolic link that cannot be followed ({exc}); refused") from exc
    if not target.is_relative_to(boundary):
        raise UnsafeLandingPath(
            f"{path}: a symbolic link to {target}, outside the landing folder {boundary}; refused. "
            "Links may only point inside the landing folder: put the file itself there."
        )
    return path


def _feed_base(spec: FeedSpec, root: Path | None) -> Path:
    return refuse_links_out(feed_dir(spec, root), root)


def _month_folders(spec: FeedSpec, root: Path | None) -> list[tuple[date, Path]]:
    """Every `YYYY-MM` folder of a feed, links out of the landing folder refused."""
    base = _feed_base(spec, root)
    if not base.is_dir():
        return []
    folders = []
    for folder in sorted(base.iterdir()):
        period = period_of_folder(folder.name)
        if period and refuse_links_out(folder, root).is_dir():
            folders.append((period, folder))
    return folders


def _matching_files(spec: FeedSpec, folder: Path, root: Path | None) -> list[Path]:
    return [p for p in sorted(folder.iterdir()) if _matches(spec, p) and refuse_links_out(p, root).is_file()]


def _arrival_ns(path: Path) -> tuple[int, bool]:
    """When a file arrived, in ns since the epoch, and whether the receipt log said so."""
    logged = receipts.logged_at(path)
    if logged is None:
        return path.stat().st_mtime_ns, False
    return (logged - datetime(1970, 1, 1)) // timedelta(microseconds=1) * 1000, True


def _newest_first(matching: list[Path]) -> tuple[list[Path], str]:
    """The files newest first, and the rule that decided which is newest."""
    arrivals = {p: _arrival_ns(p) for p in matching}
    ordered = sorted(matching, key=lambda p: (arrivals[p][0], p.name), reverse=True)
    unlisted = [p.name for p in ordered if not arrivals[p][1]]
    if not unlisted:
        rule = f"newest by the receipt log ({receipts.LOG_NAME})"
    elif len(unlisted) == len(ordered):
        rule = "newest by modification time (not in the receipt log)"
    else:
        rule = (
            f"newest by the receipt log ({receipts.LOG_NAME}) where it lists the file, else by "
            f"modification time (not in the log: {', '.join(sorted(unlisted))})"
        )
    if arrivals[ordered[0]][0] == arrivals[ordered[1]][0]:
        rule = f"same time: later name ({rule})"
    return ordered, rule


def files_for_period(spec: FeedSpec, period: date, root: Path | None = None) -> PeriodFiles:
    """The file to load for one period; the newest wins when a month was re-delivered (see the
    module's docstring for what "newest" means, and `PeriodFiles.rule` for what decided)."""
    folder = refuse_links_out(_feed_base(spec, root) / f"{period:%Y-%m}", root)
    entries = sorted(folder.iterdir()) if folder.is_dir() else []
    candidates = [p for p in entries if _matches(spec, p) and refuse_links_out(p, root).is_file()]
    matching = []
    for pattern in spec.file_patterns:  # earlier patterns are preferred
        matching = [p for p in candidates if fnmatch.fnmatch(p.name.lower(), pattern.lower())]
        if matching:
            break
    if not matching:
        found = ", ".join(p.name for p in entries if p.is_file()) or "nothing"
        raise MissingSubmission(
            f"{spec.title}: no file for {period:%Y-%m} in {folder} (found {found}; expected a name "
            f"like {' or '.join(spec.file_patterns)})"
        )
    if spec.files_per_period == "all":
        return PeriodFiles(period, tuple(sorted(matching)), rule="every matching file (the feed loads all)")
    if len(matching) == 1:
        return PeriodFiles(period, tuple(matching))
    newest_first, rule = _newest_first(matching)
    return PeriodFiles(period, (newest_first[0],), tuple(newest_first[1:]), rule)


def available_periods(spec: FeedSpec, root: Path | None = None) -> list[date]:
    """Every period folder of a feed that holds at least one matching file."""
    return [period for period, folder in _month_folders(spec, root) if _matching_files(spec, folder, root)]


def misfiled_folders(spec: FeedSpec, root: Path | None = None) -> list[Path]:
    """Folders of a feed that hold one of its files but are not named `YYYY-MM` (`2022-5`,
    `202205`, `2022-13`, `May 2022`): their files would otherwise never be loaded, silently."""
    base = _feed_base(spec, root)
    if not base.is_dir():
        return []
    return [
        folder
        for folder in sorted(base.iterdir())
        if folder.is_dir()
        and not folder.name.startswith((".", "_"))
        and period_of_folder(folder.name) is None
        and any(_matches(spec, p) for p in folder.iterdir())
    ]


def misfiled_message(spec: FeedSpec, folders: list[Path]) -> str:
    listed = "; ".join(
        f"{f} ({', '.join(p.name for p in sorted(f.iterdir()) if _matches(spec, p))})" for f in folders
    )
    return (
        f"{spec.title}: {len(folders)} folder(s) hold the feed's files but are not named as a month "
        f"(YYYY-MM, e.g. 2022-05), so their files were not loaded: {listed}. Rename each folder to "
        "the month its file covers."
    )


def landing_state(spec: FeedSpec, root: Path | None = None) -> dict[str, str]:
    """path → 'mtime:size' for every matching file: what the sensor compares between ticks."""
    base = feed_dir(spec, root)
    state: dict[str, str] = {}
    for _, folder in _month_folders(spec, root):
        for path in _matching_files(spec, folder, root):
            stat = path.stat()
            state[str(path.relative_to(base))] = f"{stat.st_mtime_ns}:{stat.st_size}"
    return state
