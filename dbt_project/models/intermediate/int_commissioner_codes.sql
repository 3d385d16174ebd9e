{#- Every commissioner code the warehouse knows: the current sub-ICB locations and every CCG
    code that merged into one, with the dates each was valid and where it leads today. -#}
with

sub_icb_locations as (
    select * from {{ ref('sub_icb_locations') }}
),

successions as (
    select * from {{ ref('org_successions') }}
),

resolved as (
    select * from {{ ref('int_commissioner_successions_resolved') }}
),

ods_commissioners as (
    select
        commissioner_code,
        commissioner_name,
        open_date,
        close_date
    from {{ ref('stg_ods__commissioners') }}
    qualify row_number() over (
        partition by commissioner_code order by release_month desc
    ) = 1
),

current_codes as (
    select
        sub_icb_location_code as commissioner_code,
        former_ccg_name as commissioner_name,
        'sub_icb_location' as code_status,
        sub_icb_location_code as current_sub_icb_location_code,
        cast(null as date) as valid_to,
        sub_icb_location_code as succession_path
    from sub_icb_locations
),

historic_codes as (
    select
        resolved.predecessor_code as commissioner_code,
        any_value(successions.predecessor_name) as commissioner_name,
        'merged' as code_status,
        any_value(resolved.current_sub_icb_location_code) as current_sub_icb_location_code,
        any_value(resolved.succeeded_on) - 1 as valid_to,
        any_value(resolved.succession_path) as succession_path
    from resolved
    inner join successions
        on resolved.predecessor_code = successions.predecessor_code
    group by resolved.predecessor_code
),

all_codes as (
    select * from current_codes
    union all
    select * from historic_codes
),

final as (
    select
        all_codes.commissioner_code,
        coalesce(ods_commissioners.commissioner_name, all_codes.commissioner_name)
            as commissioner_name,
        all_codes.code_status,
        coalesce(ods_commissioners.open_date, date '2013-04-01') as valid_from,
        coalesce(all_codes.valid_to, ods_commissioners.close_date) as valid_to,
        all_codes.current_sub_icb_location_code,
        all_codes.succession_path
    from all_codes
    left join ods_commissioners
        on all_codes.commissioner_code = ods_commissioners.commissioner_code
)

select * from final
