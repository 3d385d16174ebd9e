"""A landing folder holding only some feeds loads what it has: an absent feed is a data gap.

The load assets run in-process (`dagster.materialize`) on a temporary warehouse over a landing
folder that holds two monthly feeds and one ODS release copied from the shipped sample; the
Friends and Family Test and the Indices of Deprivation are absent. A downstream asset stands in
for the marts: the feed checks are blocking, so it shows whether an absent feed holds them back.
"""

from __future__ import annotations

import asyncio
import html
import shutil
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster._core.loader import LoadingContextForTest
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG
from dagster_duckdb import DuckDBResource

from orchestration.defs.experience.assets import fft_ae
from orchestration.defs.population.assets import iod_file7
from orchestration.defs.reference.assets import gp_practice_map, ods_epraccur
from orchestration.lib import feed_absence, validation
from orchestration.lib.load_assets import check_name
from orchestration.lib.run_summary import absence_lines
from tests.helpers import SAMPLE, text

MONTHS = ("2022-05", "2022-06", "2022-07")


@dg.asset(key=dg.AssetKey(["marts", "stand_in"]), deps=[fft_ae.key, iod_file7.key, gp_practice_map.key])
def stand_in() -> None:
    """Built after the loads, as a mart is."""


def _landing(root: Path, practice_map_months=MONTHS) -> Path:
    landing = root / "landing"
    for month in practice_map_months:
        shutil.copytree(SAMPLE / "gp_practice_map" / month, landing / "gp_practice_map" / month)
    shutil.copytree(SAMPLE / "ods_epraccur" / "2022-04", landing / "ods_epraccur" / "2022-04")
    (landing / "fft_ae").mkdir(parents=True)  # a folder with no month in it
    return landing


def _materialize(assets, warehouse: Path, instance: dg.DagsterInstance, first: str, last: str):
    return dg.materialize(
        assets,
        resources={"duckdb": DuckDBResource(database=str(warehouse))},
        instance=instance,
        tags={ASSET_PARTITION_RANGE_START_TAG: f"{first}-01", ASSET_PARTITION_RANGE_END_TAG: f"{last}-01"},
        raise_on_error=False,
    )


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """(result, instance, warehouse, landing) of one run over May to July 2022."""
    root = tmp_path_factory.mktemp("absent")
    landing = _landing(root)
    warehouse = root / "warehouse.duckdb"
    with _environment(landing, warehouse, root / "reports"):
        instance = dg.DagsterInstance.ephemeral()
        result = _materialize(
            [fft_ae, iod_file7, gp_practice_map, ods_epraccur, stand_in], warehouse, instance, *MONTHS[::2]
        )
        yield result, instance, warehouse, landing


