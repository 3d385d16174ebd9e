with

source as (
    select * from {{ source('raw', 'fingertips_indicator_data') }}
),

renamed as (
    select
        _period as release_month,
        indicator_id,
        trim(indicator_name, e' \n\r') as indicator_name,
        parent_code,
        parent_name,
        area_code,
        area_name,
        area_type,
        sex,
        age,
        category_type,
        category,
        time_period,
        time_period_sortable,
        time_period_range,
        value,
        lower_ci_95,
        upper_ci_95,
        lower_ci_998,
        upper_ci_998,
        count,
        denominator,
        value_note,
        recent_trend,
        compared_to_england,
        compared_to_parent,
        _source_file,
        _loaded_at
    from source
)

select * from renamed
