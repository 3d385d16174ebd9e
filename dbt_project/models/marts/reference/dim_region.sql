with

sub_icb_locations as (
    select * from {{ ref('sub_icb_locations') }}
),

final as (
    select distinct
        region_code,
        region_name,
        ons_region_code
    from sub_icb_locations
)

select * from final
