"""When files arrived (the receipt log, else mtime) and how stale each feed may get."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from orchestration.defs.catalog import ALL_FEEDS
from orchestration.defs.reference.feeds import GP_PRACTICE_MAP
from orchestration.lib import freshness, loader, receipts
from tests.helpers import REPO_ROOT, SAMPLE


def _drop(root: Path, feed: str, period: str, name: str, text: str = "x\n") -> Path:
    path = root / feed / period / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_the_receipt_log_says_when_a_listed_file_arrived(tmp_path):
    path = _drop(tmp_path, "epd", "2022-07", "EPD_202207.csv")
    (tmp_path / "_receipts.csv").write_text(
        "feed,period,file,received_at\nepd,2022-07,EPD_202207.csv,2022-09-28T09:30:00\n"
    )
    assert receipts.received_at(path) == datetime(2022, 9, 28, 9, 30)


def test_a_file_the_log_does_not_list_arrived_when_it_was_last_modified(tmp_path):
    (tmp_path / "_receipts.csv").write_text("feed,period,file,received_at\n")
    path = _drop(tmp_path, "epd", "2022-08", "EPD_202208.csv")
    os.utime(path, (1_660_000_000, 1_660_000_000))  # 2022-08-08T23:06:40Z
    assert receipts.received_at(path) == datetime(2022, 8, 8, 23, 6, 40)


def test_the_shipped_qof_files_are_in_the_landing_log_arriving_on_18_october_after_their_year():
    shipped = SAMPLE / "qof_achievement" / "2021-04" / "ACHIEVEMENT_2122.csv"
    assert receipts.logged_at(shipped) == datetime(2022, 10, 18, 9, 30)
    assert not list(SAMPLE.glob("*/_receipts.csv"))  # one log, the landing folder's


def test_a_receipt_log_without_its_columns_is_a_clear_error(tmp_path):
    (tmp_path / "_receipts.csv").write_text("feed,file,when\nepd,a.csv,2022-01-01\n")
    path = _drop(tmp_path, "epd", "2022-07", "a.csv")
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['period', 'received_at'\]"):
        receipts.received_at(path)


def test_the_load_log_keeps_arrival_time_and_the_catalogue_the_feed(conn):
    folder = SAMPLE / GP_PRACTICE_MAP.name / "2022-05"
    (path,) = list(folder.iterdir())
    loader.load_period(conn, GP_PRACTICE_MAP, datetime(2022, 5, 1).date(), [path])
    received, loaded = conn.execute("select received_at, loaded_at from meta.load_log").fetchall()[0]
    # the planted late file: the practice map for May 2022 arrived 50 days after the 14th
    assert received == datetime(2022, 7, 3, 9, 30)
    assert loaded > received
    assert conn.execute(
        "select cadence, freshness_warn_days, freshness_error_days from meta.feed_catalog"
    ).fetchall() == [("monthly", 35, 45)]


def test_freshness_warns_then_fails_by_the_feed_cadence():
    now = datetime(2026, 11, 22)
    assert freshness.judge(GP_PRACTICE_MAP, datetime(2026, 10, 20), now)[:2] == (True, "warn")  # 33 days
    assert freshness.judge(GP_PRACTICE_MAP, datetime(2026, 10, 10), now)[:2] == (False, "warn")  # 43 days
    assert freshness.judge(GP_PRACTICE_MAP, datetime(2026, 10, 1), now)[:2] == (False, "error")  # 52 days
    assert freshness.judge(GP_PRACTICE_MAP, None, now)[:2] == (False, "error")  # never loaded


def _dbt_source_freshness() -> dict[str, tuple[int, int] | None]:
    found: dict[str, tuple[int, int] | None] = {}
    for path in (REPO_ROOT / "dbt_project" / "models").rglob("*.yml"):
        for source in (yaml.safe_load(path.read_text()) or {}).get("sources", []):
            if source["name"] != "raw":
                continue
            for table in source.get("tables", []):
                config = (table.get("config") or {}).get("freshness")
                found[table["name"]] = (
                    (config["warn_after"]["count"], config["error_after"]["count"]) if config else None
                )
    return found


def test_dbt_source_freshness_states_the_same_cadence_as_each_feed():
    declared = _dbt_source_freshness()
    assert {spec.name: spec.freshness for spec in ALL_FEEDS} == {
        spec.name: declared[spec.name] for spec in ALL_FEEDS
    }


def test_every_feed_with_a_cadence_has_a_dagster_freshness_check():
    checks = freshness.freshness_checks(ALL_FEEDS)
    keys = {key.asset_key.path[-1] for check in checks for key in check.check_keys}
    assert keys == {spec.name for spec in ALL_FEEDS if spec.freshness}
    # every feed but the Indices of Deprivation (an edition every few years: no cadence to miss)
    assert len(keys) == len(ALL_FEEDS) - 1 == 21


def test_the_load_log_model_waits_for_every_feed_s_load():
    """stg_meta__load_log lists each raw source as a depends_on, so Dagster builds the data-gap
    marts after every load of the run; a new feed must be added there too."""
    import json

    manifest = json.loads((REPO_ROOT / "dbt_project" / "target" / "manifest.json").read_text())
    node = manifest["nodes"]["model.commissioning.stg_meta__load_log"]
    waits_for = {
        n.rsplit(".", 1)[-1] for n in node["depends_on"]["nodes"] if n.startswith("source.commissioning.raw.")
    }
    assert waits_for == {spec.name for spec in ALL_FEEDS}
