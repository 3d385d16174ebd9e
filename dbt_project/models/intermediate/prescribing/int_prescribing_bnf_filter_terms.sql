{#- OpenPrescribing's BNF filter grammar, parsed set-based (import_measures.py
    build_bnf_codes_query_where / _fragment): the text after '#' is a comment; a leading '~'
    excludes; a term holding '%' is a LIKE pattern; a full-length code (15 characters for
    chapters 01-19, 11 for 20-23) is equality; anything else is a prefix. -#}
with

filters as (
    select * from {{ ref('prescribing_measure_bnf_filters') }}
),

uncommented as (
    select
        measure_id,
        part,
        term_order,
        term,
        trim(split_part(term, '#', 1)) as code_term
    from filters
),

signed as (
    select
        *,
        starts_with(code_term, '~') as is_exclusion,
        case when starts_with(code_term, '~') then substr(code_term, 2) else code_term end
            as code_pattern
    from uncommented
),

sized as (
    select
        *,
        -- OpenPrescribing compares the first two characters as text: '19' and below are drugs.
        case when left(code_pattern, 2) <= '19' then 15 else 11 end as full_code_length
    from signed
),

final as (
    select
        measure_id,
        part,
        term_order,
        term,
        is_exclusion,
        code_pattern,
        full_code_length,
        case
            when contains(code_pattern, '%') then 'like'
            when length(code_pattern) = full_code_length then 'equals'
            else 'prefix'
        end as match_type,
        case
            when contains(code_pattern, '%') then code_pattern
            when length(code_pattern) = full_code_length then code_pattern
            else code_pattern || '%'
        end as like_pattern
    from sized
)

select * from final
