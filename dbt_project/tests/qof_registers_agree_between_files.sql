{{ config(severity='warn') }}
{#- A register indicator (DM017, DEM001 …) counts the group's register, which the prevalence file
    of the same year publishes too: a difference means one of the two files comes from another
    extract (or a re-issue of one was not landed with the other). Suppressed cells are not
    compared. The indicator's group is its letters (DM017 → DM). -#}
with

achievement as (
    select
        financial_year_start,
        practice_code,
        indicator_code,
        regexp_extract(indicator_code, '^([A-Z]+)', 1) as group_code,
        value as achievement_register
    from {{ ref('stg_nhsd__qof_achievement') }}
    where measure = 'REGISTER' and not is_value_suppressed
),

prevalence as (
    select
        financial_year_start,
        practice_code,
        group_code,
        register as prevalence_register
    from {{ ref('stg_nhsd__qof_prevalence') }}
    where not is_register_suppressed
)

select
    achievement.financial_year_start,
    achievement.practice_code,
    achievement.indicator_code,
    achievement.achievement_register,
    prevalence.prevalence_register
from achievement
inner join prevalence
    on
        achievement.financial_year_start = prevalence.financial_year_start
        and achievement.practice_code = prevalence.practice_code
        and achievement.group_code = prevalence.group_code
where achievement.achievement_register != prevalence.prevalence_register
