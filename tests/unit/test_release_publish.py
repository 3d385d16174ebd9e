"""Publishing a release from a small warehouse: what it holds, the atomic switch, retention, the
refusals, and what a killed or failing publish leaves (no Dagster, no dbt)."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.release import verify
from orchestration.release.publish import CheckSummary, ReleaseBlocked, publish
from orchestration.release.store import NoRelease, ReleaseStore

REPO_ROOT = Path(__file__).resolve().parents[2]


def _node(name: str, columns: dict[str, str], release: dict | None = None) -> dict:
    return {
        "resource_type": "model",
        "schema": "marts",
        "name": name,
        "alias": name,
        "original_file_path": f"models/marts/{name}.sql",
        "description": f"The {name} table.",
        "columns": {
            c: {"name": c, "data_type": t, "description": f"{c} of {name}"} for c, t in columns.items()
        },
        "config": {"meta": {"release": release or {}}, "contract": {"enforced": True}},
        "contract": {"enforced": True},
        "version": None,
    }


MANIFEST = {
    "metadata": {"dbt_version": "1.11"},
    "nodes": {
        "model.x.dim_area": _node(
            "dim_area", {"area_code": "varchar", "area_name": "varchar"}, {"order_by": ["area_code"]}
        ),
        "model.x.fct_activity": _node(
            "fct_activity",
            {"month": "date", "area_code": "varchar", "activity": "bigint", "cost": "double"},
            {"partition_by": "month", "order_by": ["area_code", "month"]},
        ),
        "model.x.fct_spell": _node(
            "fct_spell",
            {"month": "date", "patient_id": "varchar", "area_code": "varchar"},
            {"access": "restricted", "partition_by": "month"},
        ),
        "model.x.int_hidden": {**_node("int_hidden", {"a": "integer"}), "schema": "intermediate"},
    },
    "sources": {
        "source.x.share.extract": {
            "source_name": "share",
            "name": "extract",
            "original_file_path": "models/share/_share__sources.yml",
            "description": "A shared extract.",
            "columns": {"area_code": {"name": "area_code", "data_type": "varchar", "description": "Area."}},
            "config": {"meta": {}},
        }
    },
}


def make_warehouse(path: Path, months: int = 3, rows_per_month: int = 1_000) -> Path:
    with duckdb.connect(str(path)) as conn:
        conn.execute("create schema marts; create schema share; create schema intermediate")
        conn.execute(
            "create table marts.dim_area as "
            "select 'A' || range as area_code, 'Area ' || range as area_name from range(5)"
        )
        conn.execute(
            f"""create table marts.fct_activity as
                select (date '2022-01-01' + to_months((range % {months})::int))::date as month,
                       'A' || (range % 5) as area_code, range::bigint as activity,
                       (range * 1.5)::double as cost
                from range({months * rows_per_month})"""
        )
        conn.execute(
            "create table marts.fct_spell as select date '2022-01-01' as month, 'P' || range as patient_id, "
            "'A1' as area_code from range(10)"
        )
        conn.execute("create table share.extract as select 'A' || range as area_code from range(3)")
        conn.execute("create table intermediate.int_hidden as select 1 as a")
    return path


@pytest.fixture
def warehouse(tmp_path) -> Path:
    return make_warehouse(tmp_path / "warehouse.duckdb")


def _publish(warehouse: Path, store: ReleaseStore, **kwargs):
    kwargs.setdefault("checks", CheckSummary(passed=5, warned=1, source="test"))
    kwargs.setdefault("run_id", "run12345")
    return publish(warehouse=warehouse, manifest=MANIFEST, store=store, log=lambda _: None, **kwargs)


def test_a_release_holds_the_open_tables_as_parquet_behind_a_read_only_catalog(warehouse, tmp_path):
    store = ReleaseStore(tmp_path / "published")
    release = _publish(warehouse, store)
    assert release.tables == {"marts.dim_area": 5, "marts.fct_activity": 3_000, "share.extract": 3}
    folder = store.release_dir(release.release_id)
    months = sorted(p.name for p in (folder / "data" / "marts" / "fct_activity").iterdir())
    assert months == ["month=2022-01-01", "month=2022-02-01", "month=2022-03-01"]
    assert not (folder / "data" / "marts" / "fct_spell").exists()  # restricted: never in the open release
    with duckdb.connect(str(store.catalog), read_only=True) as conn:
        assert conn.execute("select release_id, checks_passed, checks_warned from release").fetchone() == (
            release.release_id,
            5,
            1,
        )
        assert conn.execute(
            "select typeof(month), count(*) from marts.fct_activity group by 1"
        ).fetchall() == [("DATE", 3000)]
        assert conn.execute("select sum(activity) from marts.fct_activity").fetchone()[0] == sum(range(3000))
        comment = conn.execute(
            "select comment from duckdb_columns() where table_name = 'fct_activity' and column_name = 'cost'"
        ).fetchone()[0]
        assert comment == "cost of fct_activity"
        assert conn.execute("select stats.wilson_lower(65, 100, 0.95) between 0.55 and 0.65").fetchone()[0]
        with pytest.raises(duckdb.Error, match="read-only"):
            conn.execute("create table marts.scratch as select 1")
    # Sorted for BI filters: each month's file holds its areas in order, so row groups skip.
    areas = duckdb.sql(
        f"select area_code from read_parquet('{folder}/data/marts/fct_activity/month=2022-02-01/*.parquet')"
    ).fetchall()
    assert areas == sorted(areas)
    assert (folder / "csv" / "marts.dim_area.csv").read_text().splitlines()[0] == "area_code,area_name"
    assert not (folder / "csv" / "marts.fct_activity.csv").exists()  # facts are for BI tools, not Excel
    assert _all_problems(store, release.release_id) == [[], [], [], []]


def _all_problems(store: ReleaseStore, release_id: str) -> list[list[str]]:
    return [
        verify.files_problems(store, release_id),
        verify.row_count_problems(store, release_id),
        verify.schema_problems(store, release_id),
        verify.disclosure_problems(store, release_id),
    ]


def test_the_restricted_release_adds_record_level_facts_behind_a_locked_folder(warehouse, tmp_path):
    store, locked = ReleaseStore(tmp_path / "published"), ReleaseStore(tmp_path / "restricted")
    release = _publish(warehouse, store, restricted=locked)
    assert locked.current_id() == store.current_id() == release.release_id
    assert (locked.root.stat().st_mode & 0o777) == 0o700
    with duckdb.connect(str(locked.catalog), read_only=True) as conn:
        assert conn.execute("select count(*) from marts.fct_spell").fetchone()[0] == 10
        assert conn.execute("select count(*) from marts.fct_activity").fetchone()[0] == 3_000
        assert conn.execute("select access from release").fetchone()[0] == "restricted"
    with duckdb.connect(str(store.catalog), read_only=True) as conn:
        views = {
            r[0] for r in conn.execute("select view_name from duckdb_views() where not internal").fetchall()
        }
    assert "fct_spell" not in views and "int_hidden" not in views
    assert _all_problems(locked, release.release_id) == [[], [], [], []]


def test_an_open_table_with_a_patient_id_is_refused_whatever_its_meta_says(warehouse, tmp_path):
    manifest = json.loads(json.dumps(MANIFEST))
    manifest["nodes"]["model.x.fct_spell"]["config"]["meta"]["release"]["access"] = "open"
    store = ReleaseStore(tmp_path / "published")
    with pytest.raises(
        ReleaseBlocked, match=r"marts.fct_spell carries patient-level columns \['patient_id'\]"
    ):
        publish(
            warehouse=warehouse, manifest=manifest, store=store, checks=CheckSummary(), log=lambda _: None
        )
    assert not store.complete_releases()


def test_blocking_failures_publish_nothing_and_keep_the_last_good_release(warehouse, tmp_path):
    store = ReleaseStore(tmp_path / "published")
    good = _publish(warehouse, store)
    failed = CheckSummary(passed=3, failed=1, blocking_failures=("raw/epd:structure",))
    with pytest.raises(ReleaseBlocked, match="raw/epd:structure"):
        _publish(warehouse, store, checks=failed)
    assert store.complete_releases() == [good.release_id] and store.current_id() == good.release_id


def test_nothing_published_yet_says_so(tmp_path):
    with pytest.raises(NoRelease, match="No release has been published under"):
        ReleaseStore(tmp_path / "nothing").current_id()


def test_the_newest_releases_are_kept_and_older_ones_pruned(warehouse, tmp_path):
    store = ReleaseStore(tmp_path / "published")
    ids = []
    for n in range(4):
        ids.append(_publish(warehouse, store, run_id=f"run{n:05d}", keep=3).release_id)
        time.sleep(1.05)  # ids carry the second they were built
    assert store.complete_releases() == ids[1:]
    assert store.current_id() == ids[-1]
    assert os.readlink(store.root / "current") == f"releases/{ids[-1]}"
    assert store.manifest()["release_id"] == ids[-1]


def test_a_reader_holding_the_old_catalog_keeps_reading_the_old_release(warehouse, tmp_path):
    store = ReleaseStore(tmp_path / "published")
    first = _publish(warehouse, store, run_id="first000")
    reader = duckdb.connect(str(store.catalog), read_only=True)
    time.sleep(1.05)
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("insert into marts.fct_activity select * from marts.fct_activity limit 10")
    second = _publish(warehouse, store, run_id="second00")
    assert reader.execute("select release_id from release").fetchone()[0] == first.release_id
    assert reader.execute("select count(*) from marts.fct_activity").fetchone()[0] == 3_000
    reader.close()
    with duckdb.connect(str(store.catalog), read_only=True) as conn:
        assert conn.execute("select release_id from release").fetchone()[0] == second.release_id
        assert conn.execute("select count(*) from marts.fct_activity").fetchone()[0] == 3_010


def test_small_tables_are_stored_in_the_catalog_and_large_ones_are_views_over_parquet(warehouse, tmp_path):
    store = ReleaseStore(tmp_path / "published")
    _publish(warehouse, store, native_max_rows=1_000)
    with duckdb.connect(str(store.catalog), read_only=True) as conn:
        kinds = dict(
            conn.execute(
                "select table_name, table_type from information_schema.tables "
                "where table_schema in ('marts', 'share')"
            ).fetchall()
        )
        stored = dict(conn.execute("select table_name, stored_as from release_tables").fetchall())
    assert kinds == {"dim_area": "BASE TABLE", "extract": "BASE TABLE", "fct_activity": "VIEW"}
    assert stored == {"dim_area": "table", "extract": "table", "fct_activity": "view"}
    assert os.stat(store.catalog).st_ino == os.stat(store.current_dir() / "catalog.duckdb").st_ino  # no copy


def test_a_tampered_release_is_caught_by_the_release_checks(warehouse, tmp_path):
    store = ReleaseStore(tmp_path / "published")
    release = _publish(warehouse, store, native_max_rows=0)  # every table a view over its files
    folder = store.release_dir(release.release_id)
    (folder / "data" / "marts" / "fct_activity" / "month=2022-02-01" / "part-0.parquet").unlink()
    csv = folder / "csv" / "marts.dim_area.csv"
    csv.write_text(csv.read_text().replace("Area 1", "Area X"))
    (folder / "data" / "marts" / "dim_area" / "extra.parquet").write_bytes(b"PAR1")
    problems = verify.files_problems(store, release.release_id)
    assert "missing file data/marts/fct_activity/month=2022-02-01/part-0.parquet" in problems
    assert any(p.startswith("csv/marts.dim_area.csv does not match its sha256") for p in problems)
    assert "unlisted file data/marts/dim_area/extra.parquet (never read: views list their files)" in problems
    assert verify.row_count_problems(store, release.release_id)  # the view lists a file now missing


def test_a_contract_drift_is_caught(warehouse, tmp_path):
    store = ReleaseStore(tmp_path / "published")
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("alter table marts.dim_area alter area_name type integer using length(area_name)")
    release = _publish(warehouse, store)
    assert verify.schema_problems(store, release.release_id) == [
        "marts.dim_area.area_name is INTEGER; its contract says varchar"
    ]


def test_an_empty_partitioned_table_is_published_empty_and_readable(warehouse, tmp_path):
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("delete from marts.fct_activity")
    store = ReleaseStore(tmp_path / "published")
    _publish(warehouse, store)
    with duckdb.connect(str(store.catalog), read_only=True) as conn:
        assert conn.execute("select count(*) from marts.fct_activity").fetchone()[0] == 0


def test_a_missing_table_is_named_and_nothing_is_published(warehouse, tmp_path):
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("drop table share.extract")
    store = ReleaseStore(tmp_path / "published")
    with pytest.raises(ReleaseBlocked, match=r"has no share.extract"):
        _publish(warehouse, store)
    assert not store.complete_releases() and not list(store.releases_dir.glob("*"))


CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    sys.path.insert(0, {repo!r})
    from tests.unit.test_release_publish import MANIFEST
    from orchestration.release.publish import CheckSummary, publish
    from orchestration.release.store import ReleaseStore
    publish(warehouse=Path({warehouse!r}), manifest=MANIFEST, store=ReleaseStore(Path({root!r})),
            checks=CheckSummary(), run_id={run!r}, log=lambda line: print(line, flush=True))
    """
)


