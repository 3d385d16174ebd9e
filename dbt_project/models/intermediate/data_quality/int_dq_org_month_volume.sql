{#- Each organisation's volume per feed and month: the series that submission coverage and
    volume anomalies judge. Volume is records for record-level extracts, prescription items
    for the EPD, registered patients for list sizes, attendances for the A&E SitRep and
    responses for the FFT; `rows` counts the organisation's rows however small their volume. -#}
{%- set feeds = [
    ('hes_apc', 'provider', 'stg_hes__apc_episodes', 'extract_month', 'provider_code', 'count(*)'),
    ('hes_opa', 'provider', 'stg_hes__opa_appointments', 'extract_month', 'provider_code', 'count(*)'),
    ('ecds', 'provider', 'stg_sus__ecds', 'period_month', 'provider_code', 'count(*)'),
    ('epd', 'practice', 'stg_epd__prescribing', 'month', 'practice_code', 'sum(items)'),
    ('gp_registered_patients', 'practice', 'stg_nhse__registered_patients', 'month', 'org_code',
        "sum(number_of_patients) filter (where sex = 'all' and age_band = 'ALL')"),
    ('ae_monthly', 'provider', 'stg_nhse__ae_monthly', 'period_month', 'org_code',
        'sum(coalesce(attendances_type_1, 0) + coalesce(attendances_type_2, 0)'
        ~ ' + coalesce(attendances_other, 0))'),
    ('fft_inpatient', 'trust', 'stg_fft__inpatient', 'period_month', 'trust_code', 'sum(total_responses)'),
    ('fft_ae', 'trust', 'stg_fft__ae', 'period_month', 'trust_code', 'sum(total_responses)'),
] %}
with

{% for feed, org_type, model, month_column, org_column, volume in feeds %}
    {{ feed }}_volume as (
        select
            '{{ feed }}' as feed,
            '{{ org_type }}' as org_type,
            {{ org_column }} as org_code,
            {{ month_column }}::date as month,
            count(*) as source_rows,
            coalesce({{ volume }}, 0) as records
        from {{ ref(model) }}
        where
            {{ org_column }} is not null and {{ org_column }} != '-'
            {%- if feed == 'ae_monthly' %} and not is_total_row{% endif %}
            {%- if feed == 'gp_registered_patients' %} and org_type = 'GP'{% endif %}
        group by all
    ),
{% endfor %}

final as (
    {%- for feed in feeds %}
        select * from {{ feed[0] }}_volume
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
)

select * from final
