{#- Patient experience in one long table: Friends and Family Test per trust and ICB per month,
    GP Patient Survey per practice, sub-ICB location and ICB per survey year. Roll-ups add
    counts (FFT) or weight practice shares by their base (GPPS); percentages are never averaged. -#}
with

fft as (
    select * from {{ ref('int_fft_percentages') }}
),

gpps as (
    select * from {{ ref('int_gpps_concepts_long') }}
),

practices as (
    select * from {{ ref('dim_practice') }}
),

fft_trust as (
    select
        'fft' as source,
        setting as measure,
        'trust' as org_level,
        trust_code as org_code,
        strftime(period_month, '%Y-%m') as period,
        period_month as period_start,
        total_responses as responses,
        very_good + good as positive_responses,
        percentage_positive as value,
        percentage_negative,
        total_eligible,
        case when total_responses between 1 and 4 then 'small_count' end as suppression_state,
        true as is_verified_question
    from fft
),

fft_icb as (
    select
        'fft' as source,
        setting as measure,
        'icb' as org_level,
        icb_code as org_code,
        strftime(period_month, '%Y-%m') as period,
        period_month as period_start,
        sum(total_responses) as responses,
        sum(very_good + good) as positive_responses,
        sum(very_good + good) / nullif(sum(total_responses), 0) as value,
        sum(poor + very_poor) / nullif(sum(total_responses), 0) as percentage_negative,
        sum(total_eligible) as total_eligible,
        case when sum(total_responses) between 1 and 4 then 'small_count' end as suppression_state,
        true as is_verified_question
    from fft
    group by setting, icb_code, period_month
),

gpps_practice as (
    select
        gpps.*,
        practices.sub_icb_location_code,
        practices.icb_code
    from gpps
    left join practices
        on gpps.practice_code = practices.practice_code
),

gpps_levels as (
    select
        survey_year,
        concept,
        'practice' as org_level,
        practice_code as org_code,
        base,
        good_count,
        good_share,
        is_suppressed,
        is_verified_question
    from gpps_practice

    {% for level, code in [('sub_icb_location', 'sub_icb_location_code'), ('icb', 'icb_code')] %}
        union all

        select
            survey_year,
            concept,
            '{{ level }}' as org_level,
            {{ code }} as org_code,
            sum(base) filter (where not is_suppressed) as base,
            sum(good_count) filter (where not is_suppressed) as good_count,
            sum(good_share * base) filter (where not is_suppressed)
            / nullif(sum(base) filter (where not is_suppressed), 0) as good_share,
            false as is_suppressed,
            bool_and(is_verified_question) as is_verified_question
        from gpps_practice
        where {{ code }} is not null
        group by survey_year, concept, {{ code }}
    {% endfor %}
),

gpps_final as (
    select
        'gpps' as source,
        concept as measure,
        org_level,
        org_code,
        cast(survey_year as varchar) as period,
        make_date(survey_year, 1, 1) as period_start,
        base as responses,
        good_count as positive_responses,
        good_share as value,
        cast(null as double) as percentage_negative,
        cast(null as double) as total_eligible,
        case when is_suppressed then 'publisher_suppressed' end as suppression_state,
        is_verified_question
    from gpps_levels
),

final as (
    select * from fft_trust
    union all
    select * from fft_icb
    union all
    select * from gpps_final
)

select * from final
