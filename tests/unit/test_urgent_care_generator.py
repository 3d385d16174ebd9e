"""The A&E generator: deterministic files in the published layouts, realistic shape, the planted
gaps present in the files and found by the suites (and nothing else), and the shipped sample
small enough to ship."""

from __future__ import annotations

import zipfile
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pytest

from orchestration.defs.urgent_care.feeds import AE_MONTHLY, ECDS, URGENT_CARE_FEEDS
from orchestration.lib import landing, validation
from orchestration.lib.dbt_vars import months_between
from orchestration.lib.loader import load_period
from orchestration.synth import activity_base, deprivation, geography
from orchestration.synth import urgent_care as synth
from orchestration.synth.plan import build_geography, sample_plan

MONTHS = months_between(date(2022, 1, 1), date(2022, 6, 1))
SEED = 11


def _geo() -> geography.Geography:
    return geography.build_geography(
        geography.load_sub_icbs(("02T", "15F")), np.array([4, 4]), np.random.default_rng(1)
    )


def _write(out: Path, scale: str = "national", months=MONTHS):
    receipts: list[tuple] = []
    gaps = synth.write_urgent_care(_geo(), SEED, out, months, lambda *a: receipts.append(a), scale)
    return gaps, receipts


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """Six months at full volume for eight practices (about 2,800 attendances a month)."""
    out = tmp_path_factory.mktemp("uc")
    gaps, receipts = _write(out)
    return out, gaps, receipts


@pytest.fixture(scope="module")
def loaded(generated):
    out, _, _ = generated
    conn = duckdb.connect()
    for spec in URGENT_CARE_FEEDS:
        for month in landing.available_periods(spec, out):
            result = load_period(conn, spec, month, landing.files_for_period(spec, month, out).files)
            assert result.rows_quarantined == 0
    yield conn
    conn.close()


def _gap(gaps, kind, feed):
    (gap,) = [g for g in gaps if g.kind == kind and g.feed == feed]
    return gap


def _where(gap) -> tuple[str, str, str]:
    """(feed, organisation code, YYYY-MM) of a planted gap."""
    return gap.feed, gap.org_code, gap.period


def _all_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_same_arguments_write_byte_identical_files(generated, tmp_path):
    out, gaps, _ = generated
    again, _ = _write(tmp_path)
    assert again == gaps
    assert _all_files(tmp_path) == _all_files(out)


def test_one_sitrep_and_one_zipped_ecds_extract_a_month_named_as_published(generated):
    out, _, receipts = generated
    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    sitreps = [f"ae_monthly/{m:%Y-%m}/Monthly-AE-{m:%B}-{m.year}.csv" for m in MONTHS[:-1]]
    assert [n for n in names if n.startswith("ae_monthly")][:-1] == sitreps
    # the last month uses NHS England's newer name, with a random suffix
    last = next(n for n in names if n.startswith("ae_monthly/2022-06/"))
    assert last.startswith("ae_monthly/2022-06/June-2022-CSV-") and len(last.rsplit("-", 1)[1]) == len(
        "abcde.csv"
    )
    assert [n for n in names if n.startswith("ecds")] == [f"ecds/{m:%Y-%m}/ECDS_{m:%Y%m}.zip" for m in MONTHS]
    assert sorted({(r[0], r[3]) for r in receipts}) == [("ae_monthly", 12), ("ecds", 20)]
    with zipfile.ZipFile(out / "ecds/2022-03/ECDS_202203.zip") as archive:
        assert archive.namelist() == ["ECDS_202203.csv"]


def test_the_sitrep_has_the_real_header_a_total_row_regions_with_trailing_spaces_and_a_dash(generated):
    out, _, _ = generated
    text = (out / "ae_monthly/2022-03/Monthly-AE-March-2022.csv").read_text(encoding="utf-8")
    lines = text.split("\n")
    assert "\r" not in text and lines[-1] == ""
    assert lines[0].split(",") == list(synth.SITREP_HEADER_2025)
    assert "Patients who have waited 4-12 hs from DTA to admission" in lines[0]
    assert lines[-2].startswith("TOTAL,TOTAL,TOTAL,TOTAL,")
    assert all(line.startswith("MSitAE-MARCH-2022,") for line in lines[1:-2])
    assert all(",NHS ENGLAND NORTH EAST AND YORKSHIRE ," in line for line in lines[1:-2])
    assert any(line.endswith(",-,-,-,-,-,-") for line in lines[1:-2])  # a walk-in centre admits nobody
    # The month before the last writes its total row in title case, as September 2025 did.
    assert (
        (out / "ae_monthly/2022-05/Monthly-AE-May-2022.csv").read_text().split("\n")[-2].startswith("Total,")
    )


