{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='month',
        on_schema_change='fail',
        tags=['monthly'],
    )
}}

{#- Every setting's activity and cost in one shape, per month × today's sub-ICB location ×
    setting × point of delivery × treatment function × service (HRG) × sex × age band: the
    grain the commissioning marts aggregate. Admitted care counts spells by discharge month;
    outpatients count attended appointments (did-not-attends separately); A&E counts finished
    attendances, costed by the SUS final price or the National Cost Collection emergency
    medicine unit cost of their HRG. Unpriced activity is counted, never costed at zero. -#}
with

spells as (
    select
        discharge_month as month,
        sub_icb_location_code,
        'admitted_care' as setting,
        point_of_delivery,
        treatment_function_code,
        hrg_code as service_code,
        sex,
        age,
        cost,
        cost_basis,
        is_notional_cost,
        length_of_stay as bed_days
    from {{ ref('fct_apc_spell') }}
    where {{ period_window('discharge_month') }}
),

appointments as (
    select
        appointment_month as month,
        sub_icb_location_code,
        'outpatients' as setting,
        case
            when not is_attended then 'outpatient_not_attended'
            when cost_basis = 'tariff_procedure' then 'outpatient_procedure'
            else 'outpatient_' || appointment_type
        end as point_of_delivery,
        treatment_function_code,
        hrg_code as service_code,
        sex,
        age,
        cost,
        cost_basis,
        is_notional_cost,
        0 as bed_days
    from {{ ref('fct_outpatient_attendance') }}
    where {{ period_window('appointment_month') }}
),

ae_unit_cost_years as (
    select
        financial_year_start,
        currency_code,
        sum(total_cost) / nullif(sum(total_activity), 0) as unit_cost
    from {{ ref('dim_ncc_unit_cost') }}
    where department_code = 'EM'
    group by financial_year_start, currency_code
),

ae_unit_costs as (
    select
        *,
        {{ in_force_until('financial_year_start', 'currency_code') }} as in_force_until
    from ae_unit_cost_years
),

ae as (
    select
        attendances.arrival_month as month,
        attendances.sub_icb_location_code,
        'urgent_and_emergency_care' as setting,
        'ae_type_' || coalesce(attendances.department_type, 'unknown') as point_of_delivery,
        null::varchar as treatment_function_code,
        attendances.hrg_code as service_code,
        attendances.sex,
        attendances.age_at_arrival as age,
        coalesce(nullif(attendances.final_price, 0), ae_unit_costs.unit_cost) as cost,
        case
            when nullif(attendances.final_price, 0) is not null then 'sus_tariff'
            when ae_unit_costs.unit_cost is not null then 'ncc_unit_cost'
            else 'unpriced'
        end as cost_basis,
        true as is_notional_cost,
        0 as bed_days
    from {{ ref('fct_ae_attendance') }} as attendances
    left join ae_unit_costs
        on
            attendances.hrg_code = ae_unit_costs.currency_code
            and attendances.arrival_date >= ae_unit_costs.financial_year_start
            and attendances.arrival_date < ae_unit_costs.in_force_until
    where {{ period_window('attendances.arrival_month') }}
),

prescribing as (
    select
        month,
        sub_icb_location_code,
        'primary_care_prescribing' as setting,
        case when is_gp_practice then 'prescribing_gp_practice' else 'prescribing_other_cost_centre' end
            as point_of_delivery,
        null::varchar as treatment_function_code,
        bnf_code[1:4] as service_code,
        null::varchar as sex,
        null::integer as age,
        actual_cost as cost,
        'actual_cost' as cost_basis,
        false as is_notional_cost,
        0 as bed_days,
        items
    from {{ ref('fct_prescribing') }}
    where {{ period_window('month') }}
),

activity as (
    select
        *,
        1 as items
    from spells
    union all
    select
        *,
        1 as items
    from appointments
    union all
    select
        *,
        1 as items
    from ae
    union all
    select * from prescribing
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
        activity.month,
        activity.sub_icb_location_code,
        activity.setting,
        activity.point_of_delivery,
        activity.treatment_function_code,
        activity.service_code,
        activity.sex,
        bands.age_band,
        bands.age_from,
        sum(activity.items)::bigint as activity,
        (sum(activity.items) filter (where activity.cost_basis = 'unpriced'))::bigint as unpriced_activity,
        sum(activity.cost) as cost,
        sum(activity.cost) filter (where activity.is_notional_cost) as notional_cost,
        sum(activity.bed_days)::bigint as bed_days
    from activity
    left join bands
        on activity.age between bands.age_from and bands.age_to
    group by all
)

select * from final
