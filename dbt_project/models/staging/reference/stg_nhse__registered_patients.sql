with

source as (
    select * from {{ source('raw', 'gp_registered_patients') }}
),

renamed as (
    select
        _period as month,
        extract_date,
        upper(org_type) as org_type,
        org_code,
        commissioner_code,
        lower(sex) as sex,
        {{ normalise_age_band('age_band') }} as age_band,
        number_of_patients,
        _schema_variant,
        _source_file,
        _loaded_at
    from source
)

select * from renamed