def test_sitrep_volumes_are_real_sized_and_agree_with_the_records(loaded):
    sitrep = loaded.execute(
        "select sum(attendances_type_1 + attendances_type_2 + attendances_other), "
        "sum(over_4h_type_1) / sum(attendances_type_1), sum(over_4h_other) / sum(attendances_other) "
        "from raw.ae_monthly where not is_total_row and _period = '2022-03-01' "
        "and org_code in (select distinct provider_code from raw.ecds)"
    ).fetchone()
    records = loaded.execute(
        "select count(*) filter (where dupe_flag = 0) from raw.ecds where _period = '2022-03-01'"
    ).fetchone()[0]
    # Same model, thinned by nothing at national scale: trust totals agree within noise (~2%).
    assert sitrep[0] == pytest.approx(records, rel=0.05)
    assert 0.25 <= sitrep[1] <= 0.40 and sitrep[2] < 0.05


def test_records_have_realistic_breaches_ages_defaults_and_department_types(loaded):
    by_type = dict(
        loaded.execute(
            "select department_type, avg((duration_minutes > 240)::int) from raw.ecds "
            "where finished_indicator = 1 group by 1"
        ).fetchall()
    )
    assert set(by_type) <= {"01", "02", "03"} and {"01", "03"} <= set(by_type)
    assert 0.25 <= by_type["01"] <= 0.40
    assert by_type["03"] < 0.05
    # Attendance rates per head are highest for the under-fives, young adults and the over-80s.
    cells = activity_base.expected_cells(_geo(), 0).reshape(-1, 2, 20).sum(axis=(0, 1))
    ages = dict(
        loaded.execute("select least(age_at_arrival // 5, 19), count(*) from raw.ecds group by 1").fetchall()
    )
    rate = {band: ages.get(band, 0) / cells[band] for band in range(20)}
    assert rate[0] > rate[2] and rate[4] > rate[9] and rate[16] > rate[4] and rate[19] > rate[10]
    defaults, records = loaded.execute(
        "select count(*) filter (where gp_practice_code in ('V81997', 'V81998', 'V81999')), count(*) "
        "from raw.ecds where _period = '2022-01-01'"
    ).fetchone()
    assert 0.005 < defaults / records < 0.03
    primary = loaded.execute(
        "select count(*) filter (where diagnosis_all like '%,%'), "
        "count(*) filter (where diagnosis_all is null) from raw.ecds"
    ).fetchone()
    assert primary[0] > 0 and primary[1] > 0


def test_each_planted_gap_is_in_the_files(generated, loaded):
    _, gaps, _ = generated
    counts = {
        (code, f"{period:%Y-%m}"): n
        for code, period, n in loaded.execute(
            "select provider_code, _period, count(*) from raw.ecds group by all"
        ).fetchall()
    }
    feed, code, period = _where(_gap(gaps, "missing_provider_month", "ecds"))
    assert feed == ECDS.name and counts.get((code, period), 0) == 0
    feed, code, period = _where(_gap(gaps, "partial_submission", "ecds"))
    usual = np.median([n for (c, p), n in counts.items() if c == code and p != period and n > 0])
    assert 0.3 < counts[(code, period)] / usual < 0.5
    feed, code, period = _where(_gap(gaps, "default_code", "ecds"))
    share = loaded.execute(
        "select avg((gp_practice_code in ('V81997', 'V81998', 'V81999'))::int) from raw.ecds "
        "where provider_code = ? and strftime(_period, '%Y-%m') = ?",
        [code, period],
    ).fetchone()[0]
    assert 0.12 < share < 0.20
    feed, code, period = _where(_gap(gaps, "missing_provider_month", "ae_monthly"))
    present = {
        f"{p:%Y-%m}"
        for (p,) in loaded.execute(
            "select _period from raw.ae_monthly where org_code = ? order by 1", [code]
        ).fetchall()
    }
    assert feed == AE_MONTHLY.name and present == {f"{m:%Y-%m}" for m in MONTHS} - {period}


