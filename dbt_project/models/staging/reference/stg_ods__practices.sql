with

source as (
    select * from {{ source('raw', 'ods_epraccur') }}
),

renamed as (
    select
        _period as release_month,
        organisation_code as practice_code,
        name as practice_name,
        national_grouping,
        high_level_health_geography,
        postcode,
        open_date,
        close_date,
        status_code,
        organisation_sub_type_code,
        commissioner_code,
        provider_purchaser_code as current_commissioner_code,
        join_parent_date,
        left_parent_date,
        prescribing_setting,
        _source_file,
        _loaded_at
    from source
)

select * from renamed
