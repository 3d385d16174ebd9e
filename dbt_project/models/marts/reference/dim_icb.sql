with

sub_icb_locations as (
    select * from {{ ref('sub_icb_locations') }}
),

final as (
    select
        icb_code,
        any_value(icb_name) as icb_name,
        any_value(ons_icb_code) as ons_icb_code,
        any_value(region_code) as region_code,
        count(*) as sub_icb_locations
    from sub_icb_locations
    group by icb_code
)

select * from final
