"""`make run` on a landing folder holding only some feeds: the run succeeds, builds the marts and
reports every other feed as absent, in the closing summary, the data-gap marts and the gap report.

Three months (May to July 2022) of admitted care, list sizes and the practice map, and every ODS
release, copied from the shipped sample; the other fifteen feeds are not there at all.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from datetime import date

import duckdb
import pytest

from tests.helpers import SAMPLE, run_all, run_all_env, text

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("absent_feeds")]  # its own run: one worker

HELD_MONTHLY = ("hes_apc", "gp_registered_patients", "gp_practice_map")
HELD_SNAPSHOTS = ("ods_epraccur", "ods_eccg")
MONTHS = ("2022-05", "2022-06", "2022-07")


@pytest.fixture(scope="module")
def partial_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("partial")
    landing = root / "landing"
    for feed in HELD_MONTHLY:
        for month in MONTHS:
            shutil.copytree(SAMPLE / feed / month, landing / feed / month)
    for feed in HELD_SNAPSHOTS:
        shutil.copytree(SAMPLE / feed, landing / feed)
    result = run_all(run_all_env(root, landing))
    return root, landing, result


def _absent_feeds() -> dict[str, str]:
    from orchestration.definitions import ALL_FEEDS

    return {
        spec.name: spec.cadence for spec in ALL_FEEDS if spec.name not in (*HELD_MONTHLY, *HELD_SNAPSHOTS)
    }


def test_a_landing_folder_of_some_feeds_runs_builds_the_marts_and_reports_the_others(partial_run):
    root, landing, result = partial_run
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-4000:]
    out = result.stdout
    absent = _absent_feeds()
    assert len(absent) == 17
    assert f"Feeds absent: {len(absent)} (a data gap, not a failure" in out
    for feed, cadence in absent.items():
        expected = (
            f"  - {feed}: no files for 2022-05…2022-07 in {landing / feed} (no such folder)"
            if cadence == "monthly"
            else f"  - {feed}: no release in {landing / feed} (no such folder)"
        )
        assert out.count(expected + "\n") == 1, expected
    assert re.search(r"Checks: \d+ passed, \d+ failed, \d+ not run", out)
    assert "Published release" in out
    # an absent feed's freshness is a warning naming the gap, never an error-level outage
    for feed in absent:
        if feed != "iod_file7":  # irregular: no freshness check
            assert f"  ✗ raw/{feed}:freshness (warn)" in out, feed
            assert f"  ✗ raw/{feed}:freshness (error)" not in out, feed

    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as conn:
        gaps = conn.execute(
            "select feed, count(*), min(month), max(month), bool_and(sub_icb_location_code = 'ENGLAND'), "
            "bool_and(severity = 'error'), any_value(message) "
            "from marts.dq_gap_summary where gap_kind = 'feed_absent' group by feed"
        ).fetchall()
        assert {row[0] for row in gaps} == set(absent)
        for feed, rows, first, last, national, error, message in gaps:
            assert (rows, first, last, national, error) == (3, date(2022, 5, 1), date(2022, 7, 1), True, True)
            where = f"in {landing / feed}"
            assert (
                f"no files for 2022-05…2022-07 {where}"
                if absent[feed] == "monthly"
                else f"no release {where}"
            ) in message
        missing = conn.execute(
            "select feed, count(*) from marts.dq_submission_coverage "
            "where org_type = 'file' and status = 'missing' and feed = 'fft_ae' group by feed"
        ).fetchall()
        assert missing == [("fft_ae", 3)]
        assert conn.execute("select count(*) from raw.fft_ae").fetchone() == (0,)
        # The marts build on what there is, and say what they lack: admitted care is costed at
        # the national tariff, which is absent.
        settings = conn.execute(
            "select setting, count(*), bool_and(is_provisional), "
            "bool_and(data_gap_note like '%feed absent (tariff_apc_prices)%') "
            "from marts.mart_commissioning_summary group by setting"
        ).fetchall()
        assert [(s, n > 0, p, note) for s, n, p, note in settings] == [("admitted_care", True, True, True)]


def test_every_sample_area_has_a_gap_report_page(partial_run):
    root, _, result = partial_run
    assert result.returncode == 0
    reports = root / "reports" / "gap_report"
    (target,) = re.findall(r'url=([^"]+)"', (reports / "latest.html").read_text())
    index = reports / target
    areas = set(json.loads((SAMPLE / "_manifest.json").read_text())["sub_icb_locations"])
    assert {p.stem for p in (index.parent / "sub_icb").glob("*.html")} == areas
    words = html.unescape(text(index.read_text()))
    assert "Run run" not in words
    assert "feed absent: the landing folder held no file of it for May 2022 to Jul 2022" in words
    quiet = [
        code
        for code in areas
        if "No gaps in this area's own data"
        in html.unescape(text((index.parent / "sub_icb" / f"{code}.html").read_text()))
    ]
    assert quiet  # areas without a gap of their own say so (02T, Calderdale, in this build)
