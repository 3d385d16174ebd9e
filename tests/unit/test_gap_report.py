"""The gap report renders the dq_ tables as static pages a browser shows, and Data Docs build.

The pages are opened in headless Chromium (Debian's `chromium`; `make test` installs it) and the
assertions read the DOM Chromium built, so they test what a reader sees, not our strings.
"""

from __future__ import annotations

import re
import shutil
import time
from datetime import date
from html.parser import HTMLParser

import duckdb
import pytest

from orchestration.defs.data_quality.gap_report import MAX_HEATMAP_ORGS, render_gap_report
from tests.helpers import dump_dom, text


class Elements(HTMLParser):
    """Every element with its attributes and its own text, from a DOM dump."""

    def __init__(self, html: str):
        super().__init__()
        self.elements: list[dict] = []
        self._open: list[dict] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, **{k: v or "" for k, v in attrs}, "text": ""}
        self.elements.append(element)
        if tag not in {"meta", "link", "br", "img", "input"}:
            self._open.append(element)

    def handle_endtag(self, tag):
        while self._open:
            if self._open.pop()["tag"] == tag:
                break

    def handle_data(self, data):
        for element in self._open:
            element["text"] += data

    def find(self, tag: str, **attrs) -> list[dict]:
        return [e for e in self.elements if e["tag"] == tag and all(e.get(k) == v for k, v in attrs.items())]


# --- a warehouse with the dq_ tables in their contract shapes ---------------------------------


