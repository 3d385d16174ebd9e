{#- The monthly A&E SitRep, renamed and typed. `Period` (MSitAE-APRIL-2025) becomes the month it
    states, next to the landing month; the TOTAL row is kept and flagged. -#}
with

source as (
    select * from {{ source('raw', 'ae_monthly') }}
),

final as (
    select
        _period as period_month,
        case
            when not is_total_row
                then try_strptime(
                    '01-' || split_part(period, '-', 2) || '-' || split_part(period, '-', 3),
                    '%d-%B-%Y'
                )::date
        end as stated_month,
        period as period_label,
        org_code,
        org_name,
        trim(parent_org) as parent_org,
        case
            when not is_total_row
                then regexp_replace(upper(trim(parent_org)), '^NHS ENGLAND ', '')
        end as region_name,
        is_total_row,
        attendances_type_1,
        attendances_type_2,
        attendances_other,
        booked_attendances_type_1,
        booked_attendances_type_2,
        booked_attendances_other,
        over_4h_type_1,
        over_4h_type_2,
        over_4h_other,
        booked_over_4h_type_1,
        booked_over_4h_type_2,
        booked_over_4h_other,
        dta_4_to_12h,
        dta_over_12h,
        emergency_admissions_type_1,
        emergency_admissions_type_2,
        emergency_admissions_other,
        other_emergency_admissions,
        _schema_variant,
        _source_file,
        _loaded_at
    from source
)

select * from final
