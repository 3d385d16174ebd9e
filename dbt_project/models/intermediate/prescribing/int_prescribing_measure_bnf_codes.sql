{{ config(materialized='table') }}

{#- The BNF presentations each measure part counts, among every code seen in the EPD: codes
    matching any include term (every code when a part has only exclusions), less codes matching
    any exclusion, then — where the measure restricts the part to dm+d form routes — only codes
    whose form route matches (a code without a form route is dropped, as OpenPrescribing's dm+d
    query drops it). A table: the monthly measure models read it once per run instead of scanning
    every month's EPD rows for their codes. -#}
with

presentations as (
    select distinct bnf_code from {{ ref('stg_epd__prescribing') }}
),

terms as (
    select * from {{ ref('int_prescribing_bnf_filter_terms') }}
),

route_patterns as (
    select * from {{ ref('prescribing_measure_form_routes') }}
),

form_routes as (
    select * from {{ ref('bnf_form_route') }}
),

term_matches as (
    select
        terms.measure_id,
        terms.part,
        terms.is_exclusion,
        presentations.bnf_code
    from terms
    inner join presentations
        on
            case
                when terms.match_type = 'equals' then terms.code_pattern = presentations.bnf_code
                else presentations.bnf_code like terms.like_pattern
            end
),

parts as (
    select
        measure_id,
        part,
        count(*) filter (where not is_exclusion) as include_terms
    from terms
    group by measure_id, part
),

included as (
    select distinct
        measure_id,
        part,
        bnf_code
    from term_matches
    where not is_exclusion
    union all
    select
        parts.measure_id,
        parts.part,
        presentations.bnf_code
    from parts
    cross join presentations
    where parts.include_terms = 0
),

excluded as (
    select distinct
        measure_id,
        part,
        bnf_code
    from term_matches
    where is_exclusion
),

kept as (
    select included.*
    from included
    left join excluded
        on
            included.measure_id = excluded.measure_id
            and included.part = excluded.part
            and included.bnf_code = excluded.bnf_code
    where excluded.bnf_code is null
),

restricted_parts as (
    select distinct
        measure_id,
        part
    from route_patterns
),

routed as (
    select distinct
        route_patterns.measure_id,
        route_patterns.part,
        form_routes.bnf_code,
        form_routes.form_route
    from route_patterns
    inner join form_routes
        on form_routes.form_route like route_patterns.form_route_pattern
),

final as (
    select
        kept.measure_id,
        kept.part,
        kept.bnf_code,
        routed.form_route
    from kept
    left join restricted_parts
        on
            kept.measure_id = restricted_parts.measure_id
            and kept.part = restricted_parts.part
    left join routed
        on
            kept.measure_id = routed.measure_id
            and kept.part = routed.part
            and kept.bnf_code = routed.bnf_code
    where restricted_parts.measure_id is null or routed.bnf_code is not null
)

select * from final
