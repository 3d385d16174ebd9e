{#- The load log per feed × period: when its files arrived, the lag from the period's start,
    and the layout they matched. Loads before received_at was recorded count as received when
    loaded. It is built after every load of the run (the depends_on lines below: the load log
    is written by the load assets, which dbt cannot see), so the data-gap marts judge the run's
    files, never a half-loaded warehouse. -#}
-- depends_on: {{ source('raw', 'ods_epraccur') }}
-- depends_on: {{ source('raw', 'ods_eccg') }}
-- depends_on: {{ source('raw', 'gp_practice_map') }}
-- depends_on: {{ source('raw', 'gp_registered_patients') }}
-- depends_on: {{ source('raw', 'fingertips_indicator_data') }}
-- depends_on: {{ source('raw', 'fingertips_indicator_metadata') }}
-- depends_on: {{ source('raw', 'iod_file7') }}
-- depends_on: {{ source('raw', 'ons_lsoa_commissioner_lookup') }}
-- depends_on: {{ source('raw', 'ons_mid_year_population') }}
-- depends_on: {{ source('raw', 'gpps_practice_results') }}
-- depends_on: {{ source('raw', 'fft_inpatient') }}
-- depends_on: {{ source('raw', 'fft_ae') }}
-- depends_on: {{ source('raw', 'hes_apc') }}
-- depends_on: {{ source('raw', 'hes_opa') }}
-- depends_on: {{ source('raw', 'ae_monthly') }}
-- depends_on: {{ source('raw', 'ecds') }}
-- depends_on: {{ source('raw', 'tariff_apc_prices') }}
-- depends_on: {{ source('raw', 'tariff_op_attendance_prices') }}
-- depends_on: {{ source('raw', 'ncc_org_unit_costs') }}
-- depends_on: {{ source('raw', 'epd') }}
-- depends_on: {{ source('raw', 'qof_prevalence') }}
-- depends_on: {{ source('raw', 'qof_achievement') }}
with

source as (
    select * from {{ source('meta', 'load_log') }}
),

final as (
    select
        feed,
        _period as period_month,
        count(*) as files,
        string_agg(distinct schema_variant, ', ' order by schema_variant) as schema_variant,
        sum(rows_loaded) as rows_loaded,
        sum(rows_quarantined) as rows_quarantined,
        max(coalesce(received_at, loaded_at)) as received_at,
        max(loaded_at) as loaded_at,
        date_diff('day', _period, max(coalesce(received_at, loaded_at))) as lag_days
    from source
    group by feed, _period
)

select * from final
