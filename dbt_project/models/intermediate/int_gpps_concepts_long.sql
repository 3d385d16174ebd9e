{#- GPPS results by concept: which question (and so which columns) measures a concept in a survey
    year is data (seed gpps_question_map), because questions are renumbered between years.
    Every qNN column of staging is unpivoted by name pattern: a question added to the feed spec and
    staging needs seed rows, not a change here. Negative values are GPPS special codes (suppressed / not applicable):
    they become NULL with is_suppressed and the code kept, never a number in base, count or share.
    Grain: one row per practice per survey year per concept. -#}
with

practice_results as (
    select * from {{ ref('stg_gpps__practice_results') }}
),

question_map as (
    select * from {{ ref('gpps_question_map') }}
),

published_cells as (
    select
        survey_year,
        release_month,
        practice_code,
        published_column,
        published_value
    from practice_results
    unpivot include nulls (
        published_value for published_column in (columns('^q[0-9]+(base|_12|_12pct)$'))
    )
),

concept_cells as (
    select
        published_cells.survey_year,
        published_cells.release_month,
        published_cells.practice_code,
        question_map.concept,
        question_map.question,
        question_map.provenance,
        published_cells.published_value,
        case published_cells.published_column
            when question_map.base_column then 'base'
            when question_map.count_column then 'good_count'
            when question_map.pct_column then 'good_share'
        end as measure
    from published_cells
    inner join question_map
        on
            published_cells.survey_year = question_map.survey_year
            and published_cells.published_column in (
                question_map.base_column, question_map.count_column, question_map.pct_column
            )
),

final as (
    select
        survey_year,
        release_month,
        practice_code,
        concept,
        question,
        max(published_value) filter (where measure = 'base' and published_value >= 0) as base,
        max(published_value) filter (where measure = 'good_count' and published_value >= 0) as good_count,
        max(published_value) filter (where measure = 'good_share' and published_value >= 0) as good_share,
        coalesce(bool_or(published_value < 0), false) as is_suppressed,
        cast(min(published_value) filter (where published_value < 0) as integer) as suppression_code,
        provenance like 'verified:%' as is_verified_question,
        provenance as question_provenance
    from concept_cells
    group by survey_year, release_month, practice_code, concept, question, provenance
)

select * from final