def test_the_error_suites_pass_and_the_warnings_find_exactly_the_planted_gaps(generated, loaded):
    _, gaps, _ = generated
    window = {"period_start": date(1900, 1, 1), "period_end": date(2999, 12, 1)}
    for feed in (AE_MONTHLY.name, ECDS.name):
        for suite in validation.suite_files(feed):
            outcome = validation.run_suite(loaded, suite)
            assert not [f for f in outcome.failed if f.severity == "error"], suite.name
            assert outcome.rows_validated > 0
    (completeness,) = [s for s in validation.suite_files(ECDS.name) if s.name.endswith("completeness")]
    frame = loaded.execute(completeness.query, window).df()
    flagged = {
        (r["provider_code"], f"{r['_period']:%Y-%m}")
        for r in frame[frame["looks_partial"]].to_dict("records")
    }
    expected = {
        _where(g)[1:]
        for g in gaps
        if g.feed == "ecds" and g.kind in ("missing_provider_month", "partial_submission")
    }
    assert flagged == expected
    (defaults,) = [s for s in validation.suite_files(ECDS.name) if s.name.endswith("defaults")]
    frame = loaded.execute(defaults.query, window).df()
    high = frame[frame["default_or_missing_share"] > 0.10]
    assert [(r["provider_code"], f"{r['_period']:%Y-%m}") for r in high.to_dict("records")] == [
        _where(_gap(gaps, "default_code", "ecds"))[1:]
    ]
    (coverage,) = [s for s in validation.suite_files(AE_MONTHLY.name) if s.name.endswith("coverage")]
    frame = loaded.execute(coverage.query, window).df()
    assert [
        (r["org_code"], f"{r['_period']:%Y-%m}") for r in frame[~frame["submitted"]].to_dict("records")
    ] == [_where(_gap(gaps, "missing_provider_month", "ae_monthly"))[1:]]


def test_the_breach_probability_of_a_type_3_attendance_worked_by_hand():
    # Not admitted, log-normal median 70 minutes, sigma 0.65:
    # P(T > 240) = 1 - Phi(ln(240 / 70) / 0.65) = 1 - Phi(1.23214 / 0.65) = 1 - Phi(1.89560) = 0.02901
    assert synth.breach_probability(3, 0.0) == pytest.approx(0.02901, abs=1e-5)
    # Type 1, 29% admitted. Admitted (median 330, sigma 0.65): 1 - Phi(ln(240/330)/0.65)
    # = 1 - Phi(-0.48993) = 0.68791. Not admitted (median 160, sigma 0.5): P(T > 240) =
    # 1 - Phi(0.81093) = 0.20872 and P(T > 270) = 1 - Phi(1.04650) = 0.14767; 30% of the
    # 241-270 minute stays are pulled under 4 hours: 0.20872 - 0.3 x 0.06105 = 0.19041.
    # 0.29 x 0.68791 + 0.71 x 0.19041 = 0.33468
    assert synth.breach_probability(1, 0.29) == pytest.approx(0.33468, abs=5e-5)


def test_commissioner_codes_are_padded_as_sus_writes_them():
    assert synth.commissioner_code("15F", "15F", date(2022, 1, 1)) == "15F00"
    assert synth.commissioner_code("D2P2L", "05C", date(2022, 1, 1)) == "D2P2L"
    assert synth.commissioner_code("D2P2L", "05C", date(2021, 3, 1)) == "05C00"


def test_lsoa_codes_are_those_the_deprivation_generator_writes():
    geo = _geo()
    rows = deprivation._lsoas(geo, np.random.default_rng(0))
    ranges = deprivation.lsoa_ranges(geo)
    for sub in geo.sub_icbs:
        first, count = ranges[sub.code]
        expected = {r["code"] for r in rows if r["sub"].code == sub.code}
        assert {deprivation.lsoa_code(serial) for serial in range(first, first + count)} == expected


def test_the_sample_plan_writes_record_level_files_from_2022_and_stays_under_4_5_mb(tmp_path):
    plan = sample_plan()
    geo = build_geography(plan, np.random.default_rng(plan.seed))
    months = months_between(plan.start, plan.end)
    gaps = synth.write_urgent_care(geo, plan.seed, tmp_path, months, lambda *a: None, "sample")
    assert {(g.kind, g.feed) for g in gaps} == {
        ("missing_provider_month", "ae_monthly"),
        ("missing_provider_month", "ecds"),
        ("partial_submission", "ecds"),
        ("default_code", "ecds"),
    }
    ecds_months = sorted(p.name for p in (tmp_path / "ecds").iterdir())
    assert ecds_months == [f"{m:%Y-%m}" for m in months if m >= activity_base.FIRST_ACTIVITY_MONTH_SAMPLE]
    assert len(list((tmp_path / "ae_monthly").iterdir())) == len(months)
    # ECDS at 20% of the real volume for 12 months (4.01 MB) and the SitRep (0.23 MB): 4.05 MiB.
    size = sum(p.stat().st_size for p in tmp_path.rglob("*") if p.is_file())
    assert size <= 4.5 * 1024 * 1024
