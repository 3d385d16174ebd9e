{#- The Data Quality Maturity Index per provider, feed and month (feeds_and_methods.md §9.2):
    mean item score over the items the extract carried × coverage, where coverage is the share
    of the 12 months ending at the month (those the submission grid expects of the provider)
    in which it submitted. Items not in the extract are not counted (n = items submitted). -#}
with

item_scores as (
    select * from {{ ref('dq_item_completeness') }}
),

submission_grid as (
    select * from {{ ref('dq_submission_coverage') }}
    where org_type = 'provider'
),

coverage as (
    select
        feed,
        org_code as provider_code,
        month,
        count(*) over last_12_months as months_expected,
        count(*) filter (where status in ('present', 'partial', 'late')) over last_12_months
            as months_submitted
    from submission_grid
    window last_12_months as (
        partition by feed, org_code
        order by month
        range between interval 11 month preceding and current row
    )
),

provider_months as (
    select
        item_scores.feed,
        item_scores.provider_code,
        item_scores.month,
        count(*) filter (where item_scores.is_in_extract) as items_submitted,
        count(*) filter (where item_scores.status = 'low') as items_low,
        count(*) filter (where not item_scores.is_in_extract) as items_not_in_extract,
        avg(item_scores.item_score) filter (where item_scores.is_in_extract) as mean_item_score,
        any_value(coverage.months_expected) as months_expected,
        any_value(coverage.months_submitted) as months_submitted,
        any_value(coverage.months_submitted / coverage.months_expected) as coverage,
        {{ dqmi_index(
            'case when item_scores.is_in_extract then item_scores.item_score end',
            'case when item_scores.is_in_extract then coverage.months_submitted / coverage.months_expected end'
        ) }} as unrounded_dqmi
    from item_scores
    left join coverage
        on
            item_scores.feed = coverage.feed
            and item_scores.provider_code = coverage.provider_code
            and item_scores.month = coverage.month
    group by item_scores.feed, item_scores.provider_code, item_scores.month
),

final as (
    select
        feed,
        provider_code,
        month,
        items_submitted,
        items_low,
        items_not_in_extract,
        mean_item_score,
        months_expected,
        months_submitted,
        coverage,
        -- published to one decimal place, as NHS Digital's DQMI
        round(unrounded_dqmi, 1) as dqmi
    from provider_months
)

select * from final
