"""The published release as BI tools meet it: written by `make run`'s entry point, read by real
clients (SQLAlchemy with duckdb-engine, pyarrow datasets, pandas on the CSV extracts), and read
by several processes at once while a run loads and publishes a new month."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration.release import tables as published
from orchestration.release import verify
from orchestration.release.store import ReleaseStore
from tests.helpers import REPO_ROOT, SAMPLE, run_all, run_all_env

pytestmark = pytest.mark.e2e
# The first two read the e2e workspace, which test_end_to_end changes: on the same worker.
E2E_WORKSPACE = pytest.mark.xdist_group("e2e_workspace")
DBT_MANIFEST = REPO_ROOT / "dbt_project" / "target" / "manifest.json"


def _open_tables() -> set[str]:
    tables = published.published_tables(published.load_manifest(DBT_MANIFEST))
    return {t.relation for t in tables if t.access == published.OPEN}


@E2E_WORKSPACE
def test_the_main_job_publishes_every_open_table_with_the_warehouse_counts(e2e_workspace, e2e_first_run):
    root, _, _ = e2e_workspace
    store = ReleaseStore(root / "published")
    release_id = store.current_id()
    manifest = store.manifest()
    assert set(manifest["tables"]) == _open_tables()
    assert {"marts.fct_apc_spell", "marts.fct_outpatient_attendance", "marts.fct_ae_attendance"}.isdisjoint(
        manifest["tables"]
    )
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as conn:
        private = {t: conn.execute(f"select count(*) from {t}").fetchone()[0] for t in manifest["tables"]}
    assert {t: v["rows"] for t, v in manifest["tables"].items()} == private
    assert private["marts.fct_registered_population"] == 182 * 40 * 3
    problems = [
        verify.files_problems(store, release_id),
        verify.row_count_problems(store, release_id),
        verify.schema_problems(store, release_id),
        verify.disclosure_problems(store, release_id),
    ]
    assert problems == [[], [], [], []]
    with duckdb.connect(str(store.catalog), read_only=True) as conn:
        facts = conn.execute(
            "select release_id, checks_passed, checks_failed, source_months from release"
        ).fetchone()
        feeds = {f for (f,) in conn.execute("select distinct feed from release_feeds").fetchall()}
        partitions = conn.execute(
            "select partition_by from release_tables where table_name = 'fct_registered_population'"
        ).fetchone()[0]
    assert facts[0] == release_id and facts[1] > 100
    assert {str(m) for m in facts[3]} >= {"2022-05-01", "2022-06-01", "2022-07-01"}
    assert {"gp_registered_patients", "hes_apc", "epd", "ods_epraccur"} <= feeds
    assert partitions == "month"
    months = sorted(p.name for p in (store.current_dir() / "data/marts/fct_registered_population").iterdir())
    assert months == ["month=2022-05-01", "month=2022-06-01", "month=2022-07-01"]
    docs = (store.current_dir() / "docs" / "index.html").read_text()
    assert "mart_commissioning_summary" in docs and "fct_registered_population" in docs
    out = e2e_first_run.result.stdout  # later e2e runs may have published newer releases since
    first = re.search(r"Published release (\S+):", out)
    assert first and first[1] in store.complete_releases() and first[1] <= release_id
    assert "release/published:" not in out  # no release check among the failed ones


@E2E_WORKSPACE
def test_real_clients_read_the_release_as_the_warehouse_holds_it(e2e_workspace, e2e_first_run):
    import pyarrow.compute as pc
    import pyarrow.dataset as ds
    import sqlalchemy

    root, _, _ = e2e_workspace
    store = ReleaseStore(root / "published")
    trend = (
        "select area_code, month, setting, sum(activity) as activity, sum(cost) as cost "
        "from marts.mart_commissioning_summary where area_level = 'sub_icb_location' "
        "group by all order by all"
    )
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as conn:
        expected = conn.execute(trend).df()
        june = conn.execute(
            "select sum(number_of_patients) from marts.fct_registered_population "
            "where month = '2022-06-01' and sub_icb_location_code = '02T'"
        ).fetchone()[0]
        practices = conn.execute("select * from marts.dim_practice order by practice_code").df()
        wilson = conn.execute("select stats.wilson_lower(65, 100, 0.95)").fetchone()[0]

    # Superset / Metabase: SQLAlchemy with duckdb-engine, read-only, on the fixed catalog path.
    engine = sqlalchemy.create_engine(f"duckdb:///{store.catalog}", connect_args={"read_only": True})
    with engine.connect() as connection:
        got = pd.read_sql(sqlalchemy.text(trend), connection)
        macro = connection.execute(sqlalchemy.text("select stats.wilson_lower(65, 100, 0.95)")).scalar()
    engine.dispose()
    got["month"] = pd.to_datetime(got["month"])  # SQLAlchemy hands dates as datetime.date
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert macro == wilson

    # Power BI / Tableau's Parquet connectors, polars, pandas: Arrow datasets over the folder.
    release_dir = (store.root / "current").resolve()
    dataset = ds.dataset(release_dir / "data" / "marts" / "fct_registered_population", format="parquet")
    filtered = dataset.to_table(
        columns=["number_of_patients"],
        filter=(ds.field("month") == pd.Timestamp("2022-06-01").date())
        & (ds.field("sub_icb_location_code") == "02T"),
    )
    assert pc.sum(filtered["number_of_patients"]).as_py() == june

    # Excel: the CSV extract opens as the table it copies.
    extract = pd.read_csv(release_dir / "csv" / "marts.dim_practice.csv", dtype=str, keep_default_na=False)
    assert list(extract.columns) == list(practices.columns)
    assert len(extract) == len(practices)
    assert extract["practice_code"].tolist() == practices["practice_code"].tolist()


def _observations(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.mark.xdist_group("readers")  # on a copy: any worker
def test_readers_never_collide_with_a_run_that_loads_and_publishes_a_new_month(e2e_first_run, tmp_path):
    root = tmp_path / "workspace"  # a copy of the first run's workspace: this test loads a month into it
    shutil.copytree(e2e_first_run.pristine, root)
    env = run_all_env(root, root / "landing")
    publish = subprocess.run(
        [sys.executable, "-m", "orchestration.release"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert publish.returncode == 0, publish.stdout[-3000:] + publish.stderr[-3000:]
    store = ReleaseStore(root / "published")
    old = store.current_id()
    for feed in (p for p in SAMPLE.iterdir() if (p / "2022-07").is_dir() and (p / "2022-08").is_dir()):
        shutil.copytree(feed / "2022-08", root / "landing" / feed.name / "2022-08")

    stop = tmp_path / "stop"
    kinds = ("catalog", "long", "arrow", "sqlalchemy")
    outputs = {kind: tmp_path / f"{kind}.jsonl" for kind in kinds}
    readers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.integration.release_reader",
                kind,
                str(store.root),
                str(out),
                str(stop),
            ],
            cwd=REPO_ROOT,
        )
        for kind, out in outputs.items()
    ]
    try:
        deadline = time.monotonic() + 120
        while not all(_observations(out) for out in outputs.values()):
            assert time.monotonic() < deadline, "a reader never read the first release"
            time.sleep(0.2)
        run = run_all(env)
        new = store.current_id()
        deadline = time.monotonic() + 120
        while not all(
            any(o.get("release_id") == new for o in _observations(out)) for out in outputs.values()
        ):
            assert time.monotonic() < deadline, "a reader never saw the new release"
            time.sleep(0.2)
    finally:
        stop.touch()
        for reader in readers:
            reader.wait(timeout=120)

    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    assert "Run succeeded" in run.stdout
    assert "Could not set lock" not in run.stdout + run.stderr
    assert new != old
    seen = {kind: _observations(out) for kind, out in outputs.items()}
    errors = [o for obs in seen.values() for o in obs if o["error"]]
    mismatches = [o for obs in seen.values() for o in obs if o.get("mismatches")]
    assert errors == [] and mismatches == []
    for kind, obs in seen.items():
        assert {o["release_id"] for o in obs} == {old, new}, kind
    assert len(seen["long"]) >= 3 and sum(len(obs) for obs in seen.values()) > 40  # reads span the run
    rows = {r: store.manifest(r)["tables"]["marts.fct_registered_population"]["rows"] for r in (old, new)}
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as conn:
        now = conn.execute("select count(*) from marts.fct_registered_population").fetchone()[0]
    assert rows == {old: 182 * 40 * 3, new: now} and now > rows[old]  # the new month is in the new release
    print(
        "\nreaders during the run: "
        + ", ".join(f"{kind} {len(obs)} reads" for kind, obs in seen.items())
        + f"; releases {old} -> {new}"
    )
