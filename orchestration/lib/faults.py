"""Named points in a load where a fault test can stop the process.

`checkpoint(name)` does nothing unless `CW_FAULT_CHECKPOINTS` names a folder: then it writes
`<folder>/<name>` (so a test knows the load has reached that point) and, while
`<folder>/<name>.hold` exists, waits (so a test can kill the process exactly there). Production
runs never set the variable.

The marker holds the process id and appears whole (written aside, then renamed), so a test that
sees it can read it; its modification time is when the point was reached, which is how the kill
tests time the phase that follows it (tests/fault_helpers.py).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

ENV = "CW_FAULT_CHECKPOINTS"
HOLD_SUFFIX = ".hold"


def checkpoint(name: str) -> None:
    folder = os.environ.get(ENV)
    if not folder:
        return
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    partial = root / f".{name}.{os.getpid()}.partial"
    partial.write_text(str(os.getpid()))
    os.replace(partial, root / name)
    hold = root / f"{name}{HOLD_SUFFIX}"
    while hold.exists():
        time.sleep(0.05)
