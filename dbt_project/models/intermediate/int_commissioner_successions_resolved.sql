{#- Follow every CCG merger chain (2013 → 2018 → 2019 → 2020 → 2021) to the code that is a
    sub-ICB location today. One row per predecessor code. -#}
with recursive

successions as (
    select
        predecessor_code,
        successor_code,
        effective_date
    from {{ ref('org_successions') }}
),

chain (code, current_code, closed_on, depth, path) as (
    select
        predecessor_code as code,
        successor_code as current_code,
        effective_date as closed_on,
        1 as depth,
        [predecessor_code, successor_code] as path
    from successions

    union all

    select
        chain.code,
        successions.successor_code as current_code,
        chain.closed_on,
        chain.depth + 1 as depth,
        list_append(chain.path, successions.successor_code) as path
    from chain
    inner join successions
        on chain.current_code = successions.predecessor_code
    where chain.depth < 10
),

final as (
    select
        code as predecessor_code,
        current_code as current_sub_icb_location_code,
        closed_on as succeeded_on,
        depth as mergers,
        array_to_string(path, ' > ') as succession_path
    from chain
    qualify row_number() over (partition by code order by depth desc) = 1
)

select * from final
