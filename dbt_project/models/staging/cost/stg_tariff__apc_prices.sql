{#- Renamed and typed. `-` (no price) is already NULL in raw; the trim points are whole days
    (the validation suite blocks a load that is not). -#}
with

source as (
    select * from {{ source('raw', 'tariff_apc_prices') }}
),

renamed as (
    select
        _period as financial_year_start,
        {{ financial_year_label('_period') }} as financial_year,
        hrg_code,
        hrg_name,
        outpatient_procedure_price,
        combined_day_case_elective_price,
        day_case_price,
        ordinary_elective_price,
        cast(elective_trim_days as integer) as elective_trim_days,
        non_elective_price,
        cast(non_elective_trim_days as integer) as non_elective_trim_days,
        per_day_long_stay_price,
        rsse_applicable,
        rsse_share,
        rsse_price,
        bpt_level,
        bpt_name,
        bpt_settings,
        bpt_sus_automation,
        bpt_price_automated,
        bpt_flag,
        _schema_variant,
        _source_file,
        _loaded_at
    from source
)

select * from renamed
