{#- Inpatient and A&E FFT by trust and month, with NHS England's published formulas
    (fft_pipeline processors.py): percentage positive = (very good + good) / total responses,
    percentage negative = (poor + very poor) / total responses, NULL when there are no responses;
    response rate = total responses / total eligible. Suppressed ('*') counts are NULL, so the
    percentages of a row with a suppressed count are NULL too. -#}
with

both_settings as (
    {% for setting, model in [('inpatient', 'stg_fft__inpatient'), ('ae', 'stg_fft__ae')] %}
        select
            '{{ setting }}' as setting,
            period_month,
            icb_code,
            trust_code,
            trust_name,
            very_good,
            good,
            neither_good_nor_poor,
            poor,
            very_poor,
            dont_know,
            total_responses,
            total_eligible
        from {{ ref(model) }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select
        *,
        (very_good + good) / nullif(total_responses, 0) as percentage_positive,
        (poor + very_poor) / nullif(total_responses, 0) as percentage_negative,
        total_responses / nullif(total_eligible, 0) as response_rate
    from both_settings
)

select * from final
