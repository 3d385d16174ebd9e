{#- Renamed and typed. VALUE arrives as published (a number, points fractional, or `*`): `*`
    becomes NULL with its flag, never 0. Long: one row per practice, indicator and measure. -#}
with

source as (
    select * from {{ source('raw', 'qof_achievement') }}
),

renamed as (
    select
        _period as financial_year_start,
        {{ financial_year_label('_period') }} as financial_year,
        region_ods_code,
        region_ons_code,
        region_name,
        practice_code,
        indicator_code,
        measure,
        cast(nullif(value, '*') as double) as value,
        coalesce(value = '*', false) as is_value_suppressed,
        _schema_variant,
        _source_file,
        _loaded_at
    from source
)

select * from renamed
