{#- The feeds and months the landing folder did not hold, as the loads recorded them. Built after
    every load of the run, as the load log is (the depends_on lines: the loads write the table,
    and dbt cannot see that), so the data-gap marts judge this run's landing folder. -#}
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
with

source as (
    select * from {{ source('meta', 'feed_absence') }}
),

final as (
    select
        feed,
        _period as period_month,
        kind,
        landing_folder,
        window_start,
        window_end,
        detail,
        run_id,
        recorded_at
    from source
)

select * from final
