"""The disclosure check on the `share` schema fails on what the declared rule would not let out."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration.defs.dbt.project import dbt_project
from orchestration.defs.experience.publish import LIKERT, publishable
from orchestration.defs.share import checks


def _frame() -> pd.DataFrame:
    """Two ICBs of three trusts, one trust with 3 responses (first level suppressed, its
    next-lowest sibling second level), inpatient, one month."""
    rows = []
    for icb, trusts in {
        "QWO": [("RR8", 120), ("RAE", 3), ("RCF", 40)],
        "QOQ": [("RWA", 90), ("RV9", 60)],
    }.items():
        for trust, total in trusts:
            counts = (
                [total - 2 * (total // 5), total // 5, total // 5, 0, 0, 0]
                if total >= 5
                else [total, 0, 0, 0, 0, 0]
            )
            rows.append(
                {
                    "setting": "inpatient",
                    "period_month": pd.Timestamp("2022-05-01"),
                    "icb_code": icb,
                    "trust_code": trust,
                    "trust_name": trust,
                    **dict(zip(LIKERT, counts, strict=True)),
                    "total_responses": total,
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture
def conn():
    connection = duckdb.connect()
    connection.execute("create schema share")
    shared = publishable(_frame())
    connection.register("shared", shared)
    connection.execute("create table share.fft_trust_experience as select * from shared")
    yield connection
    connection.close()


def _manifest() -> dict:
    return json.loads(Path(dbt_project.manifest_path).read_text())


def _fft_node() -> dict:
    (node,) = [n for n in checks.share_tables(_manifest()) if n["name"] == "fft_trust_experience"]
    return node


def test_the_fft_table_declares_its_regime_and_passes_as_published(conn):
    assert checks._meta(_fft_node())["disclosure"]["regime"] == "fft"
    assert conn.execute(
        "select trust_code, suppression_reason from share.fft_trust_experience "
        "where suppression_reason is not null order by 1"
    ).fetchall() == [("RAE", "first"), ("RCF", "second")]
    assert checks.table_problems(conn, _fft_node()) == []
    assert checks.undeclared_tables(conn, _manifest()) == []


def test_a_shown_trust_with_three_responses_fails(conn):
    conn.execute(
        "update share.fft_trust_experience set suppression_reason = null, total_responses = 3 "
        "where trust_code = 'RAE'"
    )
    assert checks.table_problems(conn, _fft_node()) == [
        "share.fft_trust_experience: 1 shown row(s) with 1-4 responses (first level)",
        "share.fft_trust_experience: 1 icb_code group(s) with exactly one suppressed child, recoverable "
        "from the parent total (second level / cascade)",
    ]


def test_a_lone_suppressed_child_fails_as_recoverable(conn):
    conn.execute(
        "update share.fft_trust_experience set suppression_reason = null, total_responses = 40 "
        "where trust_code = 'RCF'"
    )
    (problem,) = checks.table_problems(conn, _fft_node())
    assert "1 icb_code group(s) with exactly one suppressed child" in problem


def test_an_undeclared_table_and_a_table_without_a_regime_fail(conn):
    conn.execute("create table share.adhoc_extract as select 1 as n")
    assert checks.undeclared_tables(conn, _manifest()) == [
        "share.adhoc_extract: not declared in models/share/_share__sources.yml"
    ]
    (problem,) = checks.table_problems(conn, {"name": "adhoc_extract", "config": {"meta": {}}})
    assert "declares no known disclosure regime" in problem


def test_the_hes_regime_fails_on_sub_national_counts_in_1_to_7_and_unrounded_ones(conn):
    conn.execute(
        "create table share.spells as select * from (values ('england', 3), ('icb', 0), ('icb', 10), "
        "('icb', 7), ('icb', 12), ('sub_icb', 1)) as t(area_level, spells)"
    )
    node = {
        "name": "spells",
        "config": {"meta": {"disclosure": {"regime": "hes", "national_when": "area_level = 'england'"}}},
        "columns": {
            "area_level": {"meta": {"disclosure": "not_personal"}},
            "spells": {"meta": {"disclosure": "count"}},
        },
    }
    assert checks.table_problems(conn, node) == [
        "share.spells.spells: 2 sub-national count(s) in 1-7",
        "share.spells.spells: 3 sub-national count(s) not a multiple of 5",
    ]
