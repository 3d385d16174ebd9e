"""`dbt build` killed with SIGKILL in the middle of a model (#19).

On a copy of the end-to-end warehouse as `make run` first built it, the pipeline's own dbt build
(the arguments of `dbt_build_args`, the month window of a `make run` over the e2e months, the
warehouse's own target folder) is started and killed shortly after its output shows the first
table (or incremental) model starting. The warehouse must then open with every model and seed
either as it was before the build or as the build makes it (for unchanged inputs both are the
pristine build's content); the re-run must succeed, leave none of the relations dbt-duckdb stages
beside a model (`__dbt_tmp`, `__dbt_backup`), and every model of every schema the manifest names
must hold what the pristine build holds (EXCEPT ALL both ways; doubles within 1e-9 relative).
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import duckdb
import pytest

from orchestration.lib import settings
from orchestration.lib.dbt_vars import RANGE_END_TAG, RANGE_START_TAG, dbt_build_args, window_from_tags
from tests.fault_helpers import kill, report_fixture, tail, wait_until
from tests.helpers import REPO_ROOT
from tests.integration.conftest import E2E_MONTHS

# The pristine first run is only read (each test works on a copy of it): any worker.
pytestmark = pytest.mark.e2e

DBT = Path(sys.executable).parent / "dbt"
MANIFEST = REPO_ROOT / "dbt_project" / "target" / "manifest.json"  # parsed by tests/conftest.py
STARTED = re.compile(r"\d+ of \d+ START sql (\w+) model (\S+)")
FINISHED = re.compile(r"\d+ of \d+ OK (?:created sql \w+ model|loaded seed file) (\S+)")
STAGED = re.compile(r"__dbt_(tmp|backup)$")  # what dbt-duckdb creates beside a relation it rebuilds
RELATIVE = 1e-9
# After a model's START line, dbt compiles it (milliseconds) and runs its SQL (0.1-2 s at e2e
# size): killed this long after the line, dbt is inside the SQL of that model or of the next.
INTO_THE_MODEL = 0.2


@dataclass(frozen=True)
class Relation:
    schema: str
    name: str
    kind: str  # model materialisation or "seed"

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}"


def built_relations(manifest: dict) -> list[Relation]:
    """Every model and seed dbt writes to the warehouse (not the ephemeral models)."""
    return sorted(
        (
            Relation(node["schema"], node["alias"] or node["name"], node["config"]["materialized"])
            for node in manifest["nodes"].values()
            if node["resource_type"] in ("model", "seed") and node["config"]["materialized"] != "ephemeral"
        ),
        key=str,
    )


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def differences(conn: duckdb.DuckDBPyConnection, relation: Relation, against: str = "pristine") -> str | None:
    """None when `relation` holds the same rows (with repeats) as in the attached `against`
    warehouse, else what differs. Exact first (EXCEPT ALL both ways); doubles that differ only
    in the last bits (dbt's parallel sums) are then compared row by row, within 1e-9 relative."""
    here = f"{_quote(relation.schema)}.{_quote(relation.name)}"
    there = f"{against}.{here}"
    cols = conn.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = current_database() and table_schema = ? and table_name = ? "
        "order by ordinal_position",
        [relation.schema, relation.name],
    ).fetchall()
    theirs = conn.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = ? and table_schema = ? and table_name = ? order by ordinal_position",
        [against, relation.schema, relation.name],
    ).fetchall()
    if not cols:
        return "missing"
    if cols != theirs:
        return f"columns {cols} != {theirs}"
    only_here = conn.execute(f"select count(*) from (from {here} except all from {there})").fetchone()[0]
    only_there = conn.execute(f"select count(*) from (from {there} except all from {here})").fetchone()[0]
    if not only_here and not only_there:
        return None
    doubles = [c for c, t in cols if t in ("DOUBLE", "FLOAT", "REAL")]
    if not doubles:
        return f"{only_here} rows not in {against}, {only_there} rows of {against} missing"
    others = ", ".join(_quote(c) for c, t in cols if c not in doubles) or "1"
    order = f"{others}, " + ", ".join(f"round({_quote(c)}, 6)" for c in doubles)
    mine = conn.execute(f"from (from {here} except all from {there}) order by {order}").fetchall()
    their = conn.execute(f"from (from {there} except all from {here}) order by {order}").fetchall()
    positions = [i for i, (c, _) in enumerate(cols) if c in doubles]
    if len(mine) == len(their) and all(_close(a, b, positions) for a, b in zip(mine, their, strict=True)):
        return None
    return f"{only_here} rows not in {against}, {only_there} rows of {against} missing (beyond 1e-9)"


def _close(a: tuple, b: tuple, doubles: list[int]) -> bool:
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        if i in doubles and x is not None and y is not None:
            if not (math.isclose(x, y, rel_tol=RELATIVE) or (math.isnan(x) and math.isnan(y))):
                return False
        elif x != y:
            return False
    return True


