{#- The "identify health needs" step of the commissioning cycle in one table: for each sub-ICB
    location, registered and resident population, age structure, deprivation, and the public-
    health indicators beside England's values, compared as Fingertips does. -#}
with

registered_all_months as (
    select * from {{ ref('fct_registered_population_area') }}
    where area_type in ('sub_icb_location', 'england')
),

registered as (
    select * from registered_all_months
    qualify month = max(month) over ()
),

lsoas as (
    select * from {{ ref('dim_lsoa') }}
),

resident_estimates as (
    select * from {{ ref('fct_resident_population') }}
    where area_type in ('sub_icb_location', 'england')
    qualify reference_year = max(reference_year) over ()
),

ons_resident_measures as (
    select
        area_code,
        sum(population) as ons_resident_population,
        100.0 * sum(population) filter (where age_from >= 65) / sum(population) as pct_resident_aged_65_plus
    from resident_estimates
    group by area_code
),

indicators as (
    select * from {{ ref('fct_public_health_indicator') }}
    where is_headline and sex = 'Persons'
),

indicator_metadata as (
    select * from {{ ref('dim_indicator') }}
),

locations as (
    select * from {{ ref('sub_icb_locations') }}
),

registered_measures as (
    select
        area_code,
        strftime(any_value(month), '%Y-%m') as period,
        sum(number_of_patients) as registered_patients,
        100.0 * sum(number_of_patients) filter (where age_from >= 65) / sum(number_of_patients)
            as pct_registered_aged_65_plus,
        100.0 * sum(number_of_patients) filter (where age_from >= 85) / sum(number_of_patients)
            as pct_registered_aged_85_plus,
        100.0 * sum(number_of_patients) filter (where age_from < 20) / sum(number_of_patients)
            as pct_registered_aged_under_20
    from registered
    group by area_code
),

resident_by_location as (
    select
        sub_icb_location_code as area_code,
        'IoD' || any_value(iod_edition) as period,
        sum(resident_population) as resident_population,
        sum(imd_score * resident_population) / sum(resident_population) as imd_score_population_weighted,
        100.0 * sum(resident_population) filter (where imd_quintile = 1) / sum(resident_population)
            as pct_resident_in_most_deprived_quintile
    from lsoas
    where sub_icb_location_code is not null
    group by sub_icb_location_code
),

-- England counts every LSOA, including any the lookup leaves without a sub-ICB location.
resident_england as (
    select
        'E92000001' as area_code,
        'IoD' || any_value(iod_edition) as period,
        sum(resident_population) as resident_population,
        sum(imd_score * resident_population) / sum(resident_population) as imd_score_population_weighted,
        100.0 * sum(resident_population) filter (where imd_quintile = 1) / sum(resident_population)
            as pct_resident_in_most_deprived_quintile
    from lsoas
),

resident_measures as (
    select * from resident_by_location
    union all
    select * from resident_england
),

demographic_long as (
    unpivot (
        select
            registered_measures.area_code,
            registered_measures.period,
            registered_measures.registered_patients,
            registered_measures.pct_registered_aged_65_plus,
            registered_measures.pct_registered_aged_85_plus,
            registered_measures.pct_registered_aged_under_20,
            coalesce(ons_resident_measures.ons_resident_population, resident_measures.resident_population)
                as resident_population,
            ons_resident_measures.pct_resident_aged_65_plus,
            registered_measures.registered_patients
            / coalesce(ons_resident_measures.ons_resident_population, resident_measures.resident_population)
                as registered_to_resident_ratio,
            resident_measures.imd_score_population_weighted,
            resident_measures.pct_resident_in_most_deprived_quintile
        from registered_measures
        left join resident_measures
            on registered_measures.area_code = resident_measures.area_code
        left join ons_resident_measures
            on registered_measures.area_code = ons_resident_measures.area_code
    )
    on
    registered_patients,
    pct_registered_aged_65_plus,
    pct_registered_aged_85_plus,
    pct_registered_aged_under_20,
    resident_population,
    pct_resident_aged_65_plus,
    registered_to_resident_ratio,
    imd_score_population_weighted,
    pct_resident_in_most_deprived_quintile
    into name measure value measure_value
),

demographic as (
    select
        local.area_code as sub_icb_location_code,
        case
            when local.measure like '%imd%' or local.measure like '%deprived%' then 'deprivation'
            else 'population'
        end as measure_group,
        local.measure,
        cast(null as integer) as indicator_id,
        local.period,
        local.measure_value as value,
        cast(null as double) as lower_ci_95,
        cast(null as double) as upper_ci_95,
        england.measure_value as england_value,
        'Not compared' as compared_to_england,
        case
            when local.measure like 'pct%' then '%'
            when local.measure = 'imd_score_population_weighted' then 'score'
            when local.measure like '%ratio' then 'ratio'
            else 'people'
        end as unit
    from demographic_long as local
    left join demographic_long as england
        on local.measure = england.measure and england.area_code = 'E92000001'
    where local.area_code != 'E92000001'
),

latest_indicator_period as (
    select
        indicator_id,
        max(time_period_sortable) as time_period_sortable
    from indicators
    where area_level = 'sub_icb_location'
    group by indicator_id
),

public_health as (
    select
        local.org_code as sub_icb_location_code,
        'public_health' as measure_group,
        local.indicator_name as measure,
        local.indicator_id,
        local.time_period as period,
        local.value,
        local.lower_ci_95,
        local.upper_ci_95,
        england.value as england_value,
        stats.compare_with_benchmark(
            local.value, local.lower_ci_95, local.upper_ci_95, england.value,
            indicator_metadata.polarity_code
        ) as compared_to_england,
        indicator_metadata.unit
    from indicators as local
    inner join latest_indicator_period
        on
            local.indicator_id = latest_indicator_period.indicator_id
            and local.time_period_sortable = latest_indicator_period.time_period_sortable
    left join indicators as england
        on
            local.indicator_id = england.indicator_id
            and local.time_period_sortable = england.time_period_sortable
            and local.age = england.age
            and england.area_level = 'england'
    left join indicator_metadata
        on local.indicator_id = indicator_metadata.indicator_id
    where local.area_level = 'sub_icb_location' and local.org_code is not null
),

all_measures as (
    select * from demographic
    union all
    select * from public_health
),

final as (
    select
        all_measures.sub_icb_location_code,
        locations.sub_icb_location_name,
        locations.icb_code,
        all_measures.measure_group,
        all_measures.measure,
        all_measures.indicator_id,
        all_measures.period,
        all_measures.value,
        all_measures.lower_ci_95,
        all_measures.upper_ci_95,
        all_measures.england_value,
        all_measures.compared_to_england,
        all_measures.unit
    from all_measures
    inner join locations
        on all_measures.sub_icb_location_code = locations.sub_icb_location_code
)

select * from final
