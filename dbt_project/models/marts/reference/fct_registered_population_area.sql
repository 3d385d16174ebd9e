{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='month',
        tags=['monthly'],
    )
}}

{#- Registered population rolled up to sub-ICB location, ICB, region and England, at today's
    geography: the denominators for rates and standardisation at every area level. -#}
with

practice_level as (
    select * from {{ ref('fct_registered_population') }}
    where {{ period_window('month') }}
),

rolled_up as (
    select
        month,
        sex,
        age_band,
        esp19_age_band,
        age_from,
        sub_icb_location_code,
        icb_code,
        region_code,
        grouping(sub_icb_location_code, icb_code, region_code) as grouping_id,
        sum(number_of_patients) as number_of_patients,
        count(distinct practice_code) as practices
    from practice_level
    group by
        grouping sets (
            (month, sex, age_band, esp19_age_band, age_from, sub_icb_location_code, icb_code, region_code),
            (month, sex, age_band, esp19_age_band, age_from, icb_code, region_code),
            (month, sex, age_band, esp19_age_band, age_from, region_code),
            (month, sex, age_band, esp19_age_band, age_from)
        )
),

labelled as (
    select
        month,
        case grouping_id
            when 0 then 'sub_icb_location'
            when 4 then 'icb'
            when 6 then 'region'
            else 'england'
        end as area_type,
        case grouping_id
            when 0 then sub_icb_location_code
            when 4 then icb_code
            when 6 then region_code
            else 'E92000001'
        end as area_code,
        sex,
        age_band,
        esp19_age_band,
        age_from,
        number_of_patients,
        practices
    from rolled_up
),

-- Unattributed practices count in England's total but in no sub-ICB location, ICB or region.
final as (
    select * from labelled
    where area_code is not null
)

select * from final
