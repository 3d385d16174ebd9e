"""The commissioning pack of the whole sample's release, opened in headless Chromium (Debian's;
`make test` installs it) with every request outside the pack folder refused.

The England page, one ICB and two sub-ICB pages: no console error, no request leaving the folder,
every chart drawn, the marks each chart should have counted from the release's marts (queried
here, not taken from the pack), the spine's colours equal to the mart's comparison with England,
no sheet cut off, and a PDF with one page per sheet. Screenshots of two pages go to
tests/output/pack/.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.pack import pdf
from orchestration.pack.charts import SIGNIFICANCE_COLOURS
from orchestration.pack.pages import CHARTS_PER_SHEET, MEASURES_PER_SHEET, PROGRAMMES, SPINE_ROWS_PER_SHEET
from orchestration.release.store import RELEASE_CATALOG, ReleaseStore
from tests.helpers import REPO_ROOT, run_all_env

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("sample")]
OUTPUT = REPO_ROOT / "tests" / "output" / "pack"
SCREENSHOTS = {"index.html", "sub_icb/02T.html"}

# What the browser reports of a page: every chart's drawn marks and the spine's circles.
DOM_PROBE = """() => {
  const charts = [...document.querySelectorAll('[data-chart]')].map(el => ({
    index: Number(el.dataset.chart),
    sheet: el.closest('section').className,
    svg: el.querySelectorAll('svg').length,
    symbols: el.querySelectorAll('g.mark-symbol path').length,
    rects: el.querySelectorAll('g.mark-rect path').length,
    lines: el.querySelectorAll('g.mark-line path').length,
    spine: [...el.querySelectorAll('g.mark-symbol path')]
      .map(p => [p.getAttribute('aria-label'), p.getAttribute('fill')]),
  }));
  const sheets = [...document.querySelectorAll('section.sheet')].map(s => ({
    kind: s.className, overflow: s.scrollHeight - s.clientHeight, wide: s.scrollWidth - s.clientWidth}));
  return {charts, sheets, rendered: document.body.dataset.rendered, failed: document.body.dataset.failed};
}"""


@pytest.fixture(scope="module")
def pack(sample_warehouse) -> tuple[Path, dict, duckdb.DuckDBPyConnection]:
    root = sample_warehouse.parent
    store = ReleaseStore(root / "published")
    folder = root / "reports" / "pack" / store.current_id()
    conn = duckdb.connect(str(store.current_dir() / RELEASE_CATALOG), read_only=True)
    yield folder, json.loads((folder / "pack.json").read_text()), conn
    conn.close()


@pytest.fixture(scope="module")
def opened(pack, tmp_path_factory) -> dict[str, dict]:
    """The four pages opened (and printed) in Chromium: what the DOM probe saw, per page."""
    folder, manifest, _ = pack
    icb = next(p["path"] for p in manifest["pages"] if p["level"] == "icb" and p["code"] == "QWO")
    pages = ["index.html", icb, "sub_icb/02T.html", "sub_icb/D2P2L.html"]
    seen: dict[str, dict] = {}
    OUTPUT.mkdir(parents=True, exist_ok=True)

    async def probe(page, report):
        seen[report.path] = await page.evaluate(DOM_PROBE)
        if report.path in SCREENSHOTS:
            await page.set_viewport_size({"width": 1280, "height": 900})
            await page.screenshot(path=str(OUTPUT / (report.path.replace("/", "_") + ".png")), full_page=True)

    out = tmp_path_factory.mktemp("pack_pdf")
    reports = pdf.print_pages(folder, pages, out, inspect=probe)
    for report in reports:
        seen[report.path]["report"] = report
        seen[report.path]["pdf_pages"] = _pdf_page_count(Path(report.pdf))
    return seen


def _pdf_page_count(path: Path) -> int:
    data = path.read_bytes()
    return len(re.findall(rb"/Type\s*/Page[^s]", data))


def test_the_pack_has_a_page_for_england_every_icb_and_every_sub_icb_location(pack):
    folder, manifest, conn = pack
    icbs = conn.execute(
        "select count(distinct area_code) from marts.mart_commissioning_summary where area_level = 'icb' "
        "and area_code in (select icb_code from marts.dim_icb)"
    ).fetchone()[0]
    subs = conn.execute(
        "select count(distinct area_code) from marts.mart_commissioning_summary "
        "where area_level = 'sub_icb_location' "
        "and area_code in (select sub_icb_location_code from marts.dim_sub_icb where is_current)"
    ).fetchone()[0]
    levels = [p["level"] for p in manifest["pages"]]
    assert (levels.count("england"), levels.count("icb"), levels.count("sub_icb_location")) == (1, icbs, subs)
    assert subs == 13 and icbs >= 9
    for page in manifest["pages"]:
        assert (folder / page["path"]).is_file()
    # make run printed a PDF of every page, named after it.
    assert sorted(p.name for p in (folder / "pdf").iterdir()) == sorted(
        pdf.pdf_name(p["path"]) for p in manifest["pages"]
    )
    release_id = conn.execute("select release_id from main.release").fetchone()[0]
    assert manifest["release_id"] == release_id
    assert release_id in (folder / "index.html").read_text()
    assert (folder.parent / "latest.html").read_text().count(f"{release_id}/index.html") == 2


def test_pages_open_offline_with_no_error_and_every_chart_drawn(opened, pack):
    folder, _, _ = pack
    for path, seen in opened.items():
        report = seen["report"]
        assert report.console_errors == [] and report.blocked_requests == [], path
        specs = json.loads(
            re.search(r'id="pack-specs">(.*?)</script>', (folder / path).read_text(), re.S).group(1)
        )
        assert len(seen["charts"]) == len(specs) > 20, path
        assert seen["rendered"] == str(len(specs)) and seen["failed"] == "", path
        assert all(chart["svg"] == 1 for chart in seen["charts"]), path
        # Only the pack's own files were loaded: no URL outside the folder anywhere in the page.
        assert not re.search(r'(src|href)="(https?:)?//', (folder / path).read_text()), path


def test_no_sheet_is_cut_off_and_the_pdf_has_one_page_per_sheet(opened):
    for path, seen in opened.items():
        assert [s["kind"] for s in seen["sheets"] if s["overflow"] > 0 or s["wide"] > 0] == [], path
        assert seen["pdf_pages"] == len(seen["sheets"]), path


def test_the_sheets_a_sub_icb_page_should_have_from_the_marts(opened, pack):
    _, _, conn = pack
    latest = conn.execute(
        """select indicator_id, value from marts.mart_ois_indicator
        where area_level = 'sub_icb_location' and area_code = '02T'
        qualify row_number() over (partition by indicator_id order by period_start desc) = 1"""
    ).fetchall()
    with_value = [i for i, v in latest if v is not None]
    funnels = conn.execute(
        """with latest as (
            select indicator_id, period from marts.mart_ois_indicator
            where area_level = 'sub_icb_location' and area_code = '02T'
            qualify row_number() over (partition by indicator_id order by period_start desc) = 1)
        select count(*) from marts.mart_ois_funnel as f inner join latest using (indicator_id, period)
        where f.area_level = 'sub_icb_location' and f.value is not null and f.plot_denominator > 0
        group by f.indicator_id having bool_or(f.area_code = '02T')"""
    ).fetchall()
    trends = conn.execute(
        """select count(distinct indicator_id) from marts.mart_ois_indicator
        where area_level = 'sub_icb_location' and area_code = '02T' and value is not null"""
    ).fetchone()[0]
    measures = conn.execute(
        "select count(distinct measure_id) from marts.fct_prescribing_measure_deciles"
    ).fetchone()[0]
    expected = (
        1  # summary
        + math.ceil(len(latest) / SPINE_ROWS_PER_SHEET)
        + math.ceil(len(funnels) / CHARTS_PER_SHEET)
        + math.ceil(trends / CHARTS_PER_SHEET)
        + 1  # peers and opportunity
        + 2  # money, top services
        + len(PROGRAMMES)
        + math.ceil(measures / MEASURES_PER_SHEET)
        + 1  # data gaps
    )
    seen = opened["sub_icb/02T.html"]
    assert len(seen["sheets"]) == expected
    charts = seen["charts"]
    spine = [c for c in charts if "sheet-spine" in c["sheet"]]
    assert sum(c["symbols"] for c in spine) == len(with_value)
    funnel = [c for c in charts if "sheet-funnel" in c["sheet"]]
    assert sorted(c["symbols"] for c in funnel) == sorted(n for (n,) in funnels)
    deciles = [c for c in charts if "sheet-prescribing" in c["sheet"]]
    assert len(deciles) == measures and all(c["lines"] == 10 for c in deciles)  # 9 deciles and the area
    top = conn.execute(
        """select count(*) from marts.mart_top_services
        where area_level = 'sub_icb_location' and area_code = '02T'
        and spend_rank <= 20 and financial_year_start = (
            select max(financial_year_start) from marts.mart_top_services
            where area_level = 'sub_icb_location' and area_code = '02T')"""
    ).fetchone()[0]
    top_chart = next(c for c in charts if "sheet-top_services" in c["sheet"])
    assert top_chart["rects"] == top == 20


@pytest.mark.parametrize(
    "path,level,code",
    [("sub_icb/02T.html", "sub_icb_location", "02T"), ("sub_icb/D2P2L.html", "sub_icb_location", "D2P2L")],
)
def test_the_spine_colours_are_the_marts_comparison_with_england(opened, pack, path, level, code):
    _, _, conn = pack
    rows = conn.execute(
        """select indicator_title, compared_to_england from marts.mart_ois_indicator
        where area_level = ? and area_code = ? and value is not null
        qualify row_number() over (partition by indicator_id order by period_start desc) = 1""",
        [level, code],
    ).fetchall()
    # Compare on what the chart shows, including the latest period that has no value.
    latest = dict(
        conn.execute(
            """select indicator_title, value from marts.mart_ois_indicator
            where area_level = ? and area_code = ?
            qualify row_number() over (partition by indicator_id order by period_start desc) = 1""",
            [level, code],
        ).fetchall()
    )
    expected = {
        title: SIGNIFICANCE_COLOURS[compared] for title, compared in rows if latest[title] is not None
    }
    drawn = {}
    for chart in opened[path]["charts"]:
        for label, fill in chart["spine"] if "sheet-spine" in chart["sheet"] else []:
            shown = re.search(r"label: (?:[\d.]+ )?(.*?); compared: ([^;]+)", label)
            drawn[shown.group(1)] = (fill.upper(), shown.group(2))
    assert len(drawn) == len(expected) > 5
    for title, colour in expected.items():
        key = next(k for k in drawn if title.startswith(k.rstrip("…")))
        assert drawn[key][0] == colour.upper(), title
    assert {c for _, c in drawn.values()} <= set(SIGNIFICANCE_COLOURS)


def test_screenshots_of_two_pages_are_in_the_test_output_folder(opened):
    for name in SCREENSHOTS:
        shot = OUTPUT / (name.replace("/", "_") + ".png")
        assert shot.stat().st_size > 50_000 and shot.read_bytes()[:4] == b"\x89PNG"


def test_a_page_with_a_request_leaving_the_folder_is_refused_and_named(pack, tmp_path):
    folder, _, _ = pack
    bad = tmp_path / "pack"
    shutil.copytree(folder, bad, ignore=shutil.ignore_patterns("pdf"))
    page = bad / "sub_icb" / "02T.html"
    page.write_text(page.read_text().replace("</body>", '<img src="https://example.org/track.png"></body>'))
    with pytest.raises(
        pdf.PackPrintError, match=r"sub_icb/02T.html: request outside the pack folder: https://example"
    ):
        pdf.print_pages(bad, ["sub_icb/02T.html"], tmp_path / "pdf")
    assert not (tmp_path / "pdf" / "sub_icb_02T.pdf").exists()


def test_chromium_missing_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(pdf, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(pdf.ChromiumMissing, match="apt-get install chromium"):
        pdf.chromium_path()


def test_make_pack_renders_a_named_release_and_refuses_an_unknown_one(pack, sample_warehouse, tmp_path):
    root = sample_warehouse.parent
    env = {**run_all_env(root, root / "landing"), "PACK_DIR": str(tmp_path / "pack")}
    done = subprocess.run(
        [sys.executable, "-m", "orchestration.pack", "--no-pdf"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    release_id = pack[1]["release_id"]
    assert (tmp_path / "pack" / release_id / "index.html").is_file()
    bad = subprocess.run(
        [sys.executable, "-m", "orchestration.pack", "--no-pdf", "--release", "nope"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert bad.returncode != 0 and "nope" in bad.stderr
