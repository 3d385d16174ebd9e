{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='month',
        on_schema_change='fail',
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
    -- The sums per presentation; the names and codes that depend on the cost centre or the
    -- presentation alone are taken once per cost centre and per presentation below, not carried
    -- through a group by of ~15M rows a national month.
    select
        month,
        practice_code,
        bnf_code,
        bool_or(is_unidentified_prescriber) as is_unidentified_prescriber,
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

cost_centres as (
    select
        month,
        practice_code,
        max(practice_name) as practice_name,
        max(prescribing_setting) as prescribing_setting,
        max(epd_commissioner_code) as epd_commissioner_code
    from prescribing
    group by month, practice_code
),

presentations as (
    select
        month,
        bnf_code,
        max(bnf_description) as bnf_description,
        max(bnf_chemical_substance_code) as bnf_chemical_substance_code,
        max(bnf_chapter_code) as bnf_chapter_code
    from prescribing
    group by month, bnf_code
),

described as (
    select
        aggregated.*,
        cost_centres.practice_name,
        cost_centres.prescribing_setting,
        cost_centres.epd_commissioner_code,
        presentations.bnf_description,
        presentations.bnf_chemical_substance_code,
        presentations.bnf_chapter_code
    from aggregated
    left join cost_centres
        on
            aggregated.month = cost_centres.month
            and aggregated.practice_code = cost_centres.practice_code
    left join presentations
        on
            aggregated.month = presentations.month
            and aggregated.bnf_code = presentations.bnf_code
),

attributed as (
    select
        described.*,
        coalesce(attribution.published_commissioner_code, described.epd_commissioner_code)
            as published_commissioner_code,
        case
            when attribution.published_commissioner_code is not null then attribution.attribution_source
            when described.epd_commissioner_code is not null then 'epd_pco_code'
            else 'unattributed'
        end as attribution_source
    from described
    left join attribution
        on
            described.month = attribution.month
            and described.practice_code = attribution.practice_code
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
        attributed.items::bigint as items,
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
