{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='extract_month',
        on_schema_change='fail',
        tags=['monthly'],
    )
}}

{#- One row per finished provider spell, costed, attributed to the registered practice's
    commissioner in the discharge month (the record's commissioner when the practice is a default
    code or unknown) and restated to today's sub-ICB location, ICB and region. -#}
with

spells as (
    select * from {{ ref('int_apc_spells') }}
    where {{ period_window('extract_month') }}
),

costs as (
    select * from {{ ref('int_apc_spell_costs') }}
    where {{ period_window('extract_month') }}
),

attributed as (
    {{ attribute_to_commissioner(
        'spells', 'gp_practice_code', 'discharge_date', 'record_commissioner_code'
    ) }}
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
        attributed.attribution_gap,
        attributed.published_commissioner_code,
        attributed.sub_icb_location_code,
        attributed.icb_code,
        attributed.region_code,
        attributed.lsoa_code,
        costs.cost,
        costs.cost_basis,
        costs.is_notional_cost,
        costs.unpriced_reason,
        costs.tariff_financial_year,
        costs.base_price,
        costs.trim_days,
        costs.excess_bed_days,
        attributed.is_sus_spell_record
    from attributed
    left join costs
        on attributed.spell_key = costs.spell_key
)

select * from final
