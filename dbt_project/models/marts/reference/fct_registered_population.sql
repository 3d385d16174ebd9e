{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='month',
        on_schema_change='fail',
        tags=['monthly'],
    )
}}

{#- One row per practice per month per sex per quinary age band (the ALL rows excluded),
    attributed to the commissioner published for that month and restated to today's
    sub-ICB location, ICB and region. -#}
with

registered as (
    select * from {{ ref('stg_nhse__registered_patients') }}
    where
        org_type = 'GP'
        and sex in ('male', 'female')
        and age_band != 'ALL'
        and {{ period_window('month') }}
),

attribution as (
    select * from {{ ref('int_practice_month_commissioner') }}
    where {{ period_window('month') }}
),

commissioners as (
    select * from {{ ref('dim_sub_icb') }}
),

bands as (
    select
        age_band,
        age_from,
        age_to
    from {{ ref('esp2013') }}
    where band_scheme = 'esp20'
),

final as (
    select
        registered.month,
        registered.org_code as practice_code,
        registered.sex,
        registered.age_band,
        bands.age_from,
        bands.age_to,
        case when bands.age_from >= 90 then '90+' else registered.age_band end as esp19_age_band,
        registered.number_of_patients,
        attribution.pcn_code,
        attribution.published_commissioner_code,
        attribution.attribution_source,
        commissioners.sub_icb_location_code,
        commissioners.icb_code,
        commissioners.region_code,
        registered._source_file,
        registered._loaded_at
    from registered
    left join attribution
        on
            registered.month = attribution.month
            and registered.org_code = attribution.practice_code
    left join commissioners
        on attribution.published_commissioner_code = commissioners.commissioner_code
    left join bands
        on registered.age_band = bands.age_band
)

select * from final
