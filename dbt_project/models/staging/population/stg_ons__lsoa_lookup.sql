with

source as (
    select * from {{ source('raw', 'ons_lsoa_commissioner_lookup') }}
),

renamed as (
    select
        _period as published_month,
        lsoa_code,
        lsoa_name,
        commissioner_code,
        ons_commissioner_code,
        commissioner_name,
        parent_code,
        lad_code,
        lad_name,
        _loaded_at
    from source
)

select * from renamed
