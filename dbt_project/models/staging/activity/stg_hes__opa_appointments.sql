{#- HES outpatient appointments with attendance, first/follow-up and face-to-face decoded from
    the NHS Data Dictionary codes (ATTENDED 5/6 attended, 3/7 did not attend, 2/4 cancelled;
    FIRSTATT 1/3 first, 2/4 follow-up, 3/4 by telephone or video). -#}
with

source as (
    select * from {{ source('raw', 'hes_opa') }}
),

final as (
    select
        _period as extract_month,
        attendkey as appointment_key,
        fyear,
        patient_id,
        apptdate as appointment_date,
        case
            when apptage between 7001 and 7007 then 0
            when apptage between 0 and 120 then apptage
        end as age,
        case sex when '1' then 'male' when '2' then 'female' else 'unknown' end as sex,
        attended as attended_code,
        case
            when attended in ('5', '6') then 'attended'
            when attended in ('3', '7') then 'did_not_attend'
            when attended in ('2', '4') then 'cancelled'
            else 'unknown'
        end as attendance_status,
        firstatt as first_attendance_code,
        case
            when firstatt in ('1', '3') then 'first'
            when firstatt in ('2', '4') then 'follow_up'
            else 'other'
        end as appointment_type,
        firstatt in ('3', '4') as is_remote,
        outcome as outcome_code,
        priority as priority_code,
        refsourc as referral_source_code,
        coalesce(tretspef, mainspef) as treatment_function_code,
        mainspef as main_specialty_code,
        procode3 as provider_code,
        coalesce(procode5, sitetret) as provider_site_code,
        nullif(upper(gpprac), '') as gp_practice_code,
        coalesce(upper(gpprac) in ('V81997', 'V81998', 'V81999'), false) as is_default_practice_code,
        ccg_responsibility as record_commissioner_code,
        lsoa11 as lsoa_code,
        {{ clean_code_list("coalesce(diag_all, diag_4_01)") }}[1] as primary_diagnosis,
        {{ clean_code_list("coalesce(opertn_all, opertn_4_01)") }}[1] as main_procedure,
        nullif(upper(sushrg), '') as hrg_code,
        _schema_variant,
        _source_file,
        _loaded_at
    from source
)

select * from final
