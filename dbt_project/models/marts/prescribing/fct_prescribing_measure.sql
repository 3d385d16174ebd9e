{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='month',
        on_schema_change='fail',
        tags=['monthly'],
    )
}}

{#- OpenPrescribing measures (seeds prescribing_measures + filters) for every GP practice and every
    sub-ICB location, month by month, as OpenPrescribing computes them
    (measure_sql/practice_ratios.sql, practice_percent_rank.sql, global_deciles_practices.sql,
    practice_list_size_measure_cost_savings.sql, practice_cost_savings.sql):

    - every practice with ODS prescribing setting 4, open in the month, gets a row for every measure;
      a missing numerator or denominator is 0;
    - calc_value = numerator / denominator, NULL when the denominator is 0 (IEEE_DIVIDE's Inf and
      NaN); percentile = percent_rank over the month's non-NULL values;
    - sub-ICB locations sum their practices' numerators and denominators (today's geography);
    - cost-based measures: potential savings if the organisation prescribed at the 10th percentile
      of its level, i.e. for per-1,000-patient measures numerator - p10 x denominator, and for
      percentage measures the cost of the denominator's quantity re-mixed to the p10 share at the
      organisation's own costs per unit (OpenPrescribing's formula, below). -#}

{% set levels = ['practice', 'sub_icb_location'] %}

with

measures as (
    select * from {{ ref('prescribing_measures') }}
),

measure_codes as (
    select * from {{ ref('int_prescribing_measure_bnf_codes') }}
),

prescribing as (
    select
        month,
        practice_code,
        bnf_code,
        items,
        total_quantity,
        actual_cost,
        adq_usage
    from {{ ref('fct_prescribing') }}
    where {{ period_window('month') }}
),

registered as (
    select
        month,
        practice_code,
        sum(number_of_patients) as list_size
    from {{ ref('fct_registered_population') }}
    where {{ period_window('month') }}
    group by month, practice_code
),

ods_releases as (
    -- the earliest release also stands for the months before it
    select
        practice_code,
        prescribing_setting,
        open_date,
        close_date,
        {{ in_force_from('release_month', 'practice_code') }} as in_force_from,
        {{ in_force_until('release_month', 'practice_code') }} as in_force_until
    from {{ ref('stg_ods__practices') }}
),

attribution as (
    select * from {{ ref('int_practice_month_commissioner') }}
    where {{ period_window('month') }}
),

commissioners as (
    select * from {{ ref('dim_sub_icb') }}
),

months as (
    select distinct month from prescribing
),

ods_practices as (
    select distinct practice_code
    from ods_releases
),

practice_months as (
    select
        months.month,
        ods_practices.practice_code
    from months
    cross join ods_practices
),

ods_as_at as (
    -- The epraccur release in force in the month; months before the first release take the first.
    select
        practice_months.month,
        practice_months.practice_code,
        ods_releases.prescribing_setting,
        ods_releases.open_date,
        ods_releases.close_date
    from practice_months
    inner join ods_releases
        on
            practice_months.practice_code = ods_releases.practice_code
            and practice_months.month >= ods_releases.in_force_from
            and practice_months.month < ods_releases.in_force_until
),

gp_practices as (
    select
        month,
        practice_code
    from ods_as_at
    where
        prescribing_setting = 4
        and open_date <= last_day(month)
        and (close_date is null or close_date >= month)
),

part_totals as (
    select
        prescribing.month,
        prescribing.practice_code,
        measure_codes.measure_id,
        measure_codes.part,
        sum(prescribing.items) as items,
        sum(prescribing.total_quantity) as quantity,
        sum(prescribing.actual_cost) as cost,
        sum(prescribing.adq_usage) as adq
    from prescribing
    inner join measure_codes
        on prescribing.bnf_code = measure_codes.bnf_code
    group by prescribing.month, prescribing.practice_code, measure_codes.measure_id, measure_codes.part
),

practice_values as (
    select
        measures.measure_id,
        gp_practices.month,
        'practice' as org_type,
        gp_practices.practice_code as org_code,
        commissioners.sub_icb_location_code,
        commissioners.icb_code,
        commissioners.region_code,
        registered.list_size,
        numerators.items as num_items,
        numerators.quantity as num_quantity,
        numerators.cost as num_cost,
        denominators.items as denom_items,
        denominators.quantity as denom_quantity,
        denominators.cost as denom_cost,
        coalesce(
            case measures.numerator_type
                when 'bnf_items' then numerators.items
                when 'bnf_quantity' then numerators.quantity
                when 'bnf_cost' then numerators.cost
                when 'bnf_adq' then numerators.adq
            end,
            0
        ) as numerator,
        coalesce(
            case measures.denominator_type
                when 'list_size' then registered.list_size / 1000.0
                when 'bnf_items' then denominators.items
                when 'bnf_quantity' then denominators.quantity
                when 'bnf_cost' then denominators.cost
                when 'bnf_adq' then denominators.adq
            end,
            0
        ) as denominator
    from gp_practices
    cross join measures
    left join part_totals as numerators
        on
            gp_practices.month = numerators.month
            and gp_practices.practice_code = numerators.practice_code
            and measures.measure_id = numerators.measure_id
            and numerators.part = 'numerator'
    left join part_totals as denominators
        on
            gp_practices.month = denominators.month
            and gp_practices.practice_code = denominators.practice_code
            and measures.measure_id = denominators.measure_id
            and denominators.part = 'denominator'
    left join registered
        on
            gp_practices.month = registered.month
            and gp_practices.practice_code = registered.practice_code
    left join attribution
        on
            gp_practices.month = attribution.month
            and gp_practices.practice_code = attribution.practice_code
    left join commissioners
        on attribution.published_commissioner_code = commissioners.commissioner_code
),

