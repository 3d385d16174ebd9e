{#- Primary-care prescribing per long-term-condition programme (seed ltc_programme_bnf: BNF
    section, paragraph or chemical prefixes), sub-ICB location (today's geography) and month.
    Prefixes (all BNF sections or finer) are matched through an equality on the section, so the
    join is a hash join at national volumes. -#}
with

programmes as (
    select
        programme,
        bnf_code_prefix,
        len(bnf_code_prefix) as prefix_length
    from {{ ref('ltc_programme_bnf') }}
),

prescribing as (
    select * from {{ ref('fct_prescribing') }}
    where is_gp_practice
),

matched as (
    select
        prescribing.month,
        coalesce(prescribing.sub_icb_location_code, 'unattributed') as sub_icb_location_code,
        programmes.programme,
        prescribing.items,
        prescribing.actual_cost
    from prescribing
    inner join programmes
        on
            -- every programme prefix is a BNF section or finer (4+ characters): an equality on the
            -- section lets DuckDB hash-join, then the full prefix is checked
            prescribing.bnf_code[1:4] = programmes.bnf_code_prefix[1:4]
            and prescribing.bnf_code[1:programmes.prefix_length] = programmes.bnf_code_prefix
),

final as (
    select
        month,
        sub_icb_location_code,
        programme,
        sum(items) as items,
        sum(actual_cost) as actual_cost
    from matched
    group by all
)

select * from final
