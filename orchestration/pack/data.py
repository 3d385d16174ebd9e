"""What the pack shows, read from the published release in one pass.

Each query covers every area at once (DuckDB does the aggregation) and returns plain rows;
`pages` then indexes them per area. The release is opened read-only through its own catalog, so a pack always
shows one release, whatever a later publish does meanwhile.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

import duckdb

from orchestration.release.store import RELEASE_CATALOG, NoRelease, ReleaseStore

# The area levels the pack has pages for, as the marts name them.
ENGLAND, ICB, SUB_ICB = "england", "icb", "sub_icb_location"

QUERIES = {
    "release": "select release_id, built_at, checks_passed, checks_warned, checks_failed from main.release",
    # Real areas: current sub-ICB locations and ICBs with activity in the release.
    "areas": """
        with active as (
            select distinct area_level, area_code from marts.mart_commissioning_summary
        )
        select 'sub_icb_location' as area_level, s.sub_icb_location_code as area_code,
            s.sub_icb_location_name as area_name, s.icb_code as parent_code
        from marts.dim_sub_icb as s
        inner join active as a on a.area_level = 'sub_icb_location' and a.area_code = s.sub_icb_location_code
        where s.is_current
        union all
        select 'icb', i.icb_code, i.icb_name, i.region_code
        from marts.dim_icb as i
        inner join active as a on a.area_level = 'icb' and a.area_code = i.icb_code
        order by 1, 2
    """,
    "ois": """
        select indicator_id, ois_code, indicator_title, method, unit, polarity, area_level, area_code,
            parent_area_code, period, period_start, count, denominator, value, lower_ci_95, upper_ci_95,
            lower_ci_998, upper_ci_998, england_value, compared_to_england, comparison_method,
            parent_value, recent_trend, value_note
        from marts.mart_ois_indicator
        where area_level in ('england', 'icb', 'sub_icb_location')
        order by indicator_id, area_level, area_code, period_start
    """,
    # England's range per indicator, period and area level (Fingertips' spine: worst, 25th and
    # 75th percentiles, best; oriented by polarity in `pages`).
    "ranges": """
        select indicator_id, period, area_level, min(value) as min_value,
            quantile_cont(value, 0.25) as p25, quantile_cont(value, 0.75) as p75, max(value) as max_value,
            count(value) as areas_with_value
        from marts.mart_ois_indicator
        where area_level in ('icb', 'sub_icb_location') and value is not null
        group by all
    """,
    "funnel": """
        select indicator_id, indicator_title, period, area_code, parent_area_code, count,
            plot_denominator, value, england_value, lower_limit_95, upper_limit_95, lower_limit_998,
            upper_limit_998, funnel_significance
        from marts.mart_ois_funnel
        where area_level = 'sub_icb_location' and value is not null and plot_denominator > 0
        order by indicator_id, period, plot_denominator
    """,
    "peers": """
        select sub_icb_location_code as area_code, peer_rank, peer_sub_icb_location_code as peer_code,
            peer_sub_icb_location_name as peer_name, is_same_icb, distance
        from marts.mart_sub_icb_peers
        where is_latest_month
        order by area_code, peer_rank
    """,
    "opportunity": """
        select indicator_id, indicator_title, polarity, period, sub_icb_location_code as area_code, count,
            value, england_value, peers_with_values, peer_min, peer_max, peer_mean, best_five_peer_mean,
            against_peer_range, mean_cost_per_admission, events_avoidable, spend_avoidable
        from marts.mart_ois_peer_opportunity
    """,
    # Spend per age-sex weighted head over the release's last 12 months, by setting and point of
    # delivery: the year's cost over the mean monthly weighted list.
    "money": """
        with window_months as (
            select max(month) as last_month from marts.mart_commissioning_summary
        )
        select s.area_level, s.area_code, s.setting, s.point_of_delivery, sum(s.cost) as cost,
            sum(s.activity) as activity, avg(s.weighted_patients) as weighted_patients,
            avg(s.registered_patients) as registered_patients,
            sum(s.cost) / nullif(avg(s.weighted_patients), 0) as cost_per_weighted_head,
            count(*) as months, bool_or(s.is_provisional) as is_provisional
        from marts.mart_commissioning_summary as s, window_months as w
        where s.month > w.last_month - interval 12 month
        group by all
    """,
    "top_services": """
        with latest as (
            select area_level, area_code, max(financial_year_start) as financial_year_start
            from marts.mart_top_services group by all
        )
        select t.area_level, t.area_code, t.financial_year, t.spend_rank, t.setting, t.service_code,
            t.service_name, t.activity, t.cost, t.share_of_spend, t.months_covered, p.cost as previous_cost,
            p.months_covered as previous_months
        from marts.mart_top_services as t
        inner join latest as l using (area_level, area_code, financial_year_start)
        left join marts.mart_top_services as p
            on p.area_level = t.area_level and p.area_code = t.area_code and p.setting = t.setting
            and p.service_code = t.service_code
            and p.financial_year_start = t.financial_year_start - interval 1 year
        where t.spend_rank <= 20
        order by t.area_level, t.area_code, t.spend_rank
    """,
    "ltc": """
        select l.month, l.sub_icb_location_code as area_code, s.icb_code, l.programme, l.admitted_spells,
            l.emergency_admissions, l.bed_days, l.admitted_cost, l.prescription_items, l.prescribing_cost,
            l.total_cost, l.registered_patients
        from marts.mart_ltc_programme as l
        left join marts.dim_sub_icb as s on s.commissioner_code = l.sub_icb_location_code
        order by l.programme, l.sub_icb_location_code, l.month
    """,
    "needs": """
        select sub_icb_location_code as area_code, icb_code, measure_group, measure, period, value,
            england_value, compared_to_england, unit
        from marts.mart_needs_profile
    """,
    "prescribing": """
        select measure_id, month, org_code as area_code, icb_code, numerator, denominator, calc_value,
            cost_savings, is_percentage, low_is_good
        from marts.fct_prescribing_measure
        where org_type = 'sub_icb_location'
        order by measure_id, org_code, month
    """,
    "deciles": """
        select measure_id, month, centile_10, centile_20, centile_30, centile_40, centile_50, centile_60,
            centile_70, centile_80, centile_90, organisations_with_value, calc_value as england_value,
            cost_savings_at_centile_10
        from marts.fct_prescribing_measure_deciles
        where org_type = 'practice'
        order by measure_id, month
    """,
    "gaps": """
        select sub_icb_location_code as area_code, icb_code, month, feed, gap_kind, org_code, severity,
            expected_records_absent, affected_outputs, message
        from marts.dq_gap_summary
        order by case severity when 'error' then 0 when 'warn' then 1 else 2 end, month desc, feed, org_code
    """,
}


Row = dict[str, Any]


@dataclass(frozen=True)
class PackData:
    release_id: str
    built_at: str
    release_dir: Path
    tables: dict[str, list[Row]]

    def __getitem__(self, name: str) -> list[Row]:
        return self.tables[name]


def read_release(store: ReleaseStore, release_id: str | None = None) -> PackData:
    """Every table the pack shows, from one release (the current one by default)."""
    release_id = release_id or store.current_id()
    release_dir = store.release_dir(release_id)
    if release_id not in store.complete_releases():
        raise NoRelease(
            f"No complete release {release_id!r} under {store.root}: the releases there are "
            f"{', '.join(store.complete_releases()) or 'none'}."
        )
    with duckdb.connect(str(release_dir / RELEASE_CATALOG), read_only=True) as conn:
        tables = {name: _rows(conn.execute(sql)) for name, sql in QUERIES.items()}
    info = tables["release"][0]
    return PackData(
        release_id=str(info["release_id"]),
        built_at=info["built_at"].astimezone(UTC).strftime("%-d %B %Y %H:%M UTC"),
        release_dir=release_dir,
        tables=tables,
    )


def _rows(cursor: duckdb.DuckDBPyConnection) -> list[Row]:
    """A result as plain dicts (Python values; SQL nulls and NaN as None)."""
    names = [column[0] for column in cursor.description]
    return [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in zip(names, row, strict=True)}
        for row in cursor.fetchall()
    ]