def _child(warehouse: Path, root: Path, run: str, **popen) -> subprocess.Popen:
    code = CHILD.format(repo=str(REPO_ROOT), warehouse=str(warehouse), root=str(root), run=run)
    return subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen
    )


def test_a_write_error_leaves_no_half_release_and_the_last_good_one_current(tmp_path):
    """A file-size limit (RLIMIT_FSIZE) makes the Parquet writer fail as a full disk would."""
    warehouse = make_warehouse(tmp_path / "big.duckdb", months=3, rows_per_month=300_000)
    root = tmp_path / "published"
    first = _child(warehouse, root, "good0000")
    assert first.wait(timeout=120) == 0, first.stderr.read().decode()
    good = ReleaseStore(root).current_id()
    time.sleep(1.05)

    def limit_file_size():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, 256 * 1024))

    failing = _child(warehouse, root, "full0000", preexec_fn=limit_file_size)
    assert failing.wait(timeout=120) != 0
    stderr = failing.stderr.read().decode()
    assert "ReleaseWriteError: could not write release" in stderr
    assert f"the last good release ({good}) stays current" in stderr
    store = ReleaseStore(root)
    assert store.complete_releases() == [good] and store.current_id() == good
    assert sorted(p.name for p in store.releases_dir.iterdir()) == [good]  # no half-written folder
    assert _all_problems(store, good) == [[], [], [], []]


