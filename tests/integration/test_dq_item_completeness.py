"""DQMI-style item completeness and validity on the shipped sample.

On the whole shipped sample built by `make run`'s entry point (the `sample_warehouse`
fixture, tests/integration/conftest.py). The planted gaps of
seeds/landing/_manifest.json must come out as rows: default practice codes as `low` items,
the APC extract without DISMETH as `not_in_extract` for every provider; and nothing else may
be `low`.
"""

from __future__ import annotations

import json
from datetime import date

import duckdb
import pytest

from tests.helpers import SAMPLE

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("sample")]  # one worker: conftest.py

GAPS = json.loads((SAMPLE / "_manifest.json").read_text())["gaps"]
DEFAULT_PRACTICES = ("V81997", "V81998", "V81999")
RAW_PRACTICE = {"hes_apc": ("gpprac", "procode3"), "ecds": ("gp_practice_code", "provider_code")}


def _month(period: str) -> date:
    return date.fromisoformat(f"{period}-01")


@pytest.fixture
def db(sample_warehouse):
    with duckdb.connect(str(sample_warehouse), read_only=True) as conn:
        yield conn


def _planted(kind: str, feeds=("hes_apc", "hes_opa", "ecds")) -> list[dict]:
    return [g for g in GAPS if g["kind"] == kind and g["feed"] in feeds]


def test_planted_default_practice_codes_make_the_practice_item_low(db):
    planted = _planted("default_code")
    assert {(g["feed"], g["org_code"], g["period"]) for g in planted} == {
        ("hes_apc", "RB0", "2022-05"),
        ("ecds", "RA3", "2022-05"),
    }
    for gap in planted:
        column, provider = RAW_PRACTICE[gap["feed"]]
        # counted again here, straight from the raw table, independently of the model
        records, defaults, valid = db.execute(
            f"""select count(*), count(*) filter (where {column} in ?),
                       count(*) filter (where regexp_full_match({column}, '[A-Z][0-9]{{5}}'))
                from raw.{gap["feed"]} where {provider} = ? and _period = ?""",
            [list(DEFAULT_PRACTICES), gap["org_code"], _month(gap["period"])],
        ).fetchone()
        row = db.execute(
            """select records, default_records, valid_and_complete_records, defaults_in_excess,
                      item_score, status, status_reason
               from marts.dq_item_completeness
               where feed = ? and provider_code = ? and month = ? and data_item = 'registered_gp_practice'""",
            [gap["feed"], gap["org_code"], _month(gap["period"])],
        ).fetchone()
        assert row is not None, gap
        n, d, v, excess, score, status, reason = row
        assert (n, d, v) == (records, defaults, valid)
        assert 0.05 < d / n < 0.25  # planted at about 12% (APC) and 15% (ECDS) of a small sample
        assert excess == pytest.approx(d - 0.02 * n)
        assert score == pytest.approx(100 * (v - (d - 0.02 * n)) / n)
        assert status == "low"
        assert "default codes" in reason


def test_an_extract_without_dismeth_is_not_in_extract_for_every_provider(db):
    (gap,) = [g for g in _planted("missing_field") if g["feed"] == "hes_apc"]
    month = _month(gap["period"])
    providers = {
        p
        for (p,) in db.execute(
            "select distinct procode3 from raw.hes_apc where _period = ?", [month]
        ).fetchall()
    }
    rows = db.execute(
        """select provider_code, month, is_in_extract, item_score, source_column
           from marts.dq_item_completeness where status = 'not_in_extract'"""
    ).fetchall()
    assert len(providers) == 20
    assert {r[0] for r in rows} == providers
    assert {(r[1], r[2], r[3], r[4]) for r in rows} == {(month, False, None, "DISMETH")}
    # the month's other items are scored as usual, and the DQMI counts only those carried
    items = db.execute(
        "select distinct items_submitted, items_not_in_extract from marts.dq_dqmi "
        "where feed = 'hes_apc' and month = ?",
        [month],
    ).fetchall()
    assert items == [(8, 1)]


def test_nothing_but_the_planted_gaps_is_low(db):
    low = set(
        db.execute(
            "select feed, provider_code, strftime(month, '%Y-%m'), data_item "
            "from marts.dq_item_completeness where status = 'low'"
        ).fetchall()
    )
    planted = {
        (g["feed"], g["org_code"], g["period"], "registered_gp_practice") for g in _planted("default_code")
    }
    assert low == planted  # no false alarm among the clean provider-months, on any item


def test_every_item_of_the_extract_layouts_present_comes_out(db):
    """The mart counts a fixed list of raw columns: every seed item for a layout in the sample must
    find its column."""
    expected = set(
        db.execute(
            """select i.feed, i.data_item, i.source_column
               from reference.dqmi_items as i
               join (select distinct 'hes_apc' as feed, _schema_variant from raw.hes_apc
                     union select distinct 'hes_opa', _schema_variant from raw.hes_opa
                     union select distinct 'ecds', _schema_variant from raw.ecds) as v
                 on i.feed = v.feed
                 and list_contains(string_split(i.schema_variants, '|'), v._schema_variant)"""
        ).fetchall()
    )
    built = set(
        db.execute(
            "select distinct feed, data_item, source_column from marts.dq_item_completeness"
        ).fetchall()
    )
    assert len(expected) == 9 + 8 + 8
    assert built == expected


def test_a_missed_month_lowers_the_coverage_and_the_dqmi_of_the_next(db):
    (gap,) = [g for g in _planted("missing_provider_month") if g["feed"] == "hes_apc"]
    assert gap["period"] == "2022-07"  # the sample starts in 2022-01: 8 months expected by August
    missed = db.execute(
        "select count(*) from marts.dq_dqmi where feed = 'hes_apc' and provider_code = ? and month = ?",
        [gap["org_code"], _month(gap["period"])],
    ).fetchone()[0]
    expected, submitted, coverage, mean_score, dqmi = db.execute(
        """select months_expected, months_submitted, coverage, mean_item_score, dqmi
           from marts.dq_dqmi where feed = 'hes_apc' and provider_code = ? and month = '2022-08-01'""",
        [gap["org_code"]],
    ).fetchone()
    assert missed == 0  # no records, no item scores: the gap is a row of dq_submission_coverage
    assert (expected, submitted, coverage) == (8, 7, 7 / 8)
    assert dqmi == round(mean_score * 7 / 8, 1)
    assert dqmi < 90
