{#- The expected-submissions spine: every file a feed should have delivered and every
    organisation expected in it, per month, with a status, never silently absent.

    File rows (org_type 'file', one per feed × period): present, missing (a monthly feed's
    month with no file between its first and latest delivery, or a month of a run that found
    none of the feed's files: int_dq_feed_absence) or late (arrived more than
    7 days after the feed's usual lag: the median over its files of the days from the period's
    start to arrival). A change of published layout from the month before is flagged.

    Organisation rows: an organisation is expected in a month when it submitted the feed in at
    least two of the six months before (OpenPrescribing's practice × month grid, generalised;
    in a feed's second month, when it submitted in the first),
    or, for list sizes, when the practice map of that month lists it. Each is present, missing
    (no rows), zero (rows, but zero volume), or partial (under 60% of its own trailing
    six-month median and far below it by macros/own_level.sql: more than 3.5 deviations). Months
    before a feed's first delivery are not expected. -#}
with

volume as (
    select * from {{ ref('int_dq_org_month_volume') }}
),

load_log as (
    select * from {{ ref('stg_meta__load_log') }}
),

catalog as (
    select * from {{ source('meta', 'feed_catalog') }}
),

practice_map as (
    select * from {{ ref('stg_nhse__practice_map') }}
),

absent_feeds as (
    select * from {{ ref('int_dq_feed_absence') }}
    where feed_cadence = 'monthly'
),

delivered_span as (
    select
        feed,
        min(period_month) as first_month,
        max(period_month) as last_month
    from load_log
    group by feed
),

monthly_feed_months as (
    {#- every month between a monthly feed's first and latest delivered period #}
    select
        catalog.feed,
        unnest(
            generate_series(delivered_span.first_month, delivered_span.last_month, interval 1 month)
        )::date as month
    from catalog
    inner join delivered_span
        on catalog.feed = delivered_span.feed
    where catalog.cadence = 'monthly'
),

file_months as (
    select
        feed,
        month
    from monthly_feed_months
    union
    select
        feed,
        period_month as month
    from load_log
),

files as (
    select
        file_months.feed,
        file_months.month,
        load_log.rows_loaded,
        load_log.received_at,
        load_log.lag_days,
        load_log.schema_variant,
        median(load_log.lag_days) over (partition by file_months.feed) as usual_lag_days,
        lag(load_log.schema_variant) over (
            partition by file_months.feed order by file_months.month
        ) as previous_schema_variant
    from file_months
    left join load_log
        on
            file_months.feed = load_log.feed
            and file_months.month = load_log.period_month
),

file_rows as (
    select
        feed,
        'file' as org_type,
        feed as org_code,
        month,
        coalesce(rows_loaded, 0)::bigint as records,
        null::double as usual_records,
        null::double as share_of_usual,
        case
            when received_at is null then 'missing'
            when lag_days > usual_lag_days + 7 then 'late'
            else 'present'
        end as status,
        case
            when received_at is null then 'no file for the month between the first and latest delivery'
            when lag_days > usual_lag_days + 7
                then
                    'arrived ' || lag_days || ' days after the start of the period; '
                    || 'the feed usually arrives after ' || usual_lag_days || ' days'
        end as status_reason,
        received_at,
        lag_days,
        usual_lag_days,
        schema_variant,
        coalesce(schema_variant != previous_schema_variant, false) as schema_variant_changed
    from files
),

absent_file_rows as (
    {#- a monthly feed the landing folder did not hold: every month of the run is missing #}
    select
        feed,
        'file' as org_type,
        feed as org_code,
        month,
        0::bigint as records,
        null::double as usual_records,
        null::double as share_of_usual,
        'missing' as status,
        message as status_reason,
        null::timestamp as received_at,
        null::integer as lag_days,
        null::double as usual_lag_days,
        null::varchar as schema_variant,
        false as schema_variant_changed
    from absent_feeds
    where not exists (
        select 1 from file_months
        where
            file_months.feed = absent_feeds.feed
            and file_months.month = absent_feeds.month
    )
),

delivered_months as (
    {#- organisations are expected only in the months the feed was due #}
    select
        feed,
        month
    from file_months
),

expected_after_submissions as (
    select
        volume.feed,
        volume.org_type,
        volume.org_code,
        delivered_months.month,
        count(*) as recent_submissions
    from volume
    inner join delivered_months
        on
            volume.feed = delivered_months.feed
            and volume.month < delivered_months.month
            and delivered_months.month <= volume.month + interval 6 month
    group by volume.feed, volume.org_type, volume.org_code, delivered_months.month
),

feed_history as (
    {#- how many of the six months before the feed delivered (a feed's second month has one) #}
    select
        delivered_months.feed,
        delivered_months.month,
        count(load_log.period_month) as prior_deliveries
    from delivered_months
    left join load_log
        on
            delivered_months.feed = load_log.feed
            and delivered_months.month > load_log.period_month
            and delivered_months.month <= load_log.period_month + interval 6 month
    group by delivered_months.feed, delivered_months.month
),

expected as (
    select
        expected_after_submissions.feed,
        expected_after_submissions.org_type,
        expected_after_submissions.org_code,
        expected_after_submissions.month
    from expected_after_submissions
    inner join feed_history
        on
            expected_after_submissions.feed = feed_history.feed
            and expected_after_submissions.month = feed_history.month
    where expected_after_submissions.recent_submissions >= least(2, feed_history.prior_deliveries)
    union
    {#- a practice the month's practice map lists is expected in that month's list sizes #}
    select
        'gp_registered_patients' as feed,
        'practice' as org_type,
        practice_map.practice_code as org_code,
        practice_map.month
    from practice_map
    inner join delivered_months
        on
            delivered_months.feed = 'gp_registered_patients'
            and practice_map.month = delivered_months.month
    union
    select
        feed,
        org_type,
        org_code,
        month
    from volume
),

cells as (
    select
        expected.*,
        coalesce(volume.source_rows, 0) as source_rows,
        coalesce(volume.records, 0) as records
    from expected
    left join volume
        on
            expected.feed = volume.feed
            and expected.org_code = volume.org_code
            and expected.month = volume.month
),

with_history as (
    select
        *,
        median(records) over history as usual_records,
        {{ own_level_spread('records') }} as history_sigma
    from cells
    window history as ({{ own_level_window() }})
),

judged as (
    select
        *,
        usual_records >= 20
        and records < 0.6 * usual_records
        and {{ far_from_own_level('records', 'usual_records', 'history_sigma') }} as is_partial
    from with_history
),

org_rows as (
    select
        feed,
        org_type,
        org_code,
        month,
        records::bigint as records,
        usual_records,
        records / nullif(usual_records, 0) as share_of_usual,
        case
            when source_rows = 0 then 'missing'
            when records = 0 then 'zero'
            when is_partial then 'partial'
            else 'present'
        end as status,
        case
            when source_rows = 0 then 'no records from an organisation expected this month'
            when records = 0 then 'rows submitted, but every count is zero'
            when is_partial then records || ' against a usual ' || usual_records
        end as status_reason,
        null::timestamp as received_at,
        null::integer as lag_days,
        null::double as usual_lag_days,
        null::varchar as schema_variant,
        null::boolean as schema_variant_changed
    from judged
),

final as (
    select * from file_rows
    union all
    select * from absent_file_rows
    union all
    select * from org_rows
)

select * from final