def test_a_publish_killed_midway_leaves_the_last_good_release_and_the_next_one_is_clean(tmp_path):
    warehouse = make_warehouse(tmp_path / "big.duckdb", months=12, rows_per_month=400_000)
    root = tmp_path / "published"
    store = ReleaseStore(root)
    first = _child(warehouse, root, "good0000")
    assert first.wait(timeout=180) == 0, first.stderr.read().decode()
    good = store.current_id()
    time.sleep(1.05)
    victim = _child(warehouse, root, "kill0000")
    deadline = time.monotonic() + 60
    while not list(store.releases_dir.glob("*kill0000/data/marts/fct_activity/month=*")):
        assert victim.poll() is None and time.monotonic() < deadline, "the publish ended before it was killed"
        time.sleep(0.01)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    assert store.current_id() == good and store.complete_releases() == [good]
    with duckdb.connect(str(store.catalog), read_only=True) as conn:
        assert conn.execute("select count(*) from marts.fct_activity").fetchone()[0] == 12 * 400_000
    time.sleep(1.05)
    again = _child(warehouse, root, "next0000")
    assert again.wait(timeout=180) == 0, again.stderr.read().decode()
    out = again.stdout.read().decode()
    assert "removed what an interrupted publish left" in out and "kill0000" in out
    assert "kill0000" not in "".join(p.name for p in store.releases_dir.iterdir())
    assert store.current_id().endswith("next0000") and len(store.complete_releases()) == 2
    assert _all_problems(store, store.current_id()) == [[], [], [], []]
