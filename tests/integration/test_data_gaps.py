"""Proof that the data-gap checks work: the generator plants known gaps and writes them to
`_manifest.json`; the whole sample goes through the pipeline (`make run`'s entry point) and every
planted gap must be found by the mart meant to find it (recall), while nothing else is flagged
(precision). The figures are printed by kind (`pytest -s`) and kept beside the test's warehouse.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest

from tests.helpers import SAMPLE, dump_dom, text

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("sample")]  # one worker: conftest.py

# The issue's kinds, and the generator's planted kinds under each.
KINDS = {
    "missing month": ("missing_provider_month", "missing_practice_month", "fft_missing_trust_month"),
    "late file": ("late_file",),
    "partial submission": ("partial_submission",),
    "default codes": ("default_code",),
    "unknown organisation": (
        "unknown_practice",
        "unknown_commissioner_code",
        "orphan_practice",
        "lsoa_without_commissioner",
    ),
    "renamed column variant": ("renamed_column_variant",),
    "list size step": ("list_size_step",),
    "missing field": ("missing_field",),
}

# Layout changes that the publishers really made and the generator reproduces: flagged (info),
# not planted. The list-size file's return to its usual layout after the planted month is the
# planted change's other edge.
REAL_LAYOUT_CHANGES = {
    ("epd", "2022-07"),  # EPD: STP columns become ICB columns (July 2022)
    ("gp_practice_map", "2022-07"),  # CCG columns become sub-ICB columns
    ("gpps_practice_results", "2022-07"),  # GPPS 2022 mixed-case ICS layout
    ("ncc_org_unit_costs", "2021-04"),  # NCC: a different layout each collection year
    ("ncc_org_unit_costs", "2022-04"),
    ("iod_file7", "2025-10"),  # IoD 2025 after IoD 2019
    ("gp_registered_patients", "2022-11"),  # back to the usual layout after the planted month
}

DETECTIONS = """
select 'coverage_' || status as check, feed, org_code, strftime(month, '%Y-%m') as period, '' as detail
from marts.dq_submission_coverage where status in ('missing', 'late', 'partial', 'zero')
union all
select 'layout_change', feed, '', strftime(month, '%Y-%m'), ''
from marts.dq_submission_coverage where schema_variant_changed
union all
select 'volume_anomaly', feed, org_code, strftime(month, '%Y-%m'), ''
from marts.dq_volume_anomaly where not is_explained
union all
select 'attribution_' || reason, feed, org_code, strftime(month, '%Y-%m'), detail
from marts.dq_attribution_gap where is_material
union all
select 'item_' || status || '_' || data_item, feed, provider_code, strftime(month, '%Y-%m'), ''
from marts.dq_item_completeness where status != 'ok'
"""


def _found(gap: dict, detections: list[tuple[str, ...]], suites: list[tuple[str, str]]) -> bool:
    """Is the planted gap among the detections (same feed, organisation, period)?"""
    kind, feed, org, period = gap["kind"], gap["feed"], gap["org_code"], gap["period"]
    for check, d_feed, d_org, d_period, _ in detections:
        same_period = period == "all" or d_period == period
        if d_feed != feed or not same_period:
            continue
        if kind == "missing_field":
            if check.startswith("item_not_in_extract"):
                return True
        elif kind == "renamed_column_variant":
            if check == "layout_change":
                return True
        elif kind == "late_file":
            if check == "coverage_late":
                return True
        elif d_org == org:
            return True
    # codes a check lists rather than counts (PCN_CODE U in the practice map)
    return any(feed == s_feed and org in failures for s_feed, failures in suites)


@pytest.fixture(scope="module")
def judged(sample_warehouse: Path):
    manifest = json.loads((SAMPLE / "_manifest.json").read_text())
    with duckdb.connect(str(sample_warehouse), read_only=True) as conn:
        detections = conn.execute(DETECTIONS).fetchall()
        suites = conn.execute("select feed, failures from meta.validation_result where not passed").fetchall()
    return manifest["gaps"], detections, suites


def test_every_planted_gap_of_the_issues_kinds_is_found(judged, sample_warehouse):
    gaps, detections, suites = judged
    recall: dict[str, tuple[int, int]] = {}
    missed = []
    for name, kinds in KINDS.items():
        planted = [g for g in gaps if g["kind"] in kinds]
        found = [g for g in planted if _found(g, detections, suites)]
        missed += [g for g in planted if g not in found]
        recall[name] = (len(found), len(planted))
    (sample_warehouse.parent / "recall.json").write_text(json.dumps(recall, indent=1))
    print("\nrecall by kind:", {k: f"{f}/{p}" for k, (f, p) in recall.items()})
    assert all(planted > 0 for _, planted in recall.values()), recall
    assert missed == []


def test_no_clean_organisation_is_flagged(judged):
    """Precision: every detection is a planted gap (of any kind: a trust with a planted small
    FFT count is rightly partial), a real publisher layout change, or activity that the planted
    unknown commissioner code (Z9Z) left unattributed that month."""
    gaps, detections, _ = judged
    planted = {(g["feed"], g["org_code"], g["period"]) for g in gaps}
    planted_files = {(g["feed"], g["period"]) for g in gaps}
    # the planted commissioner code no crosswalk knows (Z9Z), and its month
    unknown_codes = {
        (g["period"], re.search(r"commissioner code (\w+)", g["detail"])[1])
        for g in gaps
        if g["kind"] == "unknown_commissioner_code"
    }
    by_check: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    false_alarms = []
    for check, feed, org, period, detail in detections:
        by_check[check].append((feed, org, period))
        if check == "layout_change":
            ok = (feed, period) in planted_files or (feed, period) in REAL_LAYOUT_CHANGES
        elif org == feed or check.startswith("item_not_in_extract"):  # a whole file or extract
            ok = (feed, period) in planted_files
        elif check == "attribution_unknown_commissioner_code" and any(
            period == month and f"({code})" in detail for month, code in unknown_codes
        ):
            ok = True  # activity the planted code left unattributed, named by the check
        else:
            ok = (feed, org, period) in planted or (feed, org, "all") in planted
        if not ok:
            false_alarms.append((check, feed, org, period))
    print("\ndetections by check:", {k: len(v) for k, v in sorted(by_check.items())})
    assert false_alarms == []


def test_the_gap_summary_says_what_cannot_be_trusted_per_area(sample_warehouse):
    with duckdb.connect(str(sample_warehouse), read_only=True) as conn:
        rows = conn.execute(
            "select sub_icb_location_code, gap_kind, severity, round(expected_records_absent), message "
            "from marts.dq_gap_summary where feed = 'hes_apc' and org_code = 'RA0' and month = '2022-07-01'"
        ).fetchall()
        note = conn.execute(
            "select data_gap_note from marts.mart_commissioning_summary "
            "where area_level = 'sub_icb_location' and area_code = ? and month = '2022-07-01' "
            "and setting = 'admitted_care' limit 1",
            [rows[0][0]],
        ).fetchall()[0][0]
    (_, kind, severity, absent, message) = rows[0]
    assert (kind, severity) == ("missing_submission", "error")
    assert absent > 50  # the trust's usual ~90 sampled episodes a month, for the area it serves
    assert message.startswith(
        "Hospital Episode Statistics admitted patient care (record level) "
        "for provider RA0 in 2022-07: missing; "
    )
    assert "expected episodes absent" in message
    assert "missing submission (hes_apc RA0)" in note and note.startswith("Provisional")


def test_the_run_writes_a_gap_report_a_browser_shows(sample_warehouse):
    """`make run` ends with the gap report: latest.html leads to the run's page, which names the
    planted missing submissions in its heat-map and links a page per sub-ICB location."""
    reports = sample_warehouse.parent / "reports"
    latest = (reports / "gap_report" / "latest.html").read_text()
    (target,) = re.findall(r'url=([^"]+)"', latest)
    index = reports / "gap_report" / target
    page = text(dump_dom(index))
    assert "What cannot be trusted" in page
    assert "RA0" in page and "L81014" in page and "B83005" in page
    with duckdb.connect(str(sample_warehouse), read_only=True) as conn:
        areas = {
            code
            for (code,) in conn.execute(
                "select distinct sub_icb_location_code from marts.dq_gap_summary "
                "where sub_icb_location_code != 'ENGLAND'"
            ).fetchall()
        }
    pages = {p.stem for p in (index.parent / "sub_icb").glob("*.html")}
    assert areas <= pages
    area_page = text(dump_dom(index.parent / "sub_icb" / "06Q.html"))
    assert "provider RA0 in 2022-07: missing" in area_page
    assert (
        reports / "data_docs" / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    ).is_file()
