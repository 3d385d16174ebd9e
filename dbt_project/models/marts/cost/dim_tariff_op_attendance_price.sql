{#- Outpatient attendance prices by treatment function and financial year. -#}
with

op_prices as (
    select * from {{ ref('stg_tariff__op_attendance_prices') }}
),

final as (
    select
        financial_year,
        financial_year_start,
        cast(financial_year_start + interval 1 year - interval 1 day as date) as financial_year_end,
        treatment_function_code,
        treatment_function_name,
        first_single_price,
        first_multi_price,
        follow_up_single_price,
        follow_up_multi_price,
        coalesce(
            first_single_price, first_multi_price, follow_up_single_price, follow_up_multi_price
        ) is not null as has_any_price,
        _schema_variant as tariff_layout,
        _source_file as source_file
    from op_prices
)

select * from final