@contextmanager
def _environment(landing: Path, warehouse: Path, reports: Path):
    """The settings a run reads, pointed at this test's folders."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LANDING_DIR", str(landing))
        patch.setenv("WAREHOUSE_PATH", str(warehouse))
        patch.setenv("REPORTS_DIR", str(reports))
        yield


def _query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def test_the_run_succeeds_and_the_downstream_asset_builds(loaded):
    result, *_ = loaded
    assert result.success
    built = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert {
        "raw/fft_ae",
        "raw/iod_file7",
        "raw/gp_practice_map",
        "raw/ods_epraccur",
        "marts/stand_in",
    } <= built


def test_the_absent_feeds_raw_tables_exist_and_are_empty(loaded):
    _, _, warehouse, _ = loaded
    assert _query(warehouse, "select count(*) from raw.fft_ae") == [(0,)]
    assert _query(warehouse, "select count(*) from raw.iod_file7") == [(0,)]
    assert _query(warehouse, "select count(*) > 0 from raw.gp_practice_map") == [(True,)]
    # The feed catalogue knows them, so the data-quality marts can name them.
    assert {r[0] for r in _query(warehouse, "select feed from meta.feed_catalog")} >= {"fft_ae", "iod_file7"}


def test_the_absence_is_recorded_with_the_run_s_window_and_the_folder(loaded):
    result, _, warehouse, landing = loaded
    rows = _query(
        warehouse,
        "select feed, _period, kind, landing_folder, window_start, window_end, run_id "
        "from meta.feed_absence order by feed, _period",
    )
    run = result.run_id
    folder = str(landing / "fft_ae")
    may, jun, jul = date(2022, 5, 1), date(2022, 6, 1), date(2022, 7, 1)
    assert rows == [
        ("fft_ae", may, "feed_absent", folder, may, jul, run),
        ("fft_ae", jun, "feed_absent", folder, may, jul, run),
        ("fft_ae", jul, "feed_absent", folder, may, jul, run),
        ("iod_file7", None, "feed_absent", str(landing / "iod_file7"), None, None, run),
    ]
    details = dict(_query(warehouse, "select distinct feed, detail from meta.feed_absence"))
    assert details["fft_ae"] == (
        f"fft_ae: no files for 2022-05…2022-07 in {folder} (no <YYYY-MM>/ folder in it holds a file "
        "named like " + " or ".join(fft_ae_patterns()) + ")"
    )
    assert details["iod_file7"] == f"iod_file7: no release in {landing / 'iod_file7'} (no such folder)"


def fft_ae_patterns() -> tuple[str, ...]:
    from orchestration.defs.experience.fft import FFT_AE

    return FFT_AE.file_patterns


def test_one_warning_line_names_each_absent_feed_and_its_folder(loaded):
    result, instance, _, landing = loaded
    warnings = [
        entry.user_message
        for entry in instance.all_logs(result.run_id)
        if entry.level == 30 and "Feed absent" in entry.user_message  # logging.WARNING
    ]
    assert len(warnings) == 2
    (fft,) = [w for w in warnings if w.startswith("Feed absent: fft_ae:")]
    assert str(landing / "fft_ae") in fft and "\n" not in fft
    assert "its checks did not run" in fft
    (iod,) = [w for w in warnings if w.startswith("Feed absent: iod_file7:")]
    assert str(landing / "iod_file7") in iod


def test_the_absent_feeds_checks_are_neither_passed_nor_failed_but_not_run(loaded):
    result, instance, _, _ = loaded
    evaluated = {(e.asset_key.to_user_string(), e.check_name) for e in result.get_asset_check_evaluations()}
    assert not {key for key in evaluated if key[0] in ("raw/fft_ae", "raw/iod_file7")}
    assert any(key[0] == "raw/gp_practice_map" for key in evaluated)  # the present feed is checked
    # Dagster planned them and the run succeeded: it records them as skipped, not as passed.
    for asset in (fft_ae, iod_file7):
        for check_key in asset.check_keys:
            record = instance.event_log_storage.get_latest_asset_check_execution_by_key([check_key])[
                check_key
            ]
            assert record.run_id == result.run_id
            assert record.status.value == "PLANNED"  # never evaluated
            status = asyncio.run(record.resolve_status(LoadingContextForTest(instance)))
            assert status.value == "SKIPPED"
    fft = [
        m for m in result.get_asset_materialization_events() if m.asset_key.to_user_string() == "raw/fft_ae"
    ]
    assert sorted(m.partition for m in fft) == ["2022-05-01", "2022-06-01", "2022-07-01"]  # one run
    metadata = fft[0].materialization.metadata
    suites = ", ".join(check_name(s) for s in validation.suite_files("fft_ae"))
    assert metadata["checks_not_run"].value.startswith(f"{suites}: feed absent (fft_ae: no files for")
    assert metadata["months_absent"].value == 3
    # No validation outcome is stored for them: the gap report's failed checks stay honest.
    _, _, warehouse, _ = loaded
    assert _query(
        warehouse, "select count(*) from meta.validation_result where feed in ('fft_ae', 'iod_file7')"
    ) == [(0,)]


def test_the_closing_summary_lists_each_absent_feed_on_one_line(loaded):
    result, _, warehouse, landing = loaded
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        lines = absence_lines(feed_absence.of_run(conn, result.run_id))
    assert lines[0].startswith("\nFeeds absent: 2 (a data gap, not a failure")
    assert lines[1:] == [
        f"  - fft_ae: no files for 2022-05…2022-07 in {landing / 'fft_ae'} (no <YYYY-MM>/ folder in it "
        "holds a file named like " + " or ".join(fft_ae_patterns()) + ")",
        f"  - iod_file7: no release in {landing / 'iod_file7'} (no such folder)",
    ]


def test_a_feed_that_arrives_later_clears_its_absence(tmp_path):
    from orchestration.defs.experience.fft import FFT_AE

    conn = duckdb.connect()
    window = [date(2022, 5, 1), date(2022, 6, 1)]
    feed_absence.record(conn, FFT_AE, tmp_path, window, window, "feed_absent", "absent", "run-1")
    feed_absence.record(
        conn, FFT_AE, tmp_path, [date(2022, 7, 1)], [date(2022, 7, 1)], "feed_absent", "x", "run-2"
    )
    assert conn.execute("select count(*) from meta.feed_absence").fetchall() == [(3,)]
    feed_absence.record(conn, FFT_AE, tmp_path, window, [], "feed_absent", "", "run-3")  # May, June arrived
    assert conn.execute("select _period, run_id from meta.feed_absence").fetchall() == [
        (date(2022, 7, 1), "run-2")
    ]
    assert [a.months for a in feed_absence.of_run(conn, "run-2")] == [(date(2022, 7, 1),)]


def test_files_for_other_months_only_are_an_absence_for_the_run_s_window(tmp_path):
    """A CSU's older files are in the folder, none for this run's months: a gap, not a failure."""
    landing = _landing(tmp_path, practice_map_months=("2022-01", "2022-02"))
    warehouse = tmp_path / "warehouse.duckdb"
    with _environment(landing, warehouse, tmp_path / "reports"):
        result = _materialize(
            [gp_practice_map], warehouse, dg.DagsterInstance.ephemeral(), "2022-05", "2022-06"
        )
    assert result.success
    assert _query(warehouse, "select _period, kind, detail from meta.feed_absence") == [
        (
            month,
            "feed_absent",
            f"gp_practice_map: no files for 2022-05…2022-06 in {landing / 'gp_practice_map'} "
            "(it holds files for 2022-01…2022-02 only)",
        )
        for month in (date(2022, 5, 1), date(2022, 6, 1))
    ]
    assert not list(result.get_asset_check_evaluations())


def test_a_month_missing_among_months_that_arrived_still_fails_and_is_recorded(tmp_path):
    landing = _landing(tmp_path, practice_map_months=("2022-05", "2022-07"))
    warehouse = tmp_path / "warehouse.duckdb"
    with _environment(landing, warehouse, tmp_path / "reports"):
        instance = dg.DagsterInstance.ephemeral()
        result = _materialize([gp_practice_map, stand_in], warehouse, instance, "2022-05", "2022-07")
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failure.event_specific_data.error.cause.cls_name == "MissingSubmission"
    assert "no file for 2022-06" in failure.event_specific_data.error.cause.message
    assert _query(warehouse, "select _period, kind from meta.feed_absence") == [
        (date(2022, 6, 1), "missing_month")
    ]
    assert _query(warehouse, "select distinct _period from raw.gp_practice_map order by 1") == [
        (date(2022, 5, 1),),
        (date(2022, 7, 1),),
    ]
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        lines = absence_lines(feed_absence.of_run(conn, result.run_id))
    assert lines == [
        "\nMonths missing from feeds that otherwise arrived: 1 feed(s)",
        f"  - gp_practice_map: no file for 2022-06 in {landing / 'gp_practice_map'}, though 2 other "
        "month(s) of the run arrived; the load failed",
    ]


def test_a_snapshot_release_loaded_before_is_kept_when_the_folder_is_emptied(tmp_path):
    landing = _landing(tmp_path)
    warehouse = tmp_path / "warehouse.duckdb"
    with _environment(landing, warehouse, tmp_path / "reports"):
        instance = dg.DagsterInstance.ephemeral()
        assert _materialize([ods_epraccur], warehouse, instance, "2022-05", "2022-05").success
        shutil.rmtree(landing / "ods_epraccur")
        again = _materialize([ods_epraccur], warehouse, instance, "2022-05", "2022-05")
    assert again.success
    assert _query(warehouse, "select count(*) from meta.feed_absence") == [(0,)]
    assert _query(warehouse, "select count(*) > 0 from raw.ods_epraccur") == [(True,)]
    assert list(again.get_asset_check_evaluations())  # the release it holds is validated


# --- the gap report ----------------------------------------------------------------------------


def _report_warehouse(conn: duckdb.DuckDBPyConnection) -> None:
    """Three sub-ICB locations hold practices; 15F has a gap of its own, 02T none, and the FFT is
    absent everywhere. The dimension lists a fourth area (36J) the warehouse holds nothing for."""
    conn.execute("create schema marts; create schema meta")
    conn.execute(
        """
        create table marts.dim_sub_icb as select * from (values
            ('02T', true, '02T', 'NHS West Yorkshire ICB - 02T', 'QWO'),
            ('15F', true, '15F', 'NHS West Yorkshire ICB - 15F', 'QWO'),
            ('36J', true, '36J', 'NHS West Yorkshire ICB - 36J', 'QWO'),
            ('02N', false, '36J', 'NHS West Yorkshire ICB - 36J', 'QWO'),
            ('12F', true, '12F', 'NHS Cheshire and Merseyside ICB - 12F', 'QYG')
        ) as t(commissioner_code, is_current, sub_icb_location_code, sub_icb_location_name, icb_code)
        """
    )
    conn.execute(
        """
        create table marts.dim_practice as select * from (values
            ('B86001', '02T'), ('B86002', '02T'), ('B82001', '15F'), ('N81001', '12F'), ('Y0001', null)
        ) as t(practice_code, sub_icb_location_code)
        """
    )
    conn.execute(
        """
        create table marts.dq_gap_summary as
        select
            code as sub_icb_location_code, name as sub_icb_location_name, icb as icb_code,
            month::date as month, feed, gap_kind, org_code, severity,
            null::double as expected_records_absent, affected_outputs, message
        from (values
            ('15F', 'NHS West Yorkshire ICB - 15F', 'QWO', '2022-02-01', 'epd', 'unknown_organisation',
             'Y99999', 'warn', 'prescribing measures', 'Practice Y99999 is not in the practice map.'),
            ('ENGLAND', null, null, '2022-05-01', 'fft_ae', 'feed_absent', 'fft_ae', 'error',
             'experience indicators',
             'Friends and Family Test (fft_ae): no files for 2022-05…2022-06 in /landing/fft_ae'),
            ('ENGLAND', null, null, '2022-06-01', 'fft_ae', 'feed_absent', 'fft_ae', 'error',
             'experience indicators',
             'Friends and Family Test (fft_ae): no files for 2022-05…2022-06 in /landing/fft_ae'),
            ('ENGLAND', null, null, '2022-05-01', 'iod_file7', 'feed_absent', 'iod_file7', 'error',
             'the marts built from iod_file7',
             'Indices of Deprivation (iod_file7): no release in /landing/iod_file7')
        ) as t(code, name, icb, month, feed, gap_kind, org_code, severity, affected_outputs, message)
        """
    )


def words(path: Path) -> str:
    return html.unescape(text(path.read_text()))


def test_every_area_the_warehouse_holds_gets_a_page_and_one_without_gaps_says_so(tmp_path):
    from orchestration.defs.data_quality.gap_report import render_gap_report

    conn = duckdb.connect()
    _report_warehouse(conn)
    written = render_gap_report(conn, tmp_path, "abcd1234, 2022-07-01T000000Z")
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == [
        "index.html",
        "sub_icb/02T.html",
        "sub_icb/12F.html",
        "sub_icb/15F.html",
    ]  # not 36J: the warehouse holds no practice there, and "no gaps" would be a false all-clear
    calderdale = words(tmp_path / "sub_icb" / "02T.html")
    assert "No gaps in this area's own data" in calderdale
    assert "The national gaps below still apply to it." in calderdale
    assert "no files for 2022-05…2022-06 in /landing/fft_ae" in calderdale  # listed under every area
    assert "No gaps in this area's own data" not in words(tmp_path / "sub_icb" / "15F.html")
    index = words(tmp_path / "index.html")
    assert "NHS West Yorkshire ICB - 02T 02T QWO 0 0 0" in index
    assert (
        "by trust — feed absent: the landing folder held no file of it for May 2022 to Jun 2022, so "
        "every area's figures built from it are missing or provisional." in index
    )
    assert (
        "English Indices of Deprivation, File 7 — feed absent: the landing folder held no release of it, "
        "so every area's figures for May 2022 built from it are missing or provisional." in index
    )


def test_without_practices_every_current_area_of_the_dimension_gets_a_page(tmp_path):
    from orchestration.defs.data_quality.gap_report import render_gap_report

    conn = duckdb.connect()
    _report_warehouse(conn)
    conn.execute("delete from marts.dim_practice")
    written = render_gap_report(conn, tmp_path, "no practices")
    assert sorted(p.name for p in written if p.parent.name == "sub_icb") == [
        "02T.html",
        "12F.html",
        "15F.html",
        "36J.html",
    ]


def test_the_gap_report_asset_names_the_run_once_in_its_header(tmp_path, monkeypatch):
    from orchestration.defs.data_quality.assets import gap_report

    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as conn:
        _report_warehouse(conn)
    monkeypatch.setenv("WAREHOUSE_PATH", str(warehouse))
    monkeypatch.setenv("REPORTS_DIR", str(tmp_path / "reports"))
    result = dg.materialize([gap_report], instance=dg.DagsterInstance.ephemeral())
    (index,) = (tmp_path / "reports" / "gap_report").glob("*/index.html")
    header = words(index)
    stamp = index.parent.name
    assert f"Run {result.run_id[:8]}, {stamp} · generated" in header
    assert "run run" not in header.lower()
    page = words(index.parent / "sub_icb" / "02T.html")
    assert f"· run {result.run_id[:8]}, {stamp}" in page and "run run" not in page.lower()
