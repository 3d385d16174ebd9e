{#- One staging body for both FFT settings: they share canonical columns (the loader maps each
    layout onto them). The month the file states (Yearnumber + Periodname, financial year 2025_26
    or 2024-25) is cast to a date next to the landing month, so a mismatch is visible; both are
    NULL for the published layout, which states neither. -#}
{% macro stage_fft(table_name) %}
with

source as (
    select * from {{ source('raw', table_name) }}
),

final as (
    select
        _period as period_month,
        make_date(
            cast(left(financial_year, 4) as integer)
            + case when period_name in ('JANUARY', 'FEBRUARY', 'MARCH') then 1 else 0 end,
            month(strptime(period_name, '%B')),
            1
        ) as stated_month,
        financial_year,
        period_name,
        parent_org_code as icb_code,
        parent_name as icb_name,
        org_code as trust_code,
        org_name as trust_name,
        title,
        very_good,
        good,
        neither_good_nor_poor,
        poor,
        very_poor,
        dont_know,
        total_responses,
        total_eligible,
        response_rate as response_rate_stated,
        prop_pos as percentage_positive_stated,
        prop_neg as percentage_negative_stated,
        mode_sms,
        mode_electronic_discharge,
        mode_electronic_home,
        mode_paper_discharge,
        mode_paper_home,
        mode_telephone,
        mode_online,
        mode_other,
        _schema_variant,
        _source_file,
        _loaded_at
    from source
)

select * from final
{% endmacro %}
