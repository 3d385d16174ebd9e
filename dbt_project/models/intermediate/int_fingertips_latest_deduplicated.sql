{#- The latest release of each indicator, with each area counted once: Fingertips lists an area
    both with and without its parent, so rows repeat; they are de-duplicated, never summed. -#}
with

rows_of_latest_release as (
    select * from {{ ref('stg_fingertips__indicator_data') }}
    qualify release_month = max(release_month) over (partition by indicator_id)
),

final as (
    select
        *,
        count(*) over (
            partition by
                indicator_id, area_code, sex, age, category_type, category, time_period_sortable
        ) as listed_times
    from rows_of_latest_release
    qualify row_number() over (
        partition by indicator_id, area_code, sex, age, category_type, category, time_period_sortable
        order by parent_code nulls last, _source_file
    ) = 1
)

select * from final
