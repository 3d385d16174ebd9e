{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='period_month',
        on_schema_change='fail',
        tags=['monthly'],
    )
}}

{#- One row per finished, de-duplicated A&E attendance, attributed to a commissioner the way SUS
    does it: the registered practice's sub-ICB location for the month of arrival (as published,
    and restated to today's geography), else the patient's LSOA of residence. Rows that neither
    route attributes are kept with the reason. -#}
with

records as (
    select * from {{ ref('stg_sus__ecds') }}
    where {{ period_window('period_month') }}
),

attribution as (
    select * from {{ ref('int_practice_month_commissioner') }}
),

commissioners as (
    select * from {{ ref('dim_sub_icb') }}
),

lsoas as (
    select * from {{ ref('dim_lsoa') }}
),

attendances as (
    select * from records
    where is_finished and not is_duplicate
    qualify row_number() over (
        partition by attendance_id order by period_month desc, _source_file asc, source_line asc
    ) = 1
),

by_practice as (
    select
        attendances.*,
        attribution.published_commissioner_code as practice_commissioner_code,
        attribution.attribution_source as practice_attribution_source,
        commissioners.sub_icb_location_code as practice_sub_icb_location_code
    from attendances
    left join attribution
        on
            attendances.gp_practice_code = attribution.practice_code
            and attendances.arrival_month = attribution.month
    left join commissioners
        on attribution.published_commissioner_code = commissioners.commissioner_code
),

attributed as (
    select
        by_practice.*,
        case
            when by_practice.practice_sub_icb_location_code is not null then 'registered_practice'
            when lsoas.sub_icb_location_code is not null then 'residence_lsoa'
        end as attribution_basis,
        case
            when by_practice.practice_sub_icb_location_code is not null
                then by_practice.practice_commissioner_code
            else lsoas.published_commissioner_code
        end as published_commissioner_code,
        coalesce(by_practice.practice_sub_icb_location_code, lsoas.sub_icb_location_code)
            as sub_icb_location_code
    from by_practice
    left join lsoas
        on by_practice.lsoa_code = lsoas.lsoa_code
),

final as (
    select
        attributed.attendance_id,
        attributed.period_month,
        attributed.record_layout,
        attributed.provider_code,
        attributed.provider_site_code,
        attributed.department_type,
        attributed.arrival_date,
        attributed.arrival_month,
        attributed.arrival_at,
        attributed.departure_at,
        attributed.age_at_arrival,
        attributed.sex,
        attributed.duration_minutes,
        attributed.duration_minutes > 240 as over_4_hours,
        attributed.duration_minutes > 720 as over_12_hours,
        attributed.gp_practice_code as registered_practice_code,
        attributed.is_default_practice_code,
        attributed.practice_attribution_source,
        attributed.attribution_basis,
        attributed.published_commissioner_code,
        attributed.sub_icb_location_code,
        commissioners.icb_code,
        commissioners.region_code,
        case
            when attributed.sub_icb_location_code is not null then null
            when attributed.gp_practice_code is null then 'no_practice_code'
            when attributed.is_default_practice_code then 'default_practice_code'
            when attributed.practice_commissioner_code is null then 'practice_not_found'
            else 'commissioner_not_in_crosswalk'
        end as unattributed_reason,
        attributed.sus_commissioner_code,
        attributed.lsoa_code,
        attributed.primary_diagnosis,
        attributed.primary_diagnosis_scheme,
        attributed.chief_complaint,
        attributed.discharge_status,
        attributed.hrg_code,
        attributed.tariff,
        attributed.final_price,
        attributed._source_file,
        attributed._loaded_at
    from attributed
    left join commissioners
        on attributed.sub_icb_location_code = commissioners.commissioner_code
)

select * from final