def fixture_warehouse() -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect()
    conn.execute("create schema marts; create schema meta")
    # hes_apc: three providers × four months. RXB is missing in March, RXC partial in February,
    # the April file as a whole arrived late. dq_dqmi is deliberately absent ("not built").
    conn.execute(
        """
        create table marts.dq_submission_coverage as
        with grid as (
            select provider, month::date as month
            from unnest(['RXA', 'RXB', 'RXC']) as p(provider),
                unnest(['2022-01-01', '2022-02-01', '2022-03-01', '2022-04-01']) as m(month)
        )
        select
            'hes_apc' as feed,
            'provider' as org_type,
            provider as org_code,
            month,
            case
                when provider = 'RXB' and month = date '2022-03-01' then 0
                when provider = 'RXC' and month = date '2022-02-01' then 120
                else 1000
            end::bigint as records,
            1000.0 as usual_records,
            records / usual_records as share_of_usual,
            case when records = 0 then 'missing' when records < 600 then 'partial' else 'present' end
                as status,
            case when records = 0 then 'no records from an organisation that submitted before'
                 when records < 600 then '120 records against a usual 1000' end as status_reason,
            null::timestamp as received_at,
            null::integer as lag_days,
            null::integer as usual_lag_days,
            null::varchar as schema_variant,
            null::boolean as schema_variant_changed
        from grid
        union all
        select 'hes_apc', 'file', 'hes_apc', month::date, 3000, 3000.0, 1.0,
            case when month = '2022-04-01' then 'late' else 'present' end,
            case when month = '2022-04-01' then 'file arrived 19 days after its usual day' end,
            case when month = '2022-04-01' then timestamp '2022-05-30 09:00' end,
            case when month = '2022-04-01' then 40 else 21 end, 21, 'v2', false
        from unnest(['2022-01-01', '2022-02-01', '2022-03-01', '2022-04-01']) as m(month)
        """
    )
    conn.execute(
        """
        create table marts.dq_gap_summary as
        select
            code as sub_icb_location_code, name as sub_icb_location_name, icb as icb_code,
            month::date as month, feed, gap_kind, org_code, severity,
            absent::double as expected_records_absent, affected_outputs, message
        from (values
            ('02T', 'NHS West Yorkshire ICB - 02T', 'QWO', '2022-03-01', 'hes_apc', 'missing_submission',
             'RXB', 'error', 1000, 'fct_admissions, emergency admission rate',
             'Calderdale and Huddersfield (RXB) sent no admitted patient care records for March 2022.'),
            ('02T', 'NHS West Yorkshire ICB - 02T', 'QWO', '2022-02-01', 'hes_apc', 'partial_submission',
             'RXC', 'warn', 880, 'fct_admissions', 'RXC sent 120 records against a usual 1,000.'),
            ('15F', 'NHS West Yorkshire ICB - 15F', 'QWO', '2022-02-01', 'epd', 'unknown_organisation',
             'Y99999', 'warn', null, 'prescribing measures', 'Practice Y99999 is not in the practice map.'),
            ('ENGLAND', 'England', null, '2022-04-01', 'hes_apc', 'late_file', 'hes_apc', 'warn', null,
             'every admissions output', 'The April 2022 HES APC file arrived 19 days late.')
        ) as t(code, name, icb, month, feed, gap_kind, org_code, severity, absent, affected_outputs, message)
        """
    )
    conn.execute(
        """
        create table marts.dq_item_completeness as
        select 'hes_apc' as feed, 'RXA' as provider_code, date '2022-01-01' as month,
            'registered_gp_practice' as data_item, 'GPPRAC' as source_column, 1000 as records,
            900 as complete_records, 850 as valid_and_complete_records, 60 as default_records,
            0.02 as default_threshold, 40 as defaults_in_excess, 81.0 as item_score,
            true as is_in_extract, 'low' as status, 'defaults above 2%' as status_reason
        """
    )
    conn.execute(
        """
        create table marts.dq_attribution_gap as
        select 'epd' as feed, 'practice' as org_type, 'Y99999' as org_code, date '2022-02-01' as month,
            'unknown_practice' as reason, 50 as records, 50 as unattributed_records,
            1.0 as unattributed_share, true as is_material, 'not in the practice map' as detail
        """
    )
    conn.execute(
        """
        create table meta.validation_result as
        select * from (values
            ('gp_registered_patients', 'gp_registered_patients__continuity', 'continuity', 'warn', false,
             2400::bigint, 3, 1, 1::bigint,
             '[warn] expect_column_values_to_be_true on present: 1 unexpected (e.g. [False])',
             date '2022-03-01', date '2022-03-01', timestamp '2022-04-02 10:00'),
            ('hes_apc', 'hes_apc__structure', 'structure', 'error', true, 3000::bigint, 8, 0, 0::bigint,
             null, date '2022-03-01', date '2022-03-01', timestamp '2022-04-02 10:00')
        ) as t(feed, suite, check_name, severity, passed, rows_validated, expectations_evaluated,
               expectations_failed, unexpected_rows, failures, period_start, period_end, validated_at)
        """
    )
    return conn


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("gap_report")
    conn = fixture_warehouse()
    written = render_gap_report(conn, out, "2022-04 test run")
    conn.close()
    return out, written


def test_the_report_writes_an_england_page_and_one_page_per_sub_icb(report):
    out, written = report
    assert sorted(p.relative_to(out).as_posix() for p in written) == [
        "index.html",
        "sub_icb/02T.html",
        "sub_icb/15F.html",
    ]


def test_the_england_page_shows_the_gaps_in_the_heatmap_with_their_status(report):
    out, _ = report
    started = time.monotonic()
    dom = dump_dom(out / "index.html")
    seconds = time.monotonic() - started
    page = Elements(dom)
    cells = {e["title"].split(":")[0]: e for e in page.find("td") if e.get("class", "").startswith("s-")}
    missing = cells["RXB Mar 2022"]
    assert (missing["class"], missing["text"]) == ("s-missing", "M")
    assert "missing; no records from an organisation that submitted before; 0 records" in missing["title"]
    partial = cells["RXC Feb 2022"]
    assert (partial["class"], partial["text"]) == ("s-partial", "P")
    assert "120 records (usual 1,000)" in partial["title"]
    late = cells["hes_apc Apr 2022"]
    assert (late["class"], late["text"]) == ("s-late", "L")
    assert sum(1 for c in cells.values() if c["class"] == "s-present") == 3 + 3 + 3
    # The file row, then organisations with gaps; RXA submitted every month and is only counted.
    rows = [e["text"] for e in page.find("td", **{"class": "org"})]
    assert rows == ["whole file", "RXB", "RXC"]
    assert "1 other provider submitted every expected month (not drawn)." in text(dom)
    assert seconds < 60


