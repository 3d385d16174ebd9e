{#- Attribute activity to a commissioner: the registered practice's commissioner in the activity
    month (int_practice_month_commissioner), else the commissioner code on the record (HES/SUS
    derive it from residence when the practice is unknown), restated through the crosswalk to
    today's sub-ICB location, ICB and region. Adds is_known_practice, attribution_source,
    published_commissioner_code, sub_icb_location_code, icb_code, region_code, attribution_gap. -#}
{% macro attribute_to_commissioner(activity, practice_column, month_column, record_commissioner_column) -%}
    select
        activity.*,
        practice_commissioner.practice_code is not null as is_known_practice,
        case
            when practice_commissioner.published_commissioner_code is not null then 'registered_practice'
            when activity.{{ record_commissioner_column }} is not null then 'record_commissioner'
            else 'unattributed'
        end as attribution_source,
        coalesce(
            practice_commissioner.published_commissioner_code, activity.{{ record_commissioner_column }}
        ) as published_commissioner_code,
        commissioners.sub_icb_location_code,
        commissioners.icb_code,
        commissioners.region_code,
        case
            when
                practice_commissioner.published_commissioner_code is null
                and activity.{{ record_commissioner_column }} is null
                then 'no known practice or commissioner on the record'
            when commissioners.sub_icb_location_code is null then 'commissioner code not in the crosswalk'
        end as attribution_gap
    from {{ activity }} as activity
    left join {{ ref('int_practice_month_commissioner') }} as practice_commissioner
        on
            activity.{{ practice_column }} = practice_commissioner.practice_code
            and date_trunc('month', activity.{{ month_column }}) = practice_commissioner.month
    left join {{ ref('dim_sub_icb') }} as commissioners
        on
            coalesce(
                practice_commissioner.published_commissioner_code, activity.{{ record_commissioner_column }}
            ) = commissioners.commissioner_code
{%- endmacro %}
