with

ods_practices as (
    select * from {{ ref('stg_ods__practices') }}
    qualify row_number() over (
        partition by practice_code order by release_month desc
    ) = 1
),

latest_map as (
    select * from {{ ref('stg_nhse__practice_map') }}
    qualify row_number() over (partition by practice_code order by month desc) = 1
),

latest_list as (
    select
        org_code as practice_code,
        month,
        number_of_patients
    from {{ ref('stg_nhse__registered_patients') }}
    where org_type = 'GP' and sex = 'all' and age_band = 'ALL'
    qualify row_number() over (partition by org_code order by month desc) = 1
),

settings as (
    select * from {{ ref('prescribing_settings') }}
),

statuses as (
    select * from {{ ref('ods_status_codes') }}
),

commissioners as (
    select * from {{ ref('dim_sub_icb') }}
),

practices as (
    select
        coalesce(ods_practices.practice_code, latest_map.practice_code) as practice_code,
        coalesce(ods_practices.practice_name, latest_map.practice_name) as practice_name,
        coalesce(ods_practices.postcode, latest_map.practice_postcode) as postcode,
        ods_practices.open_date,
        ods_practices.close_date,
        ods_practices.status_code,
        ods_practices.prescribing_setting,
        ods_practices.release_month as ods_release_month,
        coalesce(ods_practices.current_commissioner_code, ods_practices.commissioner_code)
            as ods_commissioner_code,
        latest_map.month as map_month,
        latest_map.pcn_code,
        latest_map.pcn_name,
        latest_map.commissioner_code as map_commissioner_code,
        latest_map.supplier_name
    from ods_practices
    full outer join latest_map
        on ods_practices.practice_code = latest_map.practice_code
),

final as (
    select
        practices.practice_code,
        practices.practice_name,
        practices.postcode,
        practices.open_date,
        practices.close_date,
        practices.status_code,
        statuses.status_name,
        coalesce(statuses.is_open, practices.map_month is not null) as is_open,
        practices.prescribing_setting,
        settings.prescribing_setting_name,
        coalesce(practices.prescribing_setting = 4, practices.map_month is not null)
            as is_gp_practice,
        practices.pcn_code,
        practices.pcn_name,
        practices.supplier_name,
        coalesce(practices.map_commissioner_code, practices.ods_commissioner_code)
            as published_commissioner_code,
        commissioners.sub_icb_location_code,
        commissioners.icb_code,
        commissioners.region_code,
        -- An orphan practice: ODS still attaches it to a CCG code that has merged away.
        coalesce(ods_commissioners.code_status = 'merged', false) as is_orphan,
        practices.ods_commissioner_code,
        latest_list.number_of_patients as registered_patients,
        latest_list.month as registered_patients_month,
        practices.ods_release_month,
        practices.map_month
    from practices
    left join statuses
        on practices.status_code = statuses.status_code
    left join settings
        on practices.prescribing_setting = settings.prescribing_setting
    left join commissioners
        on
            coalesce(practices.map_commissioner_code, practices.ods_commissioner_code)
            = commissioners.commissioner_code
    left join commissioners as ods_commissioners
        on practices.ods_commissioner_code = ods_commissioners.commissioner_code
    left join latest_list
        on practices.practice_code = latest_list.practice_code
)

select * from final
