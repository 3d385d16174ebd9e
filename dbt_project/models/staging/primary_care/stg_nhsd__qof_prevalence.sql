{#- Renamed and typed. REGISTER and the list size arrive as published (a whole number or `*`):
    `*` becomes NULL with its flag, never 0. The list size is the list of the row's
    patient_list_type (TOTAL, 17OV …) at 1 April after the year. -#}
with

source as (
    select * from {{ source('raw', 'qof_prevalence') }}
),

renamed as (
    select
        _period as financial_year_start,
        {{ financial_year_label('_period') }} as financial_year,
        practice_code,
        group_code,
        patient_list_type,
        cast(cast(nullif(register, '*') as double) as bigint) as register,
        cast(cast(nullif(practice_list_size, '*') as double) as bigint) as list_size,
        coalesce(register = '*', false) as is_register_suppressed,
        coalesce(practice_list_size = '*', false) as is_list_size_suppressed,
        _schema_variant,
        _source_file,
        _loaded_at
    from source
)

select * from renamed
