{#- Each trust's reported activity, cost and unit cost per department, service and currency. -#}
with

unit_costs as (
    select * from {{ ref('stg_ncc__org_unit_costs') }}
),

final as (
    select
        financial_year,
        financial_year_start,
        provider_code,
        department_code,
        service_code,
        currency_code,
        activity,
        actual_cost,
        case when not is_suppressed and activity > 0 then actual_cost / activity end as unit_cost,
        expected_cost,
        published_national_mean,
        is_suppressed,
        _source_file as source_file
    from unit_costs
)

select * from final
