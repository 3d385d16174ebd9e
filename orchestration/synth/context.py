"""What a writer is given (`WriteContext`) and the one shape every writer has (`Writer`).

generate.py makes the shared plan, then calls each writer of the registry (registry.py) in turn
with the same context; a writer writes its feed's files into `ctx.out`, logs each file's arrival
with `ctx.receive` and returns the gaps it planted. generate.py then writes `_manifest.json` and
`_receipts.csv` from what the writers returned and logged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Protocol

import numpy as np

from orchestration.synth.geography import Geography, SubIcb
from orchestration.synth.manifest import PlantedGap, ReceiptLog
from orchestration.synth.plan import SharedPlan

RECORD_WEIGHT = 5  # progress steps per month of a record-level writer (most of a national run)


def _no_progress(steps: int) -> None:
    del steps


@dataclass
class WriteContext:
    out: Path  # the landing folder
    shared: SharedPlan  # decided before writing; no writer changes it
    rng: np.random.Generator  # the run's shared stream, after the plan's draws (plan.py)
    receipts: ReceiptLog = field(default_factory=ReceiptLog)
    # Progress within a writer's work (steps of its `steps(ctx)`); generate.py counts whatever a
    # writer does not report when it returns.
    advance: Callable[[int], None] = _no_progress

    @property
    def months(self) -> list[date]:
        return self.shared.months

    @property
    def geo(self) -> Geography:
        return self.shared.geo

    @property
    def by_code(self) -> dict[str, SubIcb]:
        return self.shared.by_code

    @property
    def seed(self) -> int:
        return self.shared.plan.seed

    @property
    def scale(self) -> str:
        return self.shared.plan.scale

    def receive(
        self, feed: str, period: date, path: Path, day: int, late_days: int = 0, months_after: int = 0
    ) -> None:
        """Log a file's arrival (manifest.Receive)."""
        self.receipts.receive(feed, period, path, day, late_days, months_after)


class Writer(Protocol):
    """One feed family's files. `label` names it on the progress bar; `steps` is its share of the
    bar (about its share of the run's time, 0 when it writes nothing for these months)."""

    label: str

    def steps(self, ctx: WriteContext) -> int: ...

    def write(self, ctx: WriteContext) -> list[PlantedGap]: ...
