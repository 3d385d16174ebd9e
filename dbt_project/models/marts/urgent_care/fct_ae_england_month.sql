{#- England per month as NHS England publishes it (the TOTAL row), next to the sum of the
    provider rows, so a missing or revised provider row shows as a difference. -#}
with

sitrep as (
    select * from {{ ref('stg_nhse__ae_monthly') }}
),

providers as (
    select * from {{ ref('fct_ae_provider_month') }}
),

published as (
    select
        period_month as month,
        org_code as total_label,
        coalesce(attendances_type_1, 0) + coalesce(attendances_type_2, 0) + coalesce(attendances_other, 0)
        + coalesce(booked_attendances_type_1, 0) + coalesce(booked_attendances_type_2, 0)
        + coalesce(booked_attendances_other, 0) as total_attendances,
        coalesce(over_4h_type_1, 0) + coalesce(over_4h_type_2, 0) + coalesce(over_4h_other, 0)
        + coalesce(booked_over_4h_type_1, 0) + coalesce(booked_over_4h_type_2, 0)
        + coalesce(booked_over_4h_other, 0) as total_over_4h,
        coalesce(attendances_type_1, 0) + coalesce(booked_attendances_type_1, 0) as type_1_attendances,
        coalesce(over_4h_type_1, 0) + coalesce(booked_over_4h_type_1, 0) as type_1_over_4h,
        dta_4_to_12h,
        dta_over_12h,
        coalesce(emergency_admissions_type_1, 0) + coalesce(emergency_admissions_type_2, 0)
        + coalesce(emergency_admissions_other, 0) as emergency_admissions_via_ae,
        other_emergency_admissions
    from sitrep
    where is_total_row
),

summed as (
    select
        month,
        count(*) as provider_rows,
        sum(total_attendances) as provider_total_attendances,
        sum(total_over_4h) as provider_total_over_4h
    from providers
    group by month
),

final as (
    select
        summed.month,
        published.total_label,
        summed.provider_rows,
        published.total_attendances,
        published.total_over_4h,
        case
            when published.total_attendances > 0
                then 1 - published.total_over_4h / published.total_attendances
        end as four_hour_performance,
        case
            when published.type_1_attendances > 0
                then 1 - published.type_1_over_4h / published.type_1_attendances
        end as four_hour_performance_type_1,
        published.dta_4_to_12h,
        published.dta_over_12h,
        published.emergency_admissions_via_ae,
        published.other_emergency_admissions,
        summed.provider_total_attendances::bigint as provider_total_attendances,
        summed.provider_total_over_4h::bigint as provider_total_over_4h,
        (summed.provider_total_attendances - published.total_attendances)::bigint as provider_sum_minus_total
    from summed
    left join published
        on summed.month = published.month
)

select * from final
