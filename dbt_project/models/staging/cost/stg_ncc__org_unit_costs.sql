{#- Renamed and typed. `*` (suppressed) is already NULL in raw; a row is suppressed when its
    activity or actual cost is missing (the loader cannot tell `*` from a blank cell). -#}
with

source as (
    select * from {{ source('raw', 'ncc_org_unit_costs') }}
),

renamed as (
    select
        _period as financial_year_start,
        {{ financial_year_label('_period') }} as financial_year,
        provider_code,
        department_code,
        service_code,
        currency_code,
        activity,
        actual_cost,
        expected_cost,
        national_mean as published_national_mean,
        scaled_mff,
        (activity is null or actual_cost is null) as is_suppressed,
        _schema_variant,
        _source_file,
        _loaded_at
    from source
)

select * from renamed
