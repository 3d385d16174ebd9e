{#- National average unit cost per department, currency and service = Σ actual cost / Σ activity
    over the providers that report both (activity-weighted, not the mean of providers' unit
    costs). The totals are additive: a department × currency average over all services is
    Σ total_cost / Σ total_activity of its rows. -#}
with

unit_costs as (
    select * from {{ ref('stg_ncc__org_unit_costs') }}
),

national as (
    select
        financial_year,
        financial_year_start,
        department_code,
        currency_code,
        service_code,
        count(distinct provider_code) filter (where not is_suppressed) as providers_costed,
        sum(activity) filter (where not is_suppressed) as total_activity,
        sum(actual_cost) filter (where not is_suppressed) as total_cost,
        count(*) filter (where is_suppressed) as suppressed_rows,
        count(*) as published_rows,
        case
            when count(distinct published_national_mean) = 1 then max(published_national_mean)
        end as published_national_mean
    from unit_costs
    group by financial_year, financial_year_start, department_code, currency_code, service_code
),

final as (
    select
        financial_year,
        financial_year_start,
        department_code,
        currency_code,
        service_code,
        providers_costed,
        total_activity,
        total_cost,
        total_cost / nullif(total_activity, 0) as national_average_unit_cost,
        suppressed_rows,
        published_rows,
        published_national_mean
    from national
)

select * from final
