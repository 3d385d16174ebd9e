{#- Fingertips indicators in their long shape, each area once, keyed to our geography. -#}
with

indicator_rows as (
    select * from {{ ref('int_fingertips_latest_deduplicated') }}
),

area_types as (
    select * from {{ ref('fingertips_area_types') }}
),

sub_icb_locations as (
    select * from {{ ref('sub_icb_locations') }}
),

icbs as (
    select * from {{ ref('dim_icb') }}
),

regions as (
    select * from {{ ref('dim_region') }}
),

with_level as (
    select
        indicator_rows.*,
        coalesce(area_types.area_level, 'unknown') as area_level
    from indicator_rows
    left join area_types
        on indicator_rows.area_type = area_types.area_type
),

final as (
    select
        with_level.indicator_id,
        with_level.indicator_name,
        with_level.area_level,
        with_level.area_type,
        with_level.area_code,
        with_level.area_name,
        case
            when with_level.area_level = 'england' then 'E92000001'
            when with_level.area_level = 'sub_icb_location' then sub_icb_locations.sub_icb_location_code
            when with_level.area_level = 'icb' then icbs.icb_code
            when with_level.area_level = 'nhs_region' then regions.region_code
            when with_level.area_level in ('gp_practice', 'primary_care_network', 'acute_trust')
                then with_level.area_code
        end as org_code,
        with_level.parent_code,
        with_level.sex,
        with_level.age,
        with_level.category_type,
        with_level.category,
        with_level.category_type is null as is_headline,
        with_level.time_period,
        with_level.time_period_sortable,
        with_level.time_period_range,
        with_level.value,
        with_level.lower_ci_95,
        with_level.upper_ci_95,
        with_level.lower_ci_998,
        with_level.upper_ci_998,
        with_level.count,
        with_level.denominator,
        with_level.value is null as is_missing_value,
        with_level.value_note,
        with_level.recent_trend,
        with_level.compared_to_england,
        with_level.compared_to_parent,
        with_level.listed_times,
        with_level.release_month,
        with_level._source_file
    from with_level
    left join sub_icb_locations
        on
            with_level.area_level = 'sub_icb_location'
            and with_level.area_code = sub_icb_locations.ons_sub_icb_location_code
    left join icbs
        on with_level.area_level = 'icb' and with_level.area_code = icbs.ons_icb_code
    left join regions
        on with_level.area_level = 'nhs_region' and with_level.area_code = regions.ons_region_code
)

select * from final
