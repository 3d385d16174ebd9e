{#- Volume anomalies: an organisation's month far from its own recent level, and whether the
    change persists (a step) or not (a drop or spike). Judged against the median of its six
    months before (at least three of them): a change of 25% or more that is also more than 3.5
    standard deviations (the larger of √median and 1.4826 × MAD of its history) — or, for
    registered list sizes, a stock that moves slowly, any change over 20% (the list-size rule
    of feeds_and_methods §10.2). Registered patients are also summed per published commissioner
    code, so the steps at CCG mergers show, explained by the succession that caused them.
    A step must hold for the two months after; only the first month of a run is reported.
    Months with no submission are coverage's business (dq_submission_coverage), not here. -#}
with

volume as (
    select * from {{ ref('int_dq_org_month_volume') }}
),

practice_commissioner as (
    select * from {{ ref('int_practice_month_commissioner') }}
),

successions as (
    select * from {{ ref('org_successions') }}
),

coverage as (
    select * from {{ ref('dq_submission_coverage') }}
),

commissioner_volume as (
    select
        'gp_registered_patients' as feed,
        'commissioner' as org_type,
        practice_commissioner.published_commissioner_code as org_code,
        volume.month,
        sum(volume.records) as records
    from volume
    inner join practice_commissioner
        on
            volume.org_code = practice_commissioner.practice_code
            and volume.month = practice_commissioner.month
    where volume.feed = 'gp_registered_patients'
    group by all
),

latest_list_month as (
    select max(month) as month from commissioner_volume
),

commissioner_span as (
    {#- a commissioner code's months, plus the month after its last one (its step to zero) #}
    select
        commissioner_volume.org_code,
        min(commissioner_volume.month) as first_month,
        least(
            max(commissioner_volume.month) + interval 1 month, any_value(latest_list_month.month)
        ) as last_month
    from commissioner_volume
    cross join latest_list_month
    group by commissioner_volume.org_code
),

commissioner_months as (
    select
        commissioner_span.org_code,
        unnest(
            generate_series(commissioner_span.first_month, commissioner_span.last_month, interval 1 month)
        )::date as month
    from commissioner_span
),

commissioner_series as (
    select
        'gp_registered_patients' as feed,
        'commissioner' as org_type,
        commissioner_months.org_code,
        commissioner_months.month,
        coalesce(commissioner_volume.records, 0) as records
    from commissioner_months
    left join commissioner_volume
        on
            commissioner_months.org_code = commissioner_volume.org_code
            and commissioner_months.month = commissioner_volume.month
),

series as (
    select
        feed,
        org_type,
        org_code,
        month,
        records
    from volume
    union all
    select * from commissioner_series
),

with_baseline as (
    select
        *,
        median(records) over history as usual_records,
        {{ own_level_spread('records') }} as history_sigma,
        count(*) over history as history_months,
        lead(records, 1) over (partition by feed, org_code order by month) as next_records,
        lead(records, 2) over (partition by feed, org_code order by month) as second_next_records
    from series
    window history as ({{ own_level_window() }})
),

judged as (
    select
        *,
        records / usual_records - 1 as change,
        history_months >= 3
        and usual_records > 0
        and (records > 0 or org_type = 'commissioner')
        and case
            when feed = 'gp_registered_patients' then abs(records / usual_records - 1) > 0.2
            else
                abs(records / usual_records - 1) >= 0.25
                and {{ far_from_own_level('records', 'usual_records', 'history_sigma') }}
        end as is_anomaly
    from with_baseline
),

with_run as (
    select
        *,
        coalesce(
            lag(is_anomaly) over (partition by feed, org_code order by month)
            and sign(lag(change) over (partition by feed, org_code order by month)) = sign(change),
            false
        ) as continues_previous
    from judged
),

anomalies as (
    select
        *,
        coalesce(
            (next_records / usual_records - 1) * sign(change) > abs(change) / 2
            and (second_next_records / usual_records - 1) * sign(change) > abs(change) / 2,
            records = 0 and next_records is null,  -- a code that ends (merged away)
            false
        ) as persists
    from with_run
    where is_anomaly and not continues_previous
),

succession_codes as (
    {#- each merger under both its codes #}
    select
        predecessor_code as code,
        effective_date,
        predecessor_code,
        successor_code
    from successions
    union all
    select
        successor_code as code,
        effective_date,
        predecessor_code,
        successor_code
    from successions
),

merger_events as (
    select
        code,
        date_trunc('month', effective_date)::date as month,
        string_agg(predecessor_code || ' → ' || successor_code, ', ' order by predecessor_code) as merger
    from succession_codes
    group by all
),

final as (
    select
        anomalies.feed,
        anomalies.org_type,
        anomalies.org_code,
        anomalies.month,
        anomalies.records::bigint as records,
        anomalies.usual_records,
        anomalies.change,
        case
            when anomalies.change < 0 and anomalies.persists then 'step_down'
            when anomalies.change < 0 then 'drop'
            else 'step_up'
        end as anomaly_kind,
        coalesce(merger_events.merger is not null or coverage.status = 'partial', false) as is_explained,
        case
            when merger_events.merger is not null then 'organisation merger: ' || merger_events.merger
            when coverage.status = 'partial' then 'partial submission (dq_submission_coverage)'
        end as explanation,
        case
            when anomalies.change < 0 then 'down ' else 'up '
        end
        || round(abs(anomalies.change) * 100)::integer || '% against its usual '
        || round(anomalies.usual_records)::bigint
        || case when anomalies.persists then ', and stays there' else '' end as detail
    from anomalies
    left join merger_events
        on
            anomalies.org_code = merger_events.code
            and anomalies.month = merger_events.month
    left join coverage
        on
            anomalies.feed = coverage.feed
            and anomalies.org_code = coverage.org_code
            and anomalies.month = coverage.month
    {#- a transient rise is not a gap: a re-delivered file replaces its month, never adds to it,
        and duplicated records fail the feed's grain check #}
    where anomalies.change < 0 or anomalies.persists
)

select * from final
