{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='month',
        tags=['monthly'],
    )
}}

{#- Prescribing per cost centre, month and BNF presentation: the file's rows (split by quantity per
    item and SNOMED code) summed, with the prescribing setting and the commissioner — the one
    published for the practice that month (practice map / ODS), else the PCO code the EPD row
    carries — restated to today's sub-ICB location, ICB and region. -#}
with

prescribing as (
    select * from {{ ref('stg_epd__prescribing') }}
    where {{ period_window('month') }}
),

attribution as (
    select * from {{ ref('int_practice_month_commissioner') }}
    where {{ period_window('month') }}
),

commissioners as (
    select * from {{ ref('dim_sub_icb') }}
),

settings as (
    select * from {{ ref('prescribing_settings') }}
),

aggregated as (
    select
        month,
        practice_code,
        bnf_code,
        max(practice_name) as practice_name,
        max(bnf_description) as bnf_description,
        max(bnf_chemical_substance_code) as bnf_chemical_substance_code,
        max(bnf_chapter_code) as bnf_chapter_code,
        max(prescribing_setting) as prescribing_setting,
        bool_or(is_unidentified_prescriber) as is_unidentified_prescriber,
        max(epd_commissioner_code) as epd_commissioner_code,
        sum(items) as items,
        sum(quantity) as quantity,
        sum(total_quantity) as total_quantity,
        sum(adq_usage) as adq_usage,
        sum(nic) as nic,
        sum(actual_cost) as actual_cost,
        count(*) as source_rows,
        max(_loaded_at) as _loaded_at
    from prescribing
    group by month, practice_code, bnf_code
),

attributed as (
    select
        aggregated.*,
        coalesce(attribution.published_commissioner_code, aggregated.epd_commissioner_code)
            as published_commissioner_code,
        case
            when attribution.published_commissioner_code is not null then attribution.attribution_source
            when aggregated.epd_commissioner_code is not null then 'epd_pco_code'
            else 'unattributed'
        end as attribution_source
    from aggregated
    left join attribution
        on
            aggregated.month = attribution.month
            and aggregated.practice_code = attribution.practice_code
),

final as (
    select
        attributed.month,
        attributed.practice_code,
        attributed.practice_name,
        attributed.prescribing_setting,
        settings.prescribing_setting_name,
        coalesce(attributed.prescribing_setting = 4, false) as is_gp_practice,
        attributed.is_unidentified_prescriber,
        attributed.bnf_code,
        attributed.bnf_description,
        attributed.bnf_chemical_substance_code,
        attributed.bnf_chapter_code,
        attributed.items,
        attributed.quantity,
        attributed.total_quantity,
        attributed.adq_usage,
        attributed.nic,
        attributed.actual_cost,
        attributed.source_rows,
        attributed.published_commissioner_code,
        attributed.attribution_source,
        commissioners.sub_icb_location_code,
        commissioners.icb_code,
        commissioners.region_code,
        attributed._loaded_at
    from attributed
    left join settings
        on attributed.prescribing_setting = settings.prescribing_setting
    left join commissioners
        on attributed.published_commissioner_code = commissioners.commissioner_code
)

select * from final
