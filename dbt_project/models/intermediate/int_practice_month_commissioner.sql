{#- The commissioner each practice was mapped to in each month, as published: the month's own
    gp-reg-pat-prac-map row, else the latest earlier one, else the ODS epraccur release. -#}
with

registered_months as (
    select distinct
        month,
        org_code as practice_code
    from {{ ref('stg_nhse__registered_patients') }}
    where org_type = 'GP'
),

practice_map as (
    select
        month as map_month,
        practice_code,
        commissioner_code,
        pcn_code,
        {{ in_force_until('month', 'practice_code') }} as in_force_until
    from {{ ref('stg_nhse__practice_map') }}
),

ods_releases as (
    select
        release_month,
        practice_code,
        coalesce(current_commissioner_code, commissioner_code) as commissioner_code,
        {{ in_force_until('release_month', 'practice_code') }} as in_force_until
    from {{ ref('stg_ods__practices') }}
),

from_map as (
    select
        registered_months.month,
        registered_months.practice_code,
        practice_map.map_month,
        practice_map.commissioner_code as map_commissioner_code,
        practice_map.pcn_code
    from registered_months
    left join practice_map
        on
            registered_months.practice_code = practice_map.practice_code
            and registered_months.month >= practice_map.map_month
            and registered_months.month < practice_map.in_force_until
),

with_ods as (
    select
        from_map.*,
        ods_releases.commissioner_code as ods_commissioner_code
    from from_map
    left join ods_releases
        on
            from_map.practice_code = ods_releases.practice_code
            and from_map.month >= ods_releases.release_month
            and from_map.month < ods_releases.in_force_until
),

final as (
    select
        month,
        practice_code,
        pcn_code,
        coalesce(map_commissioner_code, ods_commissioner_code) as published_commissioner_code,
        case
            when map_month = month then 'practice_map_same_month'
            when map_month is not null then 'practice_map_earlier_month'
            when ods_commissioner_code is not null then 'ods_epraccur'
            else 'unattributed'
        end as attribution_source
    from with_ods
)

select * from final
