with

source as (
    select * from {{ source('raw', 'fingertips_indicator_metadata') }}
),

renamed as (
    select
        _period as release_month,
        indicator_id,
        indicator as indicator_name,
        definition,
        data_source,
        methodology,
        standard_population,
        confidence_interval_details,
        definition_of_numerator,
        definition_of_denominator,
        disclosure_control,
        caveats,
        frequency,
        unit,
        value_type,
        year_type,
        polarity,
        _loaded_at
    from source
)

select * from renamed
