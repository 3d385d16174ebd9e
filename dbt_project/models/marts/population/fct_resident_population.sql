{#- Resident population by area, year, sex and the same quinary bands as the registered
    population (90-94 and 95+ cannot be told apart in the 90+ estimate, so both go to 90+). -#}
with

estimates as (
    select * from {{ ref('stg_ons__mid_year_population') }}
    where sex in ('male', 'female') and not is_all_ages and age is not null
    qualify release_month = max(release_month) over (partition by reference_year, geography_code)
),

locations as (
    select * from {{ ref('sub_icb_locations') }}
),

final as (
    select
        estimates.reference_year,
        case
            when estimates.geography_code = 'E92000001' then 'england'
            when locations.sub_icb_location_code is not null then 'sub_icb_location'
            when estimates.geography_code like 'E01%' then 'lsoa'
            else 'local_authority'
        end as area_type,
        coalesce(locations.sub_icb_location_code, estimates.geography_code) as area_code,
        estimates.geography_code as ons_code,
        estimates.sex,
        case
            when estimates.age >= 90 then '90+'
            else (estimates.age // 5 * 5)::varchar || '-' || (estimates.age // 5 * 5 + 4)::varchar
        end as esp19_age_band,
        least(estimates.age // 5 * 5, 90) as age_from,
        sum(estimates.population)::bigint as population
    from estimates
    left join locations
        on estimates.geography_code = locations.ons_sub_icb_location_code
    group by all
)

select * from final