sub_icb_location_values as (
    select
        measure_id,
        month,
        'sub_icb_location' as org_type,
        sub_icb_location_code as org_code,
        sub_icb_location_code,
        max(icb_code) as icb_code,
        max(region_code) as region_code,
        sum(list_size) as list_size,
        sum(num_items) as num_items,
        sum(num_quantity) as num_quantity,
        sum(num_cost) as num_cost,
        sum(denom_items) as denom_items,
        sum(denom_quantity) as denom_quantity,
        sum(denom_cost) as denom_cost,
        sum(numerator) as numerator,
        sum(denominator) as denominator
    from practice_values
    where sub_icb_location_code is not null
    group by measure_id, month, sub_icb_location_code
),

{% for level in levels %}
    {{ level }}_ratios as (
        select
            *,
            case when denominator = 0 then null else numerator / denominator end as calc_value
        from {{ level }}_values
    ),

    {{ level }}_ranked as (
        select
            measure_id,
            month,
            org_code,
            percent_rank() over (partition by measure_id, month order by calc_value) as percentile
        from {{ level }}_ratios
        where calc_value is not null
    ),

    {{ level }}_global as (
        select
            measure_id,
            month,
            percentile_cont(0.1) within group (order by calc_value) as centile_10,
            sum(num_cost) / nullif(sum(num_quantity), 0) as cost_per_num,
            (sum(denom_cost) - sum(num_cost)) / nullif(sum(denom_quantity) - sum(num_quantity), 0)
                as cost_per_denom
        from {{ level }}_ratios
        group by measure_id, month
    ),

    {{ level }}_scored as (
        select
            ratios.*,
            ranked.percentile,
            overall.centile_10,
            case
                when not measures.is_cost_based then null
                when measures.is_percentage
                    then coalesce(
                        -- denominator cost - (p10 share of the denominator quantity at the
                        -- organisation's numerator cost per unit + the rest at its other cost per unit)
                        ratios.denom_cost - (
                            overall.centile_10 * ratios.denom_quantity
                            * case
                                when ratios.num_quantity > 0 then ratios.num_cost / ratios.num_quantity
                                else overall.cost_per_num
                            end
                            + (ratios.denom_quantity - ratios.denom_quantity * overall.centile_10)
                            * case
                                when ratios.denom_quantity - coalesce(ratios.num_quantity, 0) = 0
                                    then overall.cost_per_denom
                                else
                                    (ratios.denom_cost - coalesce(ratios.num_cost, 0))
                                    / (ratios.denom_quantity - coalesce(ratios.num_quantity, 0))
                            end
                        ),
                        0
                    )
                else coalesce(ratios.numerator - overall.centile_10 * ratios.denominator, 0)
            end as cost_savings
        from {{ level }}_ratios as ratios
        inner join measures
            on ratios.measure_id = measures.measure_id
        left join {{ level }}_ranked as ranked
            on
                ratios.measure_id = ranked.measure_id
                and ratios.month = ranked.month
                and ratios.org_code = ranked.org_code
        left join {{ level }}_global as overall
            on
                ratios.measure_id = overall.measure_id
                and ratios.month = overall.month
    ),

{% endfor %}

unioned as (
    {% for level in levels %}
        select * from {{ level }}_scored
        {% if not loop.last %}union all by name{% endif %}
    {% endfor %}
),

final as (
    select
        unioned.measure_id,
        unioned.month,
        unioned.org_type,
        unioned.org_code,
        unioned.sub_icb_location_code,
        unioned.icb_code,
        unioned.region_code,
        unioned.numerator,
        unioned.denominator,
        unioned.calc_value,
        case when measures.is_percentage then unioned.calc_value * 100 else unioned.calc_value end
            as display_value,
        unioned.percentile,
        unioned.centile_10,
        unioned.cost_savings,
        unioned.num_items::bigint as num_items,
        unioned.num_quantity,
        unioned.num_cost,
        unioned.denom_items::bigint as denom_items,
        unioned.denom_quantity,
        unioned.denom_cost,
        unioned.list_size::bigint as list_size,
        measures.is_percentage,
        measures.is_cost_based,
        measures.low_is_good
    from unioned
    inner join measures
        on unioned.measure_id = measures.measure_id
)

select * from final
