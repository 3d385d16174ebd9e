"""What the pack shows, read from the published release in one pass.

Each query covers every area at once (DuckDB does the aggregation) and returns plain rows;
`pages` then indexes them per area. The release is opened read-only through its own catalog, so
a pack always shows one release, whatever a later publish does meanwhile.

The pack leaves the warehouse, so it reads what a shared package would: every model a package
shares is read through its disclosure rules (`share.disclosure.shareable_sql`, the one
mechanism: sub-national counts of 1-7 suppressed, the rest rounded to 5, standardised rates
withheld on fewer than 10 events), as the view `shared_<model>`. The funnel takes its values
from the shared indicator rows; the other tables hold no count of people or events.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

import duckdb

from orchestration.release.store import RELEASE_CATALOG, NoRelease, ReleaseStore
from orchestration.share import disclosure

# The models read through their disclosure rules (as `shared_<model>`).
SHARED = (
    "mart_ois_indicator",
    "mart_ois_peer_opportunity",
    "mart_commissioning_summary",
    "mart_top_services",
    "mart_ltc_programme",
    "fct_prescribing_measure",
    "mart_sub_icb_peers",
    "dq_gap_summary",
)

# The area levels the pack has pages for, as the marts name them.
ENGLAND, ICB, SUB_ICB = "england", "icb", "sub_icb_location"

QUERIES = {
    "release": "select release_id, built_at, checks_passed, checks_warned, checks_failed from main.release",
    # Real areas: current sub-ICB locations and ICBs with activity in the release.
    "areas": """
        with active as (
            select distinct area_level, area_code from shared_mart_commissioning_summary
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
        from shared_mart_ois_indicator
        where area_level in ('england', 'icb', 'sub_icb_location')
        order by indicator_id, area_level, area_code, period_start
    """,
    # England's range per indicator, period and area level (Fingertips' spine: worst, 25th and
    # 75th percentiles, best; oriented by polarity in `pages`).
    "ranges": """
        select indicator_id, period, area_level, min(value) as min_value,
            quantile_cont(value, 0.25) as p25, quantile_cont(value, 0.75) as p75, max(value) as max_value,
            count(value) as areas_with_value
        from shared_mart_ois_indicator
        where area_level in ('icb', 'sub_icb_location') and value is not null
        group by all
    """,
    # The funnel's points are the shared indicator rows' (a value withheld there is not drawn).
    "funnel": """
        select f.indicator_id, f.indicator_title, f.period, f.area_code, f.parent_area_code, i.count,
            f.plot_denominator, i.value, f.england_value, f.lower_limit_95, f.upper_limit_95,
            f.lower_limit_998, f.upper_limit_998, f.funnel_significance
        from marts.mart_ois_funnel as f
        inner join shared_mart_ois_indicator as i
            on i.indicator_id = f.indicator_id and i.period = f.period and i.area_level = f.area_level
            and i.area_code = f.area_code
        where f.area_level = 'sub_icb_location' and i.value is not null and f.plot_denominator > 0
        order by f.indicator_id, f.period, f.plot_denominator
    """,
    "peers": """
        select sub_icb_location_code as area_code, peer_rank, peer_sub_icb_location_code as peer_code,
            peer_sub_icb_location_name as peer_name, is_same_icb, distance
        from shared_mart_sub_icb_peers
        where is_latest_month
        order by area_code, peer_rank
    """,
    "opportunity": """
        select indicator_id, indicator_title, polarity, period, sub_icb_location_code as area_code, count,
            value, england_value, peers_with_values, peer_min, peer_max, peer_mean, best_five_peer_mean,
            against_peer_range, mean_cost_per_admission, events_avoidable, spend_avoidable
        from shared_mart_ois_peer_opportunity
    """,
    # Spend per age-sex weighted head over the release's last 12 months, by setting and point of
    # delivery: the year's cost over the mean monthly weighted list. England is the sum of the
    # sub-ICB locations, month by month.
    "money": """
        with window_months as (
            select max(month) as last_month from shared_mart_commissioning_summary
        ),

        months as (
            select s.area_level, s.area_code, s.setting, s.point_of_delivery, s.month, s.cost, s.activity,
                s.weighted_patients, s.registered_patients, s.is_provisional
            from shared_mart_commissioning_summary as s, window_months as w
            where s.month > w.last_month - interval 12 month
        ),

        with_england as (
            select * from months
            union all
            select 'england', 'E92000001', setting, point_of_delivery, month, sum(cost), sum(activity),
                sum(weighted_patients), sum(registered_patients), bool_or(is_provisional)
            from months
            where area_level = 'sub_icb_location'
            group by all
        )

        select area_level, area_code, setting, point_of_delivery, sum(cost) as cost,
            sum(activity) as activity, avg(weighted_patients) as weighted_patients,
            avg(registered_patients) as registered_patients,
            sum(cost) / nullif(avg(weighted_patients), 0) as cost_per_weighted_head,
            count(*) as months, bool_or(is_provisional) as is_provisional
        from with_england
        group by all
    """,
    # The 20 services with most spend in each area's latest financial year, with the year before;
    # England's are the sub-ICB locations' summed.
    "top_services": """
        with england as (
            select 'england' as area_level, 'E92000001' as area_code, financial_year_start,
                any_value(financial_year) as financial_year, setting, service_code,
                any_value(service_name) as service_name, sum(activity) as activity, sum(cost) as cost,
                max(months_covered) as months_covered
            from shared_mart_top_services
            where area_level = 'sub_icb_location'
            group by financial_year_start, setting, service_code
        ),

        services as (
            select area_level, area_code, financial_year_start, financial_year, setting, service_code,
                service_name, activity, cost, months_covered
            from shared_mart_top_services
            union all
            select * from england
        ),

        ranked as (
            select *,
                row_number() over (
                    partition by area_level, area_code, financial_year_start order by cost desc, service_code
                ) as spend_rank,
                max(financial_year_start) over (partition by area_level, area_code) as latest_year
            from services
        )

        select t.area_level, t.area_code, t.financial_year, t.spend_rank, t.setting, t.service_code,
            t.service_name, t.activity, t.cost, t.months_covered, p.cost as previous_cost
        from ranked as t
        left join services as p
            on p.area_level = t.area_level and p.area_code = t.area_code and p.setting = t.setting
            and p.service_code = t.service_code
            and p.financial_year_start = t.financial_year_start - interval 1 year
        where t.financial_year_start = t.latest_year and t.spend_rank <= 20
        order by t.area_level, t.area_code, t.spend_rank
    """,
    # Each programme per month for every sub-ICB location, ICB and England, with its rates.
    "ltc": """
        with areas as (
            select l.*, s.icb_code
            from shared_mart_ltc_programme as l
            left join marts.dim_sub_icb as s on s.commissioner_code = l.sub_icb_location_code
        ),

        summed as (
            select
                case
                    when grouping(icb_code, sub_icb_location_code) = 0 then 'sub_icb_location'
                    when grouping(icb_code, sub_icb_location_code) = 1 then 'icb'
                    else 'england'
                end as area_level,
                coalesce(sub_icb_location_code, icb_code, 'E92000001') as area_code,
                programme, month,
                sum(admitted_spells) as admitted_spells,
                sum(emergency_admissions) as emergency_admissions,
                sum(bed_days) as bed_days,
                sum(admitted_cost) as admitted_cost,
                sum(prescription_items) as prescription_items,
                sum(prescribing_cost) as prescribing_cost,
                sum(total_cost) as total_cost,
                sum(registered_patients) as registered_patients
            from areas
            group by grouping sets ((programme, month, icb_code, sub_icb_location_code),
                (programme, month, icb_code), (programme, month))
        )

        select *,
            emergency_admissions / nullif(registered_patients, 0) * 1000 as ea_per_1000,
            prescription_items / nullif(registered_patients, 0) * 1000 as items_per_1000
        from summed
        order by programme, area_level, area_code, month
    """,
    "needs": """
        select sub_icb_location_code as area_code, icb_code, measure_group, measure, period, value,
            england_value, compared_to_england, unit
        from marts.mart_needs_profile
    """,
    # Each measure per month for every sub-ICB location, and for each ICB from its sub-ICB
    # locations' numerators and denominators.
    "prescribing": """
        select 'sub_icb_location' as area_level, org_code as area_code, measure_id, month, calc_value,
            cost_savings
        from shared_fct_prescribing_measure
        where org_type = 'sub_icb_location'
        union all
        select 'icb', icb_code, measure_id, month, sum(numerator) / nullif(sum(denominator), 0),
            sum(cost_savings)
        from shared_fct_prescribing_measure
        where org_type = 'sub_icb_location'
        group by all
        order by area_level, area_code, measure_id, month
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
        from shared_dq_gap_summary
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


def read_release(store: ReleaseStore, manifest: dict, release_id: str | None = None) -> PackData:
    """Every table the pack shows, from one release (the current one by default), counts
    disclosure-controlled by the rules in the dbt `manifest`."""
    release_id = release_id or store.current_id()
    release_dir = store.release_dir(release_id)
    if release_id not in store.complete_releases():
        raise NoRelease(
            f"No complete release {release_id!r} under {store.root}: the releases there are "
            f"{', '.join(store.complete_releases()) or 'none'}."
        )
    with duckdb.connect(str(release_dir / RELEASE_CATALOG), read_only=True) as conn:
        for model in SHARED:
            rules = disclosure.TableRules.from_manifest(manifest, model)
            conn.execute(f"create temp view shared_{model} as {disclosure.shareable_sql(rules)}")
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
