{#- The monthly SitRep by provider: attendances and 4-hour waits by department type (booked
    appointments included in the totals, as NHS England counts them), decision-to-admit waits and
    emergency admissions. The TOTAL row is left out here (fct_ae_england_month holds it). `-`
    (not applicable) counts as nothing in a total. -#}
with

sitrep as (
    select * from {{ ref('stg_nhse__ae_monthly') }}
    where not is_total_row
),

regions as (
    select * from {{ ref('dim_region') }}
),

measures as (
    select
        *,
        coalesce(attendances_type_1, 0) + coalesce(booked_attendances_type_1, 0) as type_1_attendances,
        coalesce(over_4h_type_1, 0) + coalesce(booked_over_4h_type_1, 0) as type_1_over_4h,
        coalesce(attendances_type_1, 0) + coalesce(attendances_type_2, 0) + coalesce(attendances_other, 0)
        + coalesce(booked_attendances_type_1, 0) + coalesce(booked_attendances_type_2, 0)
        + coalesce(booked_attendances_other, 0) as total_attendances,
        coalesce(over_4h_type_1, 0) + coalesce(over_4h_type_2, 0) + coalesce(over_4h_other, 0)
        + coalesce(booked_over_4h_type_1, 0) + coalesce(booked_over_4h_type_2, 0)
        + coalesce(booked_over_4h_other, 0) as total_over_4h,
        coalesce(emergency_admissions_type_1, 0) + coalesce(emergency_admissions_type_2, 0)
        + coalesce(emergency_admissions_other, 0) as emergency_admissions_via_ae
    from sitrep
),

final as (
    select
        measures.period_month as month,
        measures.org_code as provider_code,
        measures.org_name as provider_name,
        measures.parent_org,
        regions.region_code,
        measures.region_name,
        measures.attendances_type_1,
        measures.attendances_type_2,
        measures.attendances_other,
        measures.booked_attendances_type_1,
        measures.booked_attendances_type_2,
        measures.booked_attendances_other,
        measures.total_attendances,
        measures.over_4h_type_1,
        measures.over_4h_type_2,
        measures.over_4h_other,
        measures.booked_over_4h_type_1,
        measures.booked_over_4h_type_2,
        measures.booked_over_4h_other,
        measures.total_over_4h,
        case
            when measures.total_attendances > 0
                then 1 - measures.total_over_4h / measures.total_attendances
        end as four_hour_performance,
        case
            when measures.type_1_attendances > 0
                then 1 - measures.type_1_over_4h / measures.type_1_attendances
        end as four_hour_performance_type_1,
        measures.dta_4_to_12h,
        measures.dta_over_12h,
        measures.emergency_admissions_type_1,
        measures.emergency_admissions_type_2,
        measures.emergency_admissions_other,
        measures.emergency_admissions_via_ae,
        measures.other_emergency_admissions,
        measures.emergency_admissions_via_ae + coalesce(measures.other_emergency_admissions, 0)
            as total_emergency_admissions,
        measures._schema_variant,
        measures._source_file,
        measures._loaded_at
    from measures
    left join regions
        on measures.region_name = upper(regions.region_name)
)

select * from final
