{#- The services that consume most resources, per sub-ICB location and ICB (today's geography)
    and financial year: every setting × service (HRG for hospital activity, BNF section for
    prescribing) ranked by spend, with its share of the area's priced spend and the cumulative
    share, keeping the top 20. The Nuffield Trust study of commissioning for long-term
    conditions (2013) asks commissioners to review these first. Unpriced activity is counted
    beside, so a service cannot look cheap for want of prices. -#}
{%- set levels = [('sub_icb_location', 'sub_icb_location_code'), ('icb', 'icb_code')] %}
with

activity as (
    select
        activity.*,
        locations.icb_code,
        {{ financial_year_start('activity.month') }} as financial_year_start
    from {{ ref('fct_commissioning_activity') }} as activity
    left join {{ ref('sub_icb_locations') }} as locations
        on activity.sub_icb_location_code = locations.sub_icb_location_code
),

hrg_names as (
    select
        hrg_code,
        arg_max(hrg_name, financial_year_start) as hrg_name
    from {{ ref('dim_tariff_apc_price') }}
    group by hrg_code
),

{% for level, column in levels %}
    by_service_{{ level }} as (
        select
            financial_year_start,
            '{{ level }}' as area_level,
            {{ column }} as area_code,
            setting,
            coalesce(service_code, 'unknown') as service_code,
            sum(activity) as activity,
            sum(unpriced_activity) as unpriced_activity,
            sum(cost) as cost,
            count(distinct month) as months_covered
        from activity
        where {{ column }} is not null
        group by all
    ),
{% endfor %}

by_service as (
    {%- for level, column in levels %}
        select * from by_service_{{ level }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

ranked as (
    select
        *,
        row_number() over (
            partition by financial_year_start, area_level, area_code
            order by cost desc nulls last, service_code asc
        ) as spend_rank,
        cost / sum(cost) over (partition by financial_year_start, area_level, area_code) as share_of_spend
    from by_service
),

final as (
    select
        ranked.financial_year_start,
        {{ financial_year_label('ranked.financial_year_start') }} as financial_year,
        ranked.area_level,
        ranked.area_code,
        ranked.spend_rank,
        ranked.setting,
        ranked.service_code,
        hrg_names.hrg_name as service_name,
        ranked.activity::bigint as activity,
        ranked.unpriced_activity::bigint as unpriced_activity,
        ranked.cost,
        ranked.share_of_spend,
        sum(ranked.share_of_spend) over (
            partition by ranked.financial_year_start, ranked.area_level, ranked.area_code
            order by ranked.spend_rank
        ) as cumulative_share_of_spend,
        ranked.months_covered
    from ranked
    left join hrg_names
        on ranked.service_code = hrg_names.hrg_code
    where ranked.spend_rank <= 20
)

select * from final