def staged_leftovers(conn: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        f"{schema}.{name}"
        for schema, name in conn.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = current_database() "
            "union all select schema_name, view_name from duckdb_views() "
            "where not internal and database_name = current_database()"
        ).fetchall()
        if STAGED.search(name)
    ]


def build_environment(warehouse: Path) -> dict[str, str]:
    """The environment the pipeline's dbt build runs in (settings.export_environment and the
    month window of a `make run` over the e2e months), on this warehouse."""
    window = window_from_tags(
        {RANGE_START_TAG: E2E_MONTHS[0].isoformat(), RANGE_END_TAG: E2E_MONTHS[-1].isoformat()}
    )
    return {
        **os.environ,
        settings.WAREHOUSE_ENV: str(warehouse),
        "DBT_INDIRECT_SELECTION": "buildable",
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "PYTHONUNBUFFERED": "1",  # each line reaches the log when dbt prints it
        **window,
    }


def start_build(warehouse: Path, log: Path) -> subprocess.Popen:
    """`dbt build` as the Dagster asset runs it: dbt_build_args, the warehouse's own target folder."""
    env = build_environment(warehouse)
    with mock.patch.dict(os.environ, {settings.WAREHOUSE_ENV: str(warehouse)}):
        target = settings.dbt_target_dir()
    project = str(settings.DBT_PROJECT_DIR)
    paths = ["--project-dir", project, "--profiles-dir", project, "--target-path", str(target)]
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(DBT), *dbt_build_args(), *paths, "--log-path", str(warehouse.parent / "logs")],
            cwd=project,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


@pytest.fixture(scope="module")
def kill_report(request):
    yield from report_fixture(
        request,
        "killed dbt builds: a copy of the e2e warehouse (3 months), the pipeline's dbt build",
        (
            f"killed {INTO_THE_MODEL} s after the start of",
            "models in flight",
            "finished",
            "WAL left",
            "staged left",
            "relations compared",
            "re-run",
            "seconds",
        ),
    )


def test_a_dbt_build_killed_mid_model_leaves_every_model_whole_and_rebuilds_to_the_same_content(
    e2e_first_run, kill_report, tmp_path
):
    """Killed twice, inside its first table model and then (on the same warehouse, as the next
    run would find it) inside its first incremental model; then one re-run."""
    started = time.monotonic()
    pristine = e2e_first_run.pristine / "warehouse.duckdb"
    warehouse = tmp_path / "warehouse.duckdb"  # the same file name: dbt's relations name the catalog
    shutil.copy2(pristine, warehouse)
    relations = built_relations(json.loads(MANIFEST.read_text()))
    kills = []
    for kind in ("table", "incremental"):
        log = tmp_path / f"dbt-killed-{kind}.log"
        build = start_build(warehouse, log)
        first: list[str] = []

        def model_started(kind=kind, log=log, first=first) -> bool:
            first[:] = [name for k, name in STARTED.findall(log.read_text()) if k == kind][:1]
            return bool(first)

        wait_until(model_started, build, f"a {kind} model's start", log)
        time.sleep(INTO_THE_MODEL)
        kill(build, log, f"{INTO_THE_MODEL} s after {first[0]} started")
        wal_left = warehouse.with_name(warehouse.name + ".wal").exists()
        output = log.read_text()
        finished = set(FINISHED.findall(output))
        in_flight = sorted({name for _, name in STARTED.findall(output)} - finished)
        assert in_flight, f"no model was being built when dbt was killed:\n{output[-3000:]}"

        # The warehouse opens, and every model and seed is whole: what it was before the build or
        # what the build makes of it, which for unchanged inputs are the same content.
        with duckdb.connect(str(warehouse)) as conn:
            conn.execute(f"attach '{pristine}' as pristine (read_only)")
            differing = {str(r): d for r in relations if (d := differences(conn, r))}
            left = staged_leftovers(conn)
        assert not differing, f"killed while building {in_flight}: {differing}"
        kills.append((first[0], in_flight, finished, wal_left, left))

    rerun_log = tmp_path / "dbt-rerun.log"
    rerun = start_build(warehouse, rerun_log)
    assert rerun.wait(timeout=600) == 0, f"the re-run failed:\n{tail(rerun_log)}"
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        conn.execute(f"attach '{pristine}' as pristine (read_only)")
        rebuilt = {str(r): d for r in relations if (d := differences(conn, r))}
        assert not staged_leftovers(conn), "the re-run left dbt's staged relations behind"
    assert not rebuilt, f"after the re-run, unlike the pristine build: {rebuilt}"

    for model, in_flight, finished, wal_left, left in kills:
        kill_report.add(
            model,
            ", ".join(in_flight),
            len(finished),
            "yes" if wal_left else "no",
            ", ".join(left) or "none",
            len(relations),
            "identical",
            f"{time.monotonic() - started:.1f}",
        )
