{#- Renamed and typed; `-` (no price) is already NULL in raw. -#}
with

source as (
    select * from {{ source('raw', 'tariff_op_attendance_prices') }}
),

renamed as (
    select
        _period as financial_year_start,
        {{ financial_year_label('_period') }} as financial_year,
        treatment_function_code,
        treatment_function_name,
        first_single_price,
        first_multi_price,
        follow_up_single_price,
        follow_up_multi_price,
        _schema_variant,
        _source_file,
        _loaded_at
    from source
)

select * from renamed
