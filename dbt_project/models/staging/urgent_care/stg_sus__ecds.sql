{#- A&E attendance records from either layout (ECDS or HES A&E), renamed and typed. Clock times
    are parsed here (HH:MM:SS in SUS, HHMM in HES; HES sentinels such as 3000 become NULL), and
    departure and duration are completed from whichever the extract carries. -#}
with

source as (
    select * from {{ source('raw', 'ecds') }}
),

parsed as (
    select
        *,
        arrival_date
        + coalesce(
            try_cast(arrival_time as time),
            try_strptime(lpad(arrival_time, 4, '0'), '%H%M')::time
        ) as arrival_at,
        try_cast(departure_date_time as timestamp) as departure_stated_at,
        coalesce(
            try_cast(departure_time as time),
            try_strptime(lpad(departure_time, 4, '0'), '%H%M')::time
        ) as departure_clock
    from source
),

completed as (
    select
        *,
        coalesce(
            departure_stated_at,
            arrival_at + to_minutes(duration_minutes),
            -- HES: a departure clock time earlier than arrival is on the next day
            arrival_date + departure_clock
            + case
                when arrival_date + departure_clock < arrival_at then interval 1 day
                else interval 0 day
            end
        ) as departure_at
    from parsed
),

final as (
    select
        _period as period_month,
        attendance_id,
        case when _schema_variant like 'hes%' then 'hes_ae' else 'ecds' end as record_layout,
        activity_month,
        financial_year,
        provider_code,
        coalesce(provider_site_code, provider_code_5) as provider_site_code,
        lpad(department_type, 2, '0') as department_type,
        arrival_date,
        date_trunc('month', arrival_date)::date as arrival_month,
        arrival_at,
        departure_at,
        coalesce(duration_minutes, datediff('minute', arrival_at, departure_at)) as duration_minutes,
        -- HES writes ages under one year as 7001-7007
        case when age_at_arrival between 7001 and 7007 then 0 else age_at_arrival end as age_at_arrival,
        case sex
            when '1' then 'male'
            when '2' then 'female'
            when '9' then 'not_specified'
            else 'not_known'
        end as sex,
        upper(gp_practice_code) as gp_practice_code,
        coalesce(upper(gp_practice_code) in ('V81997', 'V81998', 'V81999'), false)
            as is_default_practice_code,
        -- SUS pads 3-character commissioner codes with 00 (15F00)
        case
            when length(commissioner_code) = 5 and right(commissioner_code, 2) = '00'
                then left(commissioner_code, 3)
            else commissioner_code
        end as sus_commissioner_code,
        coalesce(lsoa_2011_code, lsoa_2001_code) as lsoa_code,
        imd_decile,
        arrival_mode,
        attendance_category,
        chief_complaint,
        discharge_status,
        diagnosis_all,
        case
            when diagnosis_all is not null then nullif(trim(split_part(diagnosis_all, ',', 1)), '')
            else coalesce(diag_01, diag3_01)
        end as primary_diagnosis,
        case
            when diagnosis_all is not null then 'snomed_ct'
            when coalesce(diag_01, diag3_01) is not null then 'hes_ae_diagnosis'
        end as primary_diagnosis_scheme,
        -- HES A&E carries neither flag: every record is a finished, distinct attendance
        coalesce(finished_indicator, 1) = 1 as is_finished,
        coalesce(dupe_flag, 0) = 1 as is_duplicate,
        hrg_code,
        tariff,
        final_price,
        _line as source_line,
        _schema_variant,
        _source_file,
        _loaded_at
    from completed
)

select * from final
