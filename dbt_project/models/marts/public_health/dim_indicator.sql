with

metadata as (
    select * from {{ ref('stg_fingertips__indicator_metadata') }}
    qualify row_number() over (partition by indicator_id order by release_month desc) = 1
),

seen_in_data as (
    select
        indicator_id,
        any_value(indicator_name) as indicator_name,
        min(time_period_sortable) as first_period_sortable,
        max(time_period_sortable) as last_period_sortable,
        max(release_month) as latest_release_month
    from {{ ref('int_fingertips_latest_deduplicated') }}
    group by indicator_id
),

final as (
    select
        coalesce(seen_in_data.indicator_id, metadata.indicator_id) as indicator_id,
        coalesce(metadata.indicator_name, seen_in_data.indicator_name) as indicator_name,
        metadata.definition,
        metadata.value_type,
        metadata.unit,
        metadata.polarity,
        case
            when metadata.polarity ilike '%low is good%' then 'low_is_good'
            when metadata.polarity ilike '%high is good%' then 'high_is_good'
            when metadata.polarity ilike '%blue%' or metadata.polarity ilike '%no judgement%'
                then 'no_judgement'
        end as polarity_code,
        metadata.frequency,
        metadata.year_type,
        metadata.data_source,
        metadata.methodology,
        metadata.standard_population,
        metadata.confidence_interval_details,
        metadata.disclosure_control,
        metadata.caveats,
        metadata.indicator_id is not null as has_metadata,
        seen_in_data.indicator_id is not null as has_data,
        seen_in_data.first_period_sortable,
        seen_in_data.last_period_sortable,
        seen_in_data.latest_release_month
    from seen_in_data
    full outer join metadata
        on seen_in_data.indicator_id = metadata.indicator_id
)

select * from final