def test_the_england_page_lists_what_cannot_be_trusted_and_the_failed_check(report):
    out, _ = report
    page = Elements(dump_dom(out / "index.html"))
    (box,) = [e for e in page.find("section") if e.get("id") == "untrusted"]
    assert "missing submission: 1 gap" in box["text"]
    assert "Affects: emergency admission rate, fct_admissions." in box["text"]
    (checks,) = page.find("table", **{"class": "checks"})
    assert "gp_registered_patients__continuity" in checks["text"]
    assert "expect_column_values_to_be_true on present" in checks["text"]
    assert "hes_apc__structure" not in checks["text"]  # it passed
    body = " ".join(e["text"] for e in page.find("li"))
    assert "marts.dq_dqmi: not built" in re.sub(r"\s+", " ", body)


def test_links_to_the_sub_icb_pages_resolve_on_disk(report):
    out, _ = report
    page = Elements(dump_dom(out / "index.html"))
    links = [a["href"] for a in page.find("a") if a.get("href", "").startswith("sub_icb/")]
    assert links == ["sub_icb/02T.html", "sub_icb/15F.html"]
    assert all((out / link).is_file() for link in links)
    anchors = {a["href"][1:] for a in page.find("a") if a.get("href", "").startswith("#")}
    assert anchors and anchors <= {e["id"] for e in page.elements if e.get("id")}


def test_a_sub_icb_page_shows_its_gaps_messages_and_the_national_gaps(report):
    out, _ = report
    dom = dump_dom(out / "sub_icb" / "02T.html")
    page = Elements(dom)
    words = text(dom)
    assert "Data gaps: NHS West Yorkshire ICB - 02T" in words
    assert "Calderdale and Huddersfield (RXB) sent no admitted patient care records for March 2022." in words
    assert "RXC sent 120 records against a usual 1,000." in words
    assert "Y99999" not in words  # 15F's gap stays on 15F's page
    assert "The April 2022 HES APC file arrived 19 days late." in words  # national: every area
    (box,) = [e for e in page.find("section") if e.get("id") == "untrusted"]
    assert "missing submission: 1 gap (1 organisation, 1 sub-ICB location, Mar 2022" in box["text"]
    (home,) = [a["href"] for a in page.find("a") if a["text"] == "England summary"]
    assert (out / "sub_icb" / home).resolve() == (out / "index.html").resolve()


def test_missing_tables_are_reported_as_not_built_without_failing(tmp_path):
    conn = duckdb.connect()
    written = render_gap_report(conn, tmp_path, "empty warehouse")
    assert written == [tmp_path / "index.html"]
    words = text(dump_dom(tmp_path / "index.html"))
    assert "The gap summary (marts.dq_gap_summary) has not been built" in words
    assert words.count("does not exist in this warehouse yet") == 7  # every section's table


