{#- EPD rows with canonical names, the totals every layout can give, and the cost centre's ODS
    prescribing setting as at the month (the release in force then, else the earliest release). -#}
with

source as (
    select * from {{ source('raw', 'epd') }}
),

ods_releases as (
    select
        practice_code,
        prescribing_setting,
        -- the earliest release also stands for the months before it
        {{ in_force_from('release_month', 'practice_code') }} as in_force_from,
        {{ in_force_until('release_month', 'practice_code') }} as in_force_until
    from {{ ref('stg_ods__practices') }}
),

renamed as (
    select
        _period as month,
        year_month as stated_month,
        regional_office_code,
        regional_office_name,
        area_code,
        area_name,
        case
            when ends_with(_schema_variant, '_stp') then 'stp'
            when starts_with(_schema_variant, 'epd_') then 'icb'
            else 'area_team'
        end as area_type,
        pco_code,
        pco_name,
        case
            when pco_code = '-' then null
            when length(pco_code) = 5 and right(pco_code, 2) = '00' then left(pco_code, 3)
            else pco_code
        end as epd_commissioner_code,
        practice_code,
        practice_name,
        postcode,
        practice_code = '-' or coalesce(unidentified, false) as is_unidentified_prescriber,
        bnf_code,
        bnf_description,
        coalesce(
            bnf_chemical_substance_code,
            left(bnf_code, case when left(bnf_code, 2) >= '20' then 4 else 9 end)
        ) as bnf_chemical_substance_code,
        bnf_chemical_substance_name,
        left(bnf_code, 2) as bnf_chapter_code,
        bnf_chapter_plus_code,
        snomed_code,
        quantity,
        items,
        coalesce(total_quantity, quantity * items) as total_quantity,
        adq_usage,
        nic,
        actual_cost,
        _schema_variant,
        _source_file,
        _line,
        _loaded_at
    from source
),

final as (
    select
        renamed.*,
        ods_releases.prescribing_setting
    from renamed
    left join ods_releases
        on
            renamed.practice_code = ods_releases.practice_code
            and renamed.month >= ods_releases.in_force_from
            and renamed.month < ods_releases.in_force_until
)

select * from final
