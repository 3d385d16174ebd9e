{#- Tariff prices by HRG and financial year, for costing spells and outpatient procedures.
    Prices are as published (no market forces factor); NULL means no national price. -#}
with

apc_prices as (
    select * from {{ ref('stg_tariff__apc_prices') }}
),

final as (
    select
        financial_year,
        financial_year_start,
        cast(financial_year_start + interval 1 year - interval 1 day as date) as financial_year_end,
        hrg_code,
        hrg_name,
        outpatient_procedure_price,
        combined_day_case_elective_price,
        day_case_price,
        ordinary_elective_price,
        elective_trim_days,
        non_elective_price,
        non_elective_trim_days,
        per_day_long_stay_price,
        coalesce(rsse_applicable, false) as rsse_applicable,
        rsse_share,
        rsse_price,
        bpt_name,
        bpt_flag,
        coalesce(
            outpatient_procedure_price,
            combined_day_case_elective_price,
            day_case_price,
            ordinary_elective_price,
            non_elective_price,
            rsse_price
        ) is not null as has_any_price,
        _schema_variant as tariff_layout,
        _source_file as source_file
    from apc_prices
)

select * from final
