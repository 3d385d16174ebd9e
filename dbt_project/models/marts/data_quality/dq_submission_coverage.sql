{#- Submission coverage: every organisation expected to submit a feed in a month, and whether
    it did. An organisation is expected in a month when it submitted the feed in at least two
    of the six months before (OpenPrescribing's practice × month grid, generalised to
    providers). Volume is records (items for the EPD). Each
    cell is present, missing (no records) or partial (under 60% of the organisation's own
    trailing six-month median and more than 3 Poisson standard deviations below it), never
    silently absent. Months before a feed's first delivery are not expected. -#}
{%- set feeds = [
    ('hes_apc', 'provider', 'stg_hes__apc_episodes', 'extract_month', 'provider_code', 'count(*)'),
    ('hes_opa', 'provider', 'stg_hes__opa_appointments', 'extract_month', 'provider_code', 'count(*)'),
    ('ecds', 'provider', 'stg_sus__ecds', 'period_month', 'provider_code', 'count(*)'),
    ('epd', 'practice', 'stg_epd__prescribing', 'month', 'practice_code', 'sum(items)'),
] %}
with

counts as (
    {%- for feed, org_type, model, month_column, org_column, volume in feeds %}
        select
            '{{ feed }}' as feed,
            '{{ org_type }}' as org_type,
            {{ org_column }} as org_code,
            {{ month_column }}::date as month,
            {{ volume }} as records
        from {{ ref(model) }}
        where {{ org_column }} is not null and {{ org_column }} != '-'
        group by all
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

feed_months as (
    select distinct
        feed,
        month
    from counts
),

expected_after_submissions as (
    {#- a delivered month of the feed when the organisation submitted in at least two of the
        six months before (a one-off code is not expected again) #}
    select
        counts.feed,
        counts.org_type,
        counts.org_code,
        feed_months.month,
        count(*) as recent_submissions
    from counts
    inner join feed_months
        on
            counts.feed = feed_months.feed
            and counts.month < feed_months.month
            and feed_months.month <= counts.month + interval 6 month
    group by counts.feed, counts.org_type, counts.org_code, feed_months.month
),

expected as (
    select
        feed,
        org_type,
        org_code,
        month
    from expected_after_submissions
    where recent_submissions >= 2
    union
    select
        feed,
        org_type,
        org_code,
        month
    from counts
),

cells as (
    select
        expected.*,
        coalesce(counts.records, 0) as records
    from expected
    left join counts
        on
            expected.feed = counts.feed
            and expected.org_code = counts.org_code
            and expected.month = counts.month
),

with_history as (
    select
        *,
        median(records) over (
            partition by feed, org_code
            order by month
            range between interval 6 month preceding and interval 1 month preceding
        ) as usual_records
    from cells
),

final as (
    select
        feed,
        org_type,
        org_code,
        month,
        records,
        usual_records,
        records / nullif(usual_records, 0) as share_of_usual,
        case
            when records = 0 then 'missing'
            when
                usual_records >= 20
                and records < 0.6 * usual_records
                and usual_records - records > 3 * sqrt(usual_records)
                then 'partial'
            else 'present'
        end as status,
        case
            when records = 0 then 'no records from an organisation that submitted in the previous six months'
            when
                usual_records >= 20
                and records < 0.6 * usual_records
                and usual_records - records > 3 * sqrt(usual_records)
                then records || ' records against a usual ' || usual_records
        end as status_reason
    from with_history
)

select * from final
