"""`make run`'s console: one line per finished step, the full Dagster and dbt log in a file.

Dagster's console logger prints every event at DEBUG (about 3,000 lines for the sample, most of
them step events), and dagster-dbt re-prints every dbt log line. `make run` sends all of that to
a log file (`capture_output`) and shows the user only what a step ended with: what it built,
how long it took, whether its checks passed, and why it failed or was skipped.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import dagster as dg
from dagster._core.log_manager import get_log_record_metadata, has_log_record_metadata


def step_label(step_key: str) -> str:
    """`raw__hes_apc` → `raw/hes_apc`; `raw__hes_apc_freshness` → `raw/hes_apc freshness`."""
    return step_key.replace("__", "/", 1)


class ProgressHandler(logging.Handler):
    """Turns Dagster's step events into one line each on `stream`; a check-only step that
    passed (the freshness checks) prints nothing."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(level=logging.DEBUG)
        self.stream = stream
        self.started: dict[str, float] = {}
        self.materialised: dict[str, int] = defaultdict(int)
        self.checks: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # passed, failed
        self.finished = 0

    def emit(self, record: logging.LogRecord) -> None:
        if not has_log_record_metadata(record):
            return
        meta = get_log_record_metadata(record)
        event = meta.get("dagster_event")
        step = meta.get("step_key")
        if event is None or step is None:
            return
        kind = event.event_type_value
        if kind == "STEP_START":
            self.started[step] = time.perf_counter()
        elif kind == "ASSET_MATERIALIZATION":
            self.materialised[step] += 1
        elif kind == "ASSET_CHECK_EVALUATION":
            self.checks[step][0 if event.event_specific_data.passed else 1] += 1
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED", "STEP_UPSTREAM_SKIPPED"):
            self._line(step, kind, event)

    def _line(self, step: str, kind: str, event) -> None:
        passed, failed = self.checks.get(step, (0, 0))
        if kind == "STEP_SUCCESS" and not self.materialised.get(step) and passed and not failed:
            return  # a check step that passed (the freshness checks): the summary counts it
        self.finished += 1
        took = time.perf_counter() - self.started.get(step, time.perf_counter())
        mark = {"STEP_SUCCESS": "ok", "STEP_FAILURE": "FAILED"}.get(kind, "skipped")
        parts = [f"[{self.finished:>3}] {mark:<7} {step_label(step):<40}"]
        if kind in ("STEP_SUCCESS", "STEP_FAILURE"):
            parts.append(f"{took:5.1f} s")
        built = self.materialised.get(step, 0)
        if built > 1:
            parts.append(f"{built} assets")
        if passed or failed:
            parts.append(f"checks {passed} passed" + (f", {failed} failed" if failed else ""))
        line = "  ".join(parts)
        if kind == "STEP_FAILURE":
            error = getattr(event.event_specific_data, "error", None)
            message = (error.message if error else "").strip().splitlines()
            if message:
                line += f"\n        {message[0][:300]}"
        elif kind != "STEP_SUCCESS":
            line += "  (an upstream step failed or was skipped)"
        self.stream.write(line + "\n")
        self.stream.flush()


def progress_logger(stream: TextIO) -> dg.LoggerDefinition:
    """A Dagster logger writing one line per finished step to `stream`."""

    def _create(_init_context) -> logging.Logger:
        logger = logging.getLogger("commissioning_warehouse.progress")
        logger.handlers = [ProgressHandler(stream)]
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        return logger

    return dg.LoggerDefinition(_create, description="One line per finished step.")


@contextlib.contextmanager
def capture_output(log_path: Path) -> Iterator[TextIO]:
    """Send this process's stdout and stderr (Dagster's console log, dbt's re-printed lines,
    warnings) to `log_path`; yields the terminal's stdout for the progress lines."""
    terminal = sys.stdout
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with (
        open(log_path, "w", encoding="utf-8") as log,
        contextlib.redirect_stdout(log),
        contextlib.redirect_stderr(log),
    ):
        yield terminal
