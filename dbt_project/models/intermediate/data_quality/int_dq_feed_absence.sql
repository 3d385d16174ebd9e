{#- The feeds the landing folder did not hold, one row per feed and month: a monthly feed's
    months with no file in a run that found none of its files (and no earlier load of the month),
    and a snapshot feed with no release, on every month the warehouse holds of the monthly feeds
    (the figures of each of those months are without it). A month missing from a feed whose other
    months arrived fails its load instead, and is a missing file row of dq_submission_coverage
    once the feed loads. -#}
with

absence as (
    select * from {{ ref('stg_meta__feed_absence') }}
    where kind = 'feed_absent'
),

load_log as (
    select * from {{ ref('stg_meta__load_log') }}
),

catalog as (
    select * from {{ source('meta', 'feed_catalog') }}
),

monthly_absent as (
    select
        absence.feed,
        absence.period_month as month,
        absence.landing_folder,
        absence.recorded_at
    from absence
    left join load_log
        on
            absence.feed = load_log.feed
            and absence.period_month = load_log.period_month
    where
        absence.period_month is not null
        and load_log.feed is null
),

warehouse_months as (
    {#- the months of the monthly feeds the warehouse holds, or found absent #}
    select load_log.period_month as month
    from load_log
    inner join catalog
        on load_log.feed = catalog.feed
    where catalog.cadence = 'monthly'
    union
    select month
    from monthly_absent
),

snapshot_absent as (
    select
        absence.feed,
        coalesce(warehouse_months.month, date_trunc('month', absence.recorded_at)::date) as month,
        absence.landing_folder,
        absence.recorded_at
    from absence
    left join warehouse_months
        on true
    where
        absence.period_month is null
        and not exists (
            select 1 from load_log
            where load_log.feed = absence.feed
        )
),

absent_months as (
    select
        'monthly' as feed_cadence,
        *
    from monthly_absent
    union all
    select
        'snapshot' as feed_cadence,
        *
    from snapshot_absent
),

final as (
    select
        absent_months.feed,
        absent_months.feed_cadence,
        absent_months.month,
        absent_months.landing_folder,
        min(absent_months.month) over (partition by absent_months.feed) as first_month,
        max(absent_months.month) over (partition by absent_months.feed) as last_month,
        coalesce(catalog.title, absent_months.feed) || ' (' || absent_months.feed || '): '
        || case
            when absent_months.feed_cadence = 'snapshot'
                then 'no release in ' || absent_months.landing_folder
            else
                'no files for '
                || strftime(min(absent_months.month) over (partition by absent_months.feed), '%Y-%m')
                || case
                    when
                        min(absent_months.month) over (partition by absent_months.feed)
                        < max(absent_months.month) over (partition by absent_months.feed)
                        then
                            '…' || strftime(
                                max(absent_months.month) over (partition by absent_months.feed), '%Y-%m'
                            )
                    else ''
                end
                || ' in ' || absent_months.landing_folder
        end
        || '; the feed is absent, so the figures built from it are missing or provisional' as message
    from absent_months
    left join catalog
        on absent_months.feed = catalog.feed
)

select * from final
