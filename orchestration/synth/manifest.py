"""The generator's two records of what it wrote, each kept in one place:

- `_manifest.json`: what was generated and every data gap planted (`PlantedGap`), the ground truth
  validation tests measure recall and precision against;
- `_receipts.csv`: when each file "arrived" (`ReceiptLog`), as an SFTP drop or download log would
  record it, so timeliness can be judged (orchestration/lib/receipts.py reads it).

Every writer returns its planted gaps and logs its files' arrivals through the one `Receive`
signature; generate.py writes both records once, after the last writer.
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, astuple, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from orchestration.lib.receipts import LOG_NAME as RECEIPTS_NAME

GENERATOR_VERSION = "1"
MANIFEST_NAME = "_manifest.json"
RECEIVED_TIME = (9, 30)  # every generated file arrives at 09:30 on its day


@dataclass(frozen=True)
class PlantedGap:
    """One planted data gap, as `_manifest.json` lists it (fields in the manifest's order)."""

    kind: str
    feed: str
    period: str  # the landing folder's YYYY-MM (a year for a Fingertips period), or "all"
    org_code: str  # "" when the gap is a whole file or extract
    detail: str
    severity: str = "warn"


@dataclass(frozen=True, order=True)
class Receipt:
    """One row of `_receipts.csv` (sorted by these fields, in this order)."""

    feed: str
    period: str
    file: str
    received_at: str  # ISO 8601, naive UTC


class Receive(Protocol):
    """Log that the file `path` for the landing folder `period` of `feed` arrived at 09:30 on `day`
    of the month `months_after` months after the period's month, `late_days` days late."""

    def __call__(
        self, feed: str, period: date, path: Path, day: int, late_days: int = 0, months_after: int = 0
    ) -> None: ...


@dataclass
class ReceiptLog:
    rows: list[Receipt] = field(default_factory=list)

    def receive(
        self, feed: str, period: date, path: Path, day: int, late_days: int = 0, months_after: int = 0
    ) -> None:
        years, month0 = divmod(period.month - 1 + months_after, 12)
        arrived = datetime(period.year + years, month0 + 1, day, *RECEIVED_TIME) + timedelta(days=late_days)
        self.rows.append(Receipt(feed, f"{period:%Y-%m}", path.name, arrived.isoformat()))

    def write(self, out: Path) -> None:
        with (out / RECEIPTS_NAME).open("w", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(["feed", "period", "file", "received_at"])
            writer.writerows(astuple(r) for r in sorted(self.rows))


def write_manifest(out: Path, facts: dict[str, Any], gaps: list[PlantedGap]) -> dict:
    """`_manifest.json`: the facts of the run, then every planted gap; return it as written."""
    manifest = {"generator_version": GENERATOR_VERSION, **facts, "gaps": [asdict(g) for g in gaps]}
    (out / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest
