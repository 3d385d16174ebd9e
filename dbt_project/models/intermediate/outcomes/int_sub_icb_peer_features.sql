{#- The variables the sub-ICB peer groups (mart_sub_icb_peers) are built on: one row per current
    sub-ICB location (seed sub_icb_locations) per month with a registered population, so an
    area that cannot be compared is a visible row with its exclusion_reason, never a gap.
    Age structure, sex and list size come from that month's registered lists; deprivation from
    the latest IoD edition's LSOAs (resident population weights), the same for every month. -#}
with

registered as (
    select * from {{ ref('fct_registered_population_area') }}
    where area_type = 'sub_icb_location'
),

lsoas as (
    select * from {{ ref('dim_lsoa') }}
    where sub_icb_location_code is not null
),

locations as (
    select * from {{ ref('sub_icb_locations') }}
),

months as (
    select distinct month from registered
),

{% set age_groups = [
    ('pct_aged_0_4', 0, 5),
    ('pct_aged_5_14', 5, 15),
    ('pct_aged_15_44', 15, 45),
    ('pct_aged_45_64', 45, 65),
    ('pct_aged_65_74', 65, 75),
    ('pct_aged_75_84', 75, 85),
    ('pct_aged_85_plus', 85, none),
] %}

-- Shares of patients with a known age band; a band with nobody in it is 0%, not NULL.
age_sex_structure as (
    select
        month,
        area_code as sub_icb_location_code,
        sum(number_of_patients) as registered_patients,
        {% for column, age_from, age_to in age_groups %}
            100.0 * coalesce(
                sum(number_of_patients) filter (
                    where age_from
                    >= {{ age_from }}{% if age_to is not none %} and age_from < {{ age_to }}{% endif %}
                ),
                0
            ) / nullif(sum(number_of_patients) filter (where age_from is not null), 0) as {{ column }},
        {% endfor %}
        100.0 * coalesce(sum(number_of_patients) filter (where sex = 'female'), 0)
        / nullif(sum(number_of_patients), 0) as pct_female
    from registered
    group by month, area_code
),

-- As mart_needs_profile measures deprivation: resident-weighted, national quintiles.
deprivation as (
    select
        sub_icb_location_code,
        any_value(iod_edition) as iod_edition,
        count(*) as lsoas,
        sum(imd_score * resident_population)
        / nullif(sum(resident_population) filter (where imd_score is not null), 0)
            as imd_score_population_weighted,
        100.0 * coalesce(sum(resident_population) filter (where imd_quintile = 1), 0)
        / nullif(sum(resident_population) filter (where imd_quintile is not null), 0)
            as pct_resident_in_most_deprived_quintile
    from lsoas
    group by sub_icb_location_code
),

features as (
    select
        months.month,
        locations.sub_icb_location_code,
        locations.sub_icb_location_name,
        locations.icb_code,
        locations.region_code,
        age_sex_structure.registered_patients,
        {% for column, _, _ in age_groups %}
            age_sex_structure.{{ column }},
        {% endfor %}
        age_sex_structure.pct_female,
        case
            when age_sex_structure.registered_patients > 0
                then log10(age_sex_structure.registered_patients)
        end as log10_registered_patients,
        coalesce(deprivation.lsoas, 0) as lsoas,
        deprivation.iod_edition,
        deprivation.imd_score_population_weighted,
        deprivation.pct_resident_in_most_deprived_quintile
    from months
    cross join locations
    left join age_sex_structure
        on
            months.month = age_sex_structure.month
            and locations.sub_icb_location_code = age_sex_structure.sub_icb_location_code
    left join deprivation
        on locations.sub_icb_location_code = deprivation.sub_icb_location_code
),

final as (
    select
        *,
        case
            when coalesce(registered_patients, 0) = 0 then 'no registered patients'
            when lsoas = 0 then 'no LSOA mapped'
            when imd_score_population_weighted is null then 'no LSOA with an IMD score and population'
            {%- for feature in peer_features() %}
                when {{ feature.name }} is null then 'missing {{ feature.name }}'
            {%- endfor %}
        end as exclusion_reason
    from features
)

select * from final
