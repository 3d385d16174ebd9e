"""When each landing file arrived: the receipt log, else the file's modification time.

A data team's landing area usually keeps an arrival log (an SFTP transfer log, a download
script's record). When `<landing>/_receipts.csv` exists, its rows say when each file arrived:

    feed,period,file,received_at
    gp_practice_map,2022-05,gp-reg-pat-prac-map.csv,2022-07-03T09:30:00

A file no log lists arrived when it was last modified. A fresh git clone sets every
modification time to the checkout, so the shipped sample carries a log (written by the
generator). Lateness is judged from these times (`dq_submission_coverage`).
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

LOG_NAME = "_receipts.csv"


@cache
def _log(path: Path, mtime_ns: int) -> dict[tuple[str, str, str], datetime]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    missing = {"feed", "period", "file", "received_at"} - set(rows[0] if rows else {})
    if rows and missing:
        raise ValueError(f"{path}: the receipt log lacks column(s) {sorted(missing)}")
    return {(r["feed"], r["period"], r["file"]): datetime.fromisoformat(r["received_at"]) for r in rows}


def logged_at(path: Path) -> datetime | None:
    """When the landing folder's receipt log says a file at `<landing>/<feed>/<YYYY-MM>/<file>`
    arrived (naive UTC); None when there is no log or it does not list the file."""
    path = Path(path)
    if len(path.parents) <= 2:
        return None
    log = path.parents[2] / LOG_NAME
    if not log.is_file():
        return None
    return _log(log, log.stat().st_mtime_ns).get((path.parents[1].name, path.parent.name, path.name))


def received_at(path: Path) -> datetime:
    """Arrival time of a file at `<landing>/<feed>/<YYYY-MM>/<file>` (naive UTC)."""
    entry = logged_at(path)
    if entry is not None:
        return entry
    return datetime.fromtimestamp(Path(path).stat().st_mtime, UTC).replace(tzinfo=None)
