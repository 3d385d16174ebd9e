{#- The load log per feed × period: when its files arrived, the lag from the period's start,
    and the layout they matched. Loads before received_at was recorded count as received when
    loaded. -#}
with

source as (
    select * from {{ source('meta', 'load_log') }}
),

final as (
    select
        feed,
        _period as period_month,
        count(*) as files,
        string_agg(distinct schema_variant, ', ' order by schema_variant) as schema_variant,
        sum(rows_loaded) as rows_loaded,
        sum(rows_quarantined) as rows_quarantined,
        max(coalesce(received_at, loaded_at)) as received_at,
        max(loaded_at) as loaded_at,
        date_diff('day', _period, max(coalesce(received_at, loaded_at))) as lag_days
    from source
    group by feed, _period
)

select * from final