def test_the_heatmap_keeps_the_worst_organisations_when_there_are_too_many(tmp_path):
    conn = duckdb.connect()
    conn.execute("create schema marts")
    # 180 practices over two months: every second one misses January, every sixth February too.
    conn.execute(
        f"""
        create table marts.dq_submission_coverage as
        select 'epd' as feed, 'practice' as org_type, printf('P%05d', i) as org_code,
            month, 10 as records, 10.0 as usual_records,
            case when i % 2 = 0 and (month = date '2022-01-01' or i % 6 = 0) then 'missing'
                 else 'present' end as status,
            null::varchar as status_reason
        from range({MAX_HEATMAP_ORGS * 3}) as t(i),
            unnest([date '2022-01-01', date '2022-02-01']) as m(month)
        """
    )
    render_gap_report(conn, tmp_path, "many practices")
    html = (tmp_path / "index.html").read_text()
    shown = [e["text"] for e in Elements(html).find("td", **{"class": "org"})]
    twice = [f"P{i:05d}" for i in range(0, MAX_HEATMAP_ORGS * 3, 6)]
    once = [f"P{i:05d}" for i in range(0, MAX_HEATMAP_ORGS * 3, 2) if i % 6]
    assert shown == (twice + once)[:MAX_HEATMAP_ORGS]
    words = text(html)
    assert f"Showing the {MAX_HEATMAP_ORGS} practices with the most gaps of the 90 that have one" in words
    assert "90 other practices submitted every expected month (not drawn)." in words


def test_html_in_the_data_is_escaped(tmp_path):
    conn = fixture_warehouse()
    conn.execute(
        "update marts.dq_gap_summary set message = '<script>alert(1)</script>' where org_code = 'RXB'"
    )
    render_gap_report(conn, tmp_path, "<b>run</b>")
    page = (tmp_path / "sub_icb" / "02T.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;run&lt;/b&gt;" in page


# --- GX Data Docs -------------------------------------------------------------------------------


def test_data_docs_build_from_a_real_suite_run_and_the_report_links_them(tmp_path):
    from orchestration.defs.reference.feeds import GP_PRACTICE_MAP
    from orchestration.lib import data_docs, validation
    from orchestration.lib.loader import load_period
    from tests.helpers import sample_text, write

    conn = duckdb.connect()
    csv = write(tmp_path / "in" / "gp-reg-pat-prac-map.csv", sample_text(GP_PRACTICE_MAP.name, "2021-01"))
    load_period(conn, GP_PRACTICE_MAP, date(2021, 2, 1), [csv])  # landed in the wrong month
    (suite,) = [s for s in validation.suite_files(GP_PRACTICE_MAP.name) if s.name.endswith("structure")]
    outcome = validation.run_suite(conn, suite, date(2021, 2, 1), date(2021, 2, 1))
    assert not outcome.passed and outcome.gx_result is not None

    docs = tmp_path / "docs"
    (stored,) = data_docs.store([outcome], docs, run_name="2021-02")
    assert stored.is_relative_to(docs / "results" / suite.name / "2021-02")
    index = data_docs.build(docs)
    assert index == docs / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"

    # The index lists its runs with CDN JavaScript; offline its DOM still carries the suite's links.
    assert f"validations/{suite.name}/2021-02/" in dump_dom(index)
    (page,) = data_docs.validation_pages(index).values()
    words = text(dump_dom(page))
    assert f"Expectation Suite: {suite.name}" in words
    assert "Run Name 2021-02" in words
    # the wrong month, and (warn) the sample's two practices outside a PCN
    assert "Status: Failed" in words and "Unsuccessful Expectations 2" in words

    # A second run is kept beside the first; building again keeps both.
    data_docs.store([outcome], docs, run_name="2021-03")
    data_docs.build(docs)
    assert len(list((index.parent / "validations" / suite.name).glob("*/*/*.html"))) == 2

    # The gap report links the Data Docs and each failed check to its suite's latest page.
    warehouse = fixture_warehouse()
    warehouse.execute("update meta.validation_result set suite = ?, passed = false", [suite.name])
    out = tmp_path / "report"
    render_gap_report(warehouse, out, "with docs", data_docs_index=index)
    report_page = Elements(dump_dom(out / "index.html"))
    hrefs = {a["text"].strip(): a["href"] for a in report_page.find("a")}
    assert (out / hrefs["Great Expectations Data Docs"]).resolve() == index.resolve()
    suite_page = (out / hrefs[suite.name]).resolve()
    assert suite_page.is_file() and "/2021-03/" in suite_page.as_posix()
    shutil.rmtree(docs)
