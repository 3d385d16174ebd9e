"""Named points in a load where a fault test can stop the process.

`checkpoint(name)` does nothing unless `CW_FAULT_CHECKPOINTS` names a folder: then it writes
`<folder>/<name>` (so a test knows the load has reached that point) and, while
`<folder>/<name>.hold` exists, waits (so a test can kill the process exactly there). Production
runs never set the variable.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

ENV = "CW_FAULT_CHECKPOINTS"


def checkpoint(name: str) -> None:
    folder = os.environ.get(ENV)
    if not folder:
        return
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    (root / name).write_text(str(os.getpid()))
    hold = root / f"{name}.hold"
    while hold.exists():
        time.sleep(0.05)
