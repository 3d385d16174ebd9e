with

source as (
    select * from {{ source('raw', 'gp_practice_map') }}
),

renamed as (
    select
        _period as month,
        extract_date,
        practice_code,
        practice_name,
        practice_postcode,
        pcn_code,
        pcn_name,
        commissioner_code,
        commissioner_name,
        ons_commissioner_code,
        parent_code,
        parent_name,
        ons_parent_code,
        region_code,
        region_name,
        ons_region_code,
        supplier_name,
        case
            when _schema_variant like 'ccg%' then 'ccg' else 'sub_icb_location'
        end as commissioner_type,
        _schema_variant,
        _source_file,
        _loaded_at
    from source
)

select * from renamed
