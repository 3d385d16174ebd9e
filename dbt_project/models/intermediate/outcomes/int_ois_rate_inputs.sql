{{ config(materialized='table') }}

{#- Inputs of the directly standardised hospital-admission indicators (seed ois_indicators,
    method dsr): per indicator × financial year × area × ESP2013 19-band age group, the
    admissions counted (int_ois_admission_events) and the registered person-years at risk (the
    monthly list sizes of the months that have admitted-care data, / 12), with the band's
    standard population weight. Areas: practice, sub-ICB location, ICB and region (today's
    geography) and England. Age ranges use whole quinary bands that overlap the indicator's range
    (list sizes have no finer split): "0-18" is counted as 0-19 on both sides. -#}
{%- set levels = [
    ('gp_practice', 'practice_code'),
    ('sub_icb_location', 'sub_icb_location_code'),
    ('icb', 'icb_code'),
    ('region', 'region_code'),
    ('england', "'E92000001'"),
] %}
with

indicators as (
    select * from {{ ref('ois_indicators') }}
    where source = 'hes_apc' and method = 'dsr'
),

standard as (
    select
        age_band,
        age_from,
        age_to,
        weight as standard_population
    from {{ ref('esp2013') }}
    where band_scheme = 'esp19'
),

indicator_bands as (
    select
        indicators.indicator_id,
        standard.*
    from indicators
    inner join standard
        on indicators.age_to >= standard.age_from and indicators.age_from <= standard.age_to
),

covered_months as (
    select distinct discharge_month as month from {{ ref('fct_apc_spell') }}
),

population as (
    select
        registered.*,
        {{ financial_year_start('registered.month') }} as financial_year_start
    from {{ ref('fct_registered_population') }} as registered
    inner join covered_months on registered.month = covered_months.month
),

events as (
    select
        events.*,
        events.gp_practice_code as practice_code,
        standard.age_band
    from {{ ref('int_ois_admission_events') }} as events
    inner join standard
        on events.age between standard.age_from and standard.age_to
),

{% for level, column in levels %}
    population_{{ level }} as (
        select
            financial_year_start,
            {{ column }} as area_code,
            esp19_age_band as age_band,
            count(distinct month) as months_covered,
            sum(number_of_patients) / 12.0 as person_years
        from population
        group by all
    ),

    events_{{ level }} as (
        select
            indicator_id,
            financial_year_start,
            {{ column }} as area_code,
            age_band,
            count(*) as events
        from events
        group by all
    ),

    at_risk_{{ level }} as (
        select
            indicator_bands.indicator_id,
            population_{{ level }}.financial_year_start,
            population_{{ level }}.area_code,
            indicator_bands.age_band,
            population_{{ level }}.months_covered,
            population_{{ level }}.person_years
        from indicator_bands
        inner join population_{{ level }}
            on indicator_bands.age_band = population_{{ level }}.age_band
        where population_{{ level }}.area_code is not null
    ),

    inputs_{{ level }} as (
        {#- a full join keeps admissions whose area or band has no registered population #}
        select
            coalesce(at_risk_{{ level }}.indicator_id, events_{{ level }}.indicator_id) as indicator_id,
            coalesce(
                at_risk_{{ level }}.financial_year_start, events_{{ level }}.financial_year_start
            ) as financial_year_start,
            '{{ level }}' as area_level,
            coalesce(at_risk_{{ level }}.area_code, events_{{ level }}.area_code) as area_code,
            coalesce(at_risk_{{ level }}.age_band, events_{{ level }}.age_band) as age_band,
            at_risk_{{ level }}.months_covered,
            at_risk_{{ level }}.person_years,
            coalesce(events_{{ level }}.events, 0) as events
        from at_risk_{{ level }}
        full outer join events_{{ level }}
            on
                at_risk_{{ level }}.indicator_id = events_{{ level }}.indicator_id
                and at_risk_{{ level }}.financial_year_start = events_{{ level }}.financial_year_start
                and at_risk_{{ level }}.area_code = events_{{ level }}.area_code
                and at_risk_{{ level }}.age_band = events_{{ level }}.age_band
        where coalesce(at_risk_{{ level }}.area_code, events_{{ level }}.area_code) is not null
    ),
{% endfor %}

unioned as (
    {%- for level, column in levels %}
        select * from inputs_{{ level }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

final as (
    select
        unioned.*,
        standard.standard_population
    from unioned
    inner join standard on unioned.age_band = standard.age_band
)

select * from final
