"""`make ui`: the Dagster UI (`dg dev`) on the warehouse's Dagster home, stopped cleanly by Ctrl-C
or SIGTERM.

`dg dev` runs a webserver and a daemon as child processes. Started from a script in the
background (no job control), a process inherits SIGINT as ignored, and a SIGTERM sent to `make`
never reaches its children: both left the UI running. So the UI runs in its own session, this
process forwards SIGINT and SIGTERM to that whole session, asks the kernel to send it SIGTERM
when its parent (`make`) dies, and kills what is left after a grace period.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

GRACE_SECONDS = 20
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Linux: deliver SIGTERM to this process when its parent exits (a no-op elsewhere)."""
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _stop(child: subprocess.Popen, signum: int) -> int:
    """Forward `signum` to the child's session, wait, then kill whatever is left."""
    try:
        os.killpg(child.pid, signum)
    except ProcessLookupError:
        return child.wait()
    try:
        return child.wait(timeout=GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        return child.wait()
    finally:
        with contextlib.suppress(ProcessLookupError):  # its webserver and daemon may outlive it
            os.killpg(child.pid, signal.SIGKILL)


def run(command: list[str]) -> int:
    """Run `command` in its own session until it exits or this process is told to stop."""
    received: list[int] = []

    def _handler(signum, _frame):
        received.append(signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _handler)  # replaces an inherited SIG_IGN too
    _die_with_parent()
    child = subprocess.Popen(command, start_new_session=True)
    while child.poll() is None and not received:
        time.sleep(0.2)
    if received:
        print(f"\nStopping the Dagster UI ({signal.Signals(received[0]).name}) …", flush=True)
        _stop(child, signal.SIGINT if received[0] == signal.SIGINT else signal.SIGTERM)
        return 0
    return child.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="3000")
    args = parser.parse_args(argv)
    dg = Path(sys.executable).parent / "dg"
    print(f"Dagster UI on http://{args.host}:{args.port} (Ctrl-C stops it) …", flush=True)
    return run([str(dg), "dev", "--host", args.host, "--port", str(args.port)])


if __name__ == "__main__":
    sys.exit(main())
