"""`make ui` on the Dagster home `make run` recorded in: it shows that run's materialisations and
check results, the sample's 24 months, never rewrites dbt's target folder, and stops on SIGTERM
sent to `make` even when started in the background of a script (SIGINT ignored, no job control).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

from tests.helpers import REPO_ROOT, SAMPLE, run_all_env

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("sample")]  # one worker: conftest.py

QUERY = """
query {
  assetNodes(assetKeys: [{path: ["raw", "hes_apc"]}, {path: ["marts", "dim_icb"]}]) {
    assetKey { path }
    partitionKeys
    assetMaterializations(limit: 100) { runId partition }
    assetChecksOrError { ... on AssetChecks { checks { name executionForLatestMaterialization { status } } } }
  }
}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _graphql(port: int) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": QUERY}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["data"]


def _descendants(root: int) -> set[int]:
    """Every process below `root` (the UI runs its webserver and daemon in a session of its own)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parents[int(entry)] = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
    found, frontier = set(), {root}
    while frontier:
        children = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= children
        frontier = children
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] != "Z":
                    alive.add(pid)
        except FileNotFoundError:
            continue
    return alive


def _target_state() -> dict[str, float]:
    target = REPO_ROOT / "dbt_project" / "target"
    return {str(p): p.stat().st_mtime for p in target.glob("*") if p.is_file()}


def test_make_ui_shows_the_run_and_stops_on_sigterm(sample_warehouse):
    env = run_all_env(sample_warehouse.parent, SAMPLE)
    env.pop("PARTITIONS_START", None)  # the sample's own calendar
    port = _free_port()
    # make's own rule re-parses a stale manifest (as `make test` did before pytest); after it, the
    # UI must leave dbt's target folder as it is.
    manifest_rule = ["make", "--no-print-directory", "dbt_project/target/manifest.json"]
    subprocess.run(manifest_rule, cwd=REPO_ROOT, env=env, check=True)
    before = _target_state()
    make = subprocess.Popen(
        ["make", "--no-print-directory", "ui", f"UI_PORT={port}", f"DAGSTER_HOME={env['DAGSTER_HOME']}"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # as `make ui &` in a script: a session of its own, SIGINT ignored
        preexec_fn=lambda: (os.setsid(), signal.signal(signal.SIGINT, signal.SIG_IGN)),
    )
    try:
        deadline = time.monotonic() + 180
        data = None
        while time.monotonic() < deadline and make.poll() is None:
            try:
                data = _graphql(port)
                break
            except OSError:
                time.sleep(2)
        assert data is not None, "the UI never answered"
        nodes = {"/".join(n["assetKey"]["path"]): n for n in data["assetNodes"]}
        feed, mart = nodes["raw/hes_apc"], nodes["marts/dim_icb"]
        # the sample's calendar: 24 months, and the run's months shown as materialised
        assert len(feed["partitionKeys"]) == 24 and feed["partitionKeys"][-1] == "2022-12-01"
        assert {m["partition"] for m in feed["assetMaterializations"]} >= {"2022-01-01", "2022-12-01"}
        assert mart["assetMaterializations"], "the dbt model's materialisation is not in the UI"
        latest = mart["assetChecksOrError"]["checks"]
        checks = {c["name"]: c["executionForLatestMaterialization"] for c in latest}
        assert checks and all(c and c["status"] == "SUCCEEDED" for c in checks.values()), checks
        feed_checks = {c["name"] for c in feed["assetChecksOrError"]["checks"]}
        assert {"coverage", "completeness", "freshness"} <= feed_checks

        ui = _descendants(make.pid)
        assert len(ui) >= 4, ui  # the wrapper, dg dev, the webserver, the daemon (and code servers)
        make.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 45
        while _alive(ui) and time.monotonic() < deadline:
            time.sleep(1)
        assert not _alive(ui), "processes of make ui outlived SIGTERM"
        assert _target_state() == before, "make ui rewrote dbt_project/target"
    finally:
        for pid in _alive(_descendants(make.pid) | {make.pid}):
            os.kill(pid, signal.SIGKILL)
