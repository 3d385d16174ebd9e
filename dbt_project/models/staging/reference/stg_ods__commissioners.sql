with

source as (
    select * from {{ source('raw', 'ods_eccg') }}
),

renamed as (
    select
        _period as release_month,
        organisation_code as commissioner_code,
        name as commissioner_name,
        national_grouping,
        high_level_health_geography,
        postcode,
        open_date,
        close_date,
        organisation_sub_type_code,
        _source_file,
        _loaded_at
    from source
)

select * from renamed
