{#- Activity and spend per sub-ICB location and ICB (today's geography), month, setting and
    point of delivery, with rates per 1,000 registered patients and spend per age-sex weighted
    head (dim_age_sex_cost_weight). Activity that cannot be attributed to a sub-ICB location is
    reported under area_code 'unattributed' so totals reconcile. A number that a data gap
    touches says so (is_provisional, data_gap_note: int_dq_gap_notes): the setting's own feed,
    the price lists its spend is costed at, or the list sizes and practice map every rate and
    attribution rests on. -#}
{%- set levels = [('sub_icb_location', 'sub_icb_location_code'), ('icb', 'icb_code')] %}
{#- each setting's own feeds: its activity, and the prices and unit costs its spend is costed at
    (an absent price list leaves the spend unpriced, so it is provisional too) -#}
{%- set setting_feeds = [
    ('admitted_care', ['hes_apc', 'tariff_apc_prices', 'ncc_org_unit_costs']),
    ('outpatients', ['hes_opa', 'tariff_op_attendance_prices', 'ncc_org_unit_costs']),
    ('urgent_and_emergency_care', ['ecds']),
    ('primary_care_prescribing', ['epd']),
] %}
with

activity as (
    select
        activity.*,
        locations.icb_code
    from {{ ref('fct_commissioning_activity') }} as activity
    left join {{ ref('sub_icb_locations') }} as locations
        on activity.sub_icb_location_code = locations.sub_icb_location_code
),

weights as (
    select * from {{ ref('dim_age_sex_cost_weight') }}
),

population as (
    select
        registered.month,
        registered.sub_icb_location_code,
        registered.icb_code,
        sum(registered.number_of_patients) as registered_patients,
        sum(registered.number_of_patients * weights.weight) as weighted_patients
    from {{ ref('fct_registered_population') }} as registered
    left join weights
        on
            {{ financial_year_start('registered.month') }} = weights.financial_year_start
            and registered.sex = weights.sex
            and registered.age_from = weights.age_from
    group by all
),

{% for level, column in levels %}
    activity_{{ level }} as (
        select
            month,
            '{{ level }}' as area_level,
            coalesce({{ column }}, 'unattributed') as area_code,
            setting,
            point_of_delivery,
            sum(activity) as activity,
            sum(unpriced_activity) as unpriced_activity,
            sum(cost) as cost,
            sum(notional_cost) as notional_cost,
            sum(bed_days) as bed_days
        from activity
        group by all
    ),

    population_{{ level }} as (
        select
            month,
            {{ column }} as area_code,
            sum(registered_patients) as registered_patients,
            sum(weighted_patients) as weighted_patients
        from population
        group by all
    ),

    summary_{{ level }} as (
        select
            activity_{{ level }}.*,
            population_{{ level }}.registered_patients,
            population_{{ level }}.weighted_patients
        from activity_{{ level }}
        left join population_{{ level }}
            on
                activity_{{ level }}.month = population_{{ level }}.month
                and activity_{{ level }}.area_code = population_{{ level }}.area_code
    ),
{% endfor %}

unioned as (
    {%- for level, column in levels %}
        select * from summary_{{ level }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

gap_notes as (
    select * from {{ ref('int_dq_gap_notes') }}
),

setting_gaps as (
    {%- for setting, feeds in setting_feeds %}
        select
            '{{ setting }}' as setting,
            area_level,
            area_code,
            month,
            is_provisional,
            gaps
        from gap_notes
        where
            feed in ('{{ feeds | join("', '") }}')
            or feed in ('gp_registered_patients', 'gp_practice_map')
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

notes as (
    select
        setting,
        area_level,
        area_code,
        month,
        bool_or(is_provisional) as is_provisional,
        string_agg(gaps, '; ' order by gaps) as gaps
    from setting_gaps
    group by all
),

final as (
    select
        unioned.month,
        unioned.area_level,
        unioned.area_code,
        unioned.setting,
        unioned.point_of_delivery,
        unioned.activity::bigint as activity,
        unioned.unpriced_activity::bigint as unpriced_activity,
        unioned.cost,
        unioned.notional_cost,
        unioned.bed_days::bigint as bed_days,
        unioned.registered_patients::bigint as registered_patients,
        unioned.weighted_patients,
        1000.0 * unioned.activity / nullif(unioned.registered_patients, 0) as activity_per_1000_patients,
        unioned.cost / nullif(unioned.registered_patients, 0) as cost_per_head,
        unioned.cost / nullif(unioned.weighted_patients, 0) as cost_per_weighted_head,
        unioned.unpriced_activity / nullif(unioned.activity, 0) as unpriced_share,
        coalesce(notes.is_provisional, false) as is_provisional,
        case
            when notes.is_provisional then 'Provisional: ' || notes.gaps
            when notes.gaps is not null then 'Check: ' || notes.gaps
        end as data_gap_note
    from unioned
    left join notes
        on
            unioned.setting = notes.setting
            and unioned.area_level = notes.area_level
            and unioned.area_code = notes.area_code
            and unioned.month = notes.month
)

select * from final
