{#- Each LSOA of the latest deprivation edition with today's sub-ICB location (through the latest
    ONS lookup and the commissioner crosswalk) and its deprivation. -#}
with

deprivation as (
    select * from {{ ref('stg_mhclg__iod_file7') }}
    qualify iod_edition = max(iod_edition) over ()
),

lookup as (
    select * from {{ ref('stg_ons__lsoa_lookup') }}
    qualify row_number() over (partition by lsoa_code order by published_month desc) = 1
),

commissioners as (
    select * from {{ ref('dim_sub_icb') }}
),

final as (
    select
        deprivation.lsoa_code,
        deprivation.lsoa_name,
        deprivation.lsoa_geography_year,
        deprivation.lad_code,
        deprivation.lad_name,
        lookup.commissioner_code as published_commissioner_code,
        commissioners.sub_icb_location_code,
        commissioners.icb_code,
        commissioners.region_code,
        deprivation.iod_edition,
        deprivation.imd_score,
        deprivation.imd_rank,
        deprivation.imd_decile,
        ceil(deprivation.imd_decile / 2.0)::integer as imd_quintile,
        deprivation.income_score,
        deprivation.employment_score,
        deprivation.health_deprivation_score,
        deprivation.idaopi_score,
        deprivation.idaci_score,
        deprivation.total_population as resident_population
    from deprivation
    left join lookup
        on deprivation.lsoa_code = lookup.lsoa_code
    left join commissioners
        on lookup.commissioner_code = commissioners.commissioner_code
)

select * from final
