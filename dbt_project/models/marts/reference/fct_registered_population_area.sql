{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='month',
        on_schema_change='fail',
        tags=['monthly'],
    )
}}

{#- Registered population rolled up to sub-ICB location, ICB, region and England at today's
    geography: the denominators for rates and standardisation at every area level. -#}
with

practice_level as (
    select * from {{ ref('fct_registered_population') }}
    where {{ period_window('month') }}
),

{% set levels = [
    ('sub_icb_location', 'sub_icb_location_code'),
    ('icb', 'icb_code'),
    ('region', 'region_code'),
    ('england', "'E92000001'"),
] %}

{% for area_type, area_code in levels %}
    {{ area_type }}_level as (
        select
            month,
            '{{ area_type }}' as area_type,
            {{ area_code }} as area_code,
            sex,
            age_band,
            any_value(esp19_age_band) as esp19_age_band,
            any_value(age_from) as age_from,
            sum(number_of_patients)::bigint as number_of_patients,
            count(distinct practice_code) as practices
        from practice_level
        -- Unattributed practices count in England's total but in no lower area.
        where {{ area_code }} is not null
        group by month, area_code, sex, age_band
    ),
{% endfor %}

final as (
    {% for area_type, _ in levels %}
        select * from {{ area_type }}_level
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select * from final
