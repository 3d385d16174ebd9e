{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='extract_month',
        on_schema_change='fail',
        tags=['monthly'],
    )
}}

{#- One row per outpatient appointment (attended or not), costed and attributed like spells.
    Attended appointments are priced by the national tariff: the outpatient procedure price of
    the HRG when it has one, else the treatment function's first or follow-up (face-to-face,
    single professional) attendance price; remote or unpriced attendances fall back to the
    National Cost Collection average of the currency in department CL/OPROC for the treatment
    function; did-not-attend and cancelled appointments cost nothing and say so. -#}
with

appointments as (
    select * from {{ ref('stg_hes__opa_appointments') }}
    where {{ period_window('extract_month') }}
),

attendance_prices as (
    select
        *,
        {{ in_force_until('financial_year_start', 'treatment_function_code') }} as in_force_until
    from {{ ref('dim_tariff_op_attendance_price') }}
),

procedure_prices as (
    select
        financial_year_start,
        hrg_code,
        outpatient_procedure_price,
        {{ in_force_until('financial_year_start', 'hrg_code') }} as in_force_until
    from {{ ref('dim_tariff_apc_price') }}
    where outpatient_procedure_price is not null
),

ncc_years as (
    select
        financial_year_start,
        currency_code,
        coalesce(service_code, '') as service_code,
        sum(total_cost) / nullif(sum(total_activity), 0) as unit_cost
    from {{ ref('dim_ncc_unit_cost') }}
    where department_code in ('CL', 'OPROC')
    group by financial_year_start, currency_code, coalesce(service_code, '')
),

ncc as (
    select
        *,
        {{ in_force_until('financial_year_start', 'currency_code, service_code') }} as in_force_until
    from ncc_years
),

priced as (
    select
        appointments.*,
        procedure_prices.outpatient_procedure_price,
        case
            when appointments.is_remote then null
            when appointments.appointment_type = 'first' then attendance_prices.first_single_price
            when appointments.appointment_type = 'follow_up' then attendance_prices.follow_up_single_price
        end as attendance_price,
        attendance_prices.treatment_function_code is not null as has_tariff_function
    from appointments
    left join procedure_prices
        on
            appointments.hrg_code = procedure_prices.hrg_code
            and appointments.appointment_date >= procedure_prices.financial_year_start
            and appointments.appointment_date < procedure_prices.in_force_until
    left join attendance_prices
        on
            appointments.treatment_function_code = attendance_prices.treatment_function_code
            and appointments.appointment_date >= attendance_prices.financial_year_start
            and appointments.appointment_date < attendance_prices.in_force_until
),

with_ncc as (
    select
        priced.*,
        ncc.unit_cost as ncc_unit_cost
    from priced
    left join ncc
        on
            priced.hrg_code = ncc.currency_code
            and coalesce(priced.treatment_function_code, '') = ncc.service_code
            and priced.appointment_date >= ncc.financial_year_start
            and priced.appointment_date < ncc.in_force_until
),

costed as (
    select
        *,
        case
            when attendance_status != 'attended' then 'not_attended'
            when outpatient_procedure_price is not null then 'tariff_procedure'
            when attendance_price is not null then 'tariff'
            when ncc_unit_cost is not null then 'ncc_unit_cost'
            else 'unpriced'
        end as cost_basis
    from with_ncc
),

attributed as (
    {{ attribute_to_commissioner(
        'costed', 'gp_practice_code', 'appointment_date', 'record_commissioner_code'
    ) }}
),

final as (
    select
        appointment_key,
        extract_month,
        date_trunc('month', appointment_date)::date as appointment_month,
        appointment_date,
        attendance_status,
        attendance_status = 'attended' as is_attended,
        appointment_type,
        is_remote,
        outcome_code,
        priority_code,
        referral_source_code,
        treatment_function_code,
        age,
        sex,
        patient_id,
        provider_code,
        provider_site_code,
        primary_diagnosis,
        main_procedure,
        hrg_code,
        gp_practice_code,
        is_default_practice_code,
        is_known_practice,
        attribution_source,
        attribution_gap,
        published_commissioner_code,
        sub_icb_location_code,
        icb_code,
        region_code,
        lsoa_code,
        cost_basis,
        case
            when cost_basis = 'tariff_procedure' then outpatient_procedure_price
            when cost_basis = 'tariff' then attendance_price
            when cost_basis = 'ncc_unit_cost' then ncc_unit_cost
            when cost_basis = 'not_attended' then 0
        end as cost,
        not(
            cost_basis = 'tariff_procedure' or (cost_basis = 'tariff' and appointment_type = 'first')
        ) as is_notional_cost,
        case
            when cost_basis != 'unpriced' then null
            when hrg_code is null then 'no HRG on the record'
            when not has_tariff_function then 'treatment function not in the tariff'
            else 'no national price for this attendance'
        end as unpriced_reason
    from attributed
)

select * from final
