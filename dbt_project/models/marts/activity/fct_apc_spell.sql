{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='extract_month',
        tags=['monthly'],
    )
}}

{#- One row per finished provider spell, attributed to the registered practice's commissioner
    in the discharge month (falling back to the commissioner on the record when the practice is
    a default code or unknown), restated to today's sub-ICB location, ICB and region. -#}
with

spells as (
    select * from {{ ref('int_apc_spells') }}
),

practice_commissioner as (
    select * from {{ ref('int_practice_month_commissioner') }}
),

commissioners as (
    select * from {{ ref('dim_sub_icb') }}
),

attributed as (
    select
        spells.*,
        practice_commissioner.practice_code is not null as is_known_practice,
        case
            when practice_commissioner.published_commissioner_code is not null then 'registered_practice'
            when spells.record_commissioner_code is not null then 'record_commissioner'
            else 'unattributed'
        end as attribution_source,
        coalesce(
            practice_commissioner.published_commissioner_code, spells.record_commissioner_code
        ) as published_commissioner_code
    from spells
    left join practice_commissioner
        on
            spells.gp_practice_code = practice_commissioner.practice_code
            and spells.discharge_month = practice_commissioner.month
),

final as (
    select
        attributed.spell_key,
        attributed.extract_month,
        attributed.discharge_month,
        attributed.admission_month,
        attributed.admission_date,
        attributed.discharge_date,
        attributed.length_of_stay,
        attributed.episode_count,
        attributed.has_first_episode,
        attributed.point_of_delivery,
        attributed.is_emergency,
        attributed.is_transfer_in,
        attributed.admission_method,
        attributed.admission_source,
        attributed.patient_classification,
        attributed.discharge_method,
        attributed.discharge_destination,
        attributed.discharge_method = '4' as died_in_hospital,
        attributed.age,
        attributed.sex,
        attributed.patient_id,
        attributed.provider_code,
        attributed.provider_site_code,
        attributed.admitting_treatment_function,
        attributed.treatment_function_code,
        attributed.primary_diagnosis,
        attributed.diagnoses,
        attributed.procedures,
        attributed.hrg_code,
        attributed.gp_practice_code,
        attributed.is_default_practice_code,
        attributed.is_known_practice,
        attributed.attribution_source,
        attributed.published_commissioner_code,
        commissioners.sub_icb_location_code,
        commissioners.icb_code,
        commissioners.region_code,
        case
            when attributed.attribution_source = 'unattributed' then 'no practice or commissioner on the record'
            when commissioners.sub_icb_location_code is null then 'commissioner code not in the crosswalk'
        end as attribution_gap,
        attributed.lsoa_code,
        attributed.sus_tariff_total,
        attributed.is_sus_spell_record
    from attributed
    left join commissioners
        on attributed.published_commissioner_code = commissioners.commissioner_code
)

select * from final
