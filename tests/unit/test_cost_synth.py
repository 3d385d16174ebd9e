"""The cost generator: one release per financial year the months touch, byte-identical for the
same arguments, prices uplifted 3% a year, UZ01Z unpriced everywhere and returned as a gap, and
NCC unit costs scattered around the national prices with a few suppressed cells."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pytest

from orchestration.defs.cost.feeds import COST_FEEDS, NCC_ORG_UNIT_COSTS, TARIFF_APC_PRICES
from orchestration.lib import landing
from orchestration.lib.dbt_vars import months_between
from orchestration.lib.loader import load_period
from orchestration.synth import cost
from orchestration.synth.geography import build_geography, load_sub_icbs

MONTHS = months_between(date(2022, 1, 1), date(2023, 6, 1))  # touches 2021/22, 2022/23, 2023/24


def _geo():
    return build_geography(load_sub_icbs(("02T", "15F")), np.array([4, 4]), np.random.default_rng(1))


def _write(out: Path, seed: int = 11):
    receipts = []
    gaps = cost.write_cost(_geo(), seed, out, MONTHS, lambda *args, **kwargs: receipts.append(args))
    return gaps, receipts


def _digests(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("landing")
    gaps, receipts = _write(out)
    return out, gaps, receipts


@pytest.fixture(scope="module")
def loaded(generated):
    out, _, _ = generated
    conn = duckdb.connect()
    for spec in COST_FEEDS:
        for release in landing.available_periods(spec, out):
            load_period(conn, spec, release, landing.files_for_period(spec, release, out).files)
    yield conn
    conn.close()


def test_every_financial_year_the_months_touch_gets_one_release_per_feed(generated):
    out, _, receipts = generated
    for spec in COST_FEEDS:
        assert landing.available_periods(spec, out) == [date(2021, 4, 1), date(2022, 4, 1), date(2023, 4, 1)]
    assert len(receipts) == 9
    names = {p.name for p in out.rglob("*") if p.is_file()}
    assert {"2122_national_tariff_workbook.xlsx", "23-24NHSPS-prices.xlsx"} <= names
    assert {"Organisation_level_source_data_1_2223.zip", "Organisation_level_source_data_1_2324.zip"} <= names


def test_the_same_arguments_give_byte_identical_files_and_the_seed_moves_only_ncc(generated, tmp_path):
    out, _, _ = generated
    _write(tmp_path / "again")
    assert _digests(tmp_path / "again") == _digests(out)
    _write(tmp_path / "other", seed=12)
    changed = {k for k, v in _digests(tmp_path / "other").items() if _digests(out)[k] != v}
    assert changed and all(k.startswith(NCC_ORG_UNIT_COSTS.name) for k in changed)


def test_uz01z_is_unpriced_in_every_release_and_returned_as_a_gap(generated, loaded):
    _, gaps, _ = generated
    assert [(g.kind, g.feed, g.period) for g in gaps] == [
        ("unpriced_hrg", TARIFF_APC_PRICES.name, "2021-04"),
        ("unpriced_hrg", TARIFF_APC_PRICES.name, "2022-04"),
        ("unpriced_hrg", TARIFF_APC_PRICES.name, "2023-04"),
    ]
    priced = loaded.execute(
        "select count(*), count(coalesce(outpatient_procedure_price, combined_day_case_elective_price, "
        "day_case_price, ordinary_elective_price, non_elective_price, per_day_long_stay_price, rsse_price)) "
        "from raw.tariff_apc_prices where hrg_code = 'UZ01Z'"
    ).fetchone()
    assert priced == (3, 0)
    assert loaded.execute(
        "select count(*) from raw.ncc_org_unit_costs where currency_code = 'UZ01Z'"
    ).fetchone() == (0,)


def test_prices_are_uplifted_three_percent_a_year_from_2022_23(loaded):
    # AA35C non-elective is £5,931 in 2022/23 (hrg.py): 5931 / 1.03 = 5758.25, 5931 * 1.03 = 6108.93.
    prices = loaded.execute(
        "select strftime(_period, '%Y'), non_elective_price from raw.tariff_apc_prices "
        "where hrg_code = 'AA35C' order by 1"
    ).fetchall()
    assert prices == [("2021", 5758.0), ("2022", 5931.0), ("2023", 6109.0)]
    # 2023/24 is in the Payment Scheme layout: one elective price, the mean of day case and elective.
    assert loaded.execute(
        "select _schema_variant, combined_day_case_elective_price, day_case_price from raw.tariff_apc_prices "
        "where hrg_code = 'AA25D' and _period = '2023-04-01'"
    ).fetchone() == ("nhsps_2023", round((1011 + 2433) / 2 * 1.03), None)


def test_outpatient_multi_professional_prices_are_dash_where_none(loaded):
    assert loaded.execute(
        "select treatment_function_code from raw.tariff_op_attendance_prices "
        "where first_multi_price is null and _period = '2022-04-01' order by 1"
    ).fetchall() == [("650",), ("800",)]


def test_ncc_unit_costs_scatter_around_the_national_price_with_a_few_suppressed(loaded):
    ratio, suppressed, departments = loaded.execute(
        """
        with prices as (
            select 'EM' as department_code, 'VB11Z' as currency_code, 98.0 as price
            union all select 'NEL', 'AA35C', 5931.0
            union all select 'CL', 'WF01B', 165.0
        )
        select
            median(actual_cost / activity / price),
            (select avg(case when activity is null then 1.0 else 0.0 end) from raw.ncc_org_unit_costs),
            (select list(distinct department_code order by department_code) from raw.ncc_org_unit_costs)
        from raw.ncc_org_unit_costs join prices using (department_code, currency_code)
        where _period = '2022-04-01' and (currency_code <> 'WF01B' or service_code = '100')
        """
    ).fetchone()
    assert 0.85 < ratio < 1.15
    assert 0.005 < suppressed < 0.08
    assert departments == ["CL", "DC", "EL", "EM", "NEL", "NES", "OPROC"]
