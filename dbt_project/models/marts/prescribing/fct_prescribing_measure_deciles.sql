{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='month',
        on_schema_change='fail',
        tags=['monthly'],
    )
}}

{#- National deciles of each measure per month and organisation level (OpenPrescribing's
    global_deciles_practices.sql: percentile_cont 0.1 … 0.9 over the non-NULL values), the national
    value from the summed numerators and denominators, and for cost-based measures the total
    potential saving — the sum of the positive savings against the 10th percentile
    (global_cost_savings.sql). -#}
with

measure_values as (
    select * from {{ ref('fct_prescribing_measure') }}
    where {{ period_window('month') }}
),

final as (
    select
        measure_id,
        month,
        org_type,
        {% for centile in range(10, 100, 10) %}
            percentile_cont({{ centile / 100 }}) within group (order by calc_value) as centile_{{ centile }},
        {% endfor %}
        count(*) as organisations,
        count(calc_value) as organisations_with_value,
        sum(numerator) as numerator,
        sum(denominator) as denominator,
        sum(numerator) / nullif(sum(denominator), 0) as calc_value,
        case
            when bool_or(is_cost_based) then sum(case when cost_savings > 0 then cost_savings else 0 end)
        end as cost_savings_at_centile_10
    from measure_values
    group by measure_id, month, org_type
)

select * from final
