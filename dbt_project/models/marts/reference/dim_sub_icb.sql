{#- One row per commissioner code, current or historic, so activity published against any
    CCG code since 2013 can be restated to today's sub-ICB location, ICB and region. -#}
with

codes as (
    select * from {{ ref('int_commissioner_codes') }}
),

sub_icb_locations as (
    select * from {{ ref('sub_icb_locations') }}
),

final as (
    select
        codes.commissioner_code,
        codes.commissioner_name,
        codes.code_status,
        codes.code_status = 'sub_icb_location' as is_current,
        codes.valid_from,
        codes.valid_to,
        codes.current_sub_icb_location_code as sub_icb_location_code,
        sub_icb_locations.sub_icb_location_name,
        sub_icb_locations.ons_sub_icb_location_code,
        sub_icb_locations.icb_code,
        sub_icb_locations.region_code,
        codes.succession_path
    from codes
    left join sub_icb_locations
        on codes.current_sub_icb_location_code = sub_icb_locations.sub_icb_location_code
)

select * from final
