with

source as (
    select * from {{ source('raw', 'iod_file7') }}
),

renamed as (
    select
        _period as published_month,
        case when _schema_variant like 'iod2025%' then 2025 else 2019 end as iod_edition,
        case when _schema_variant like 'iod2025%' then 2021 else 2011 end as lsoa_geography_year,
        lsoa_code,
        lsoa_name,
        lad_code,
        lad_name,
        imd_score,
        imd_rank,
        imd_decile,
        income_score,
        employment_score,
        health_deprivation_score,
        idaopi_score,
        idaci_score,
        total_population,
        _loaded_at
    from source
)

select * from renamed
