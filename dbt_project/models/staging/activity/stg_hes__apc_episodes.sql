{#- HES APC episodes (or SUS spells, one episode each), with codes cleaned once: ages under one
    year as 0, diagnoses and procedures as lists of 4-character codes, the spell key, and the
    default-practice flag. Codes are kept as published otherwise. -#}
with

source as (
    select * from {{ source('raw', 'hes_apc') }}
),

cleaned as (
    select
        *,
        _schema_variant = 'sus_apcs_spell' as is_sus_spell_record,
        {{ clean_code_list("coalesce(diag_all, concat_ws(',', " ~ hes_columns('diag_4_', 20) ~ "))") }}
            as diagnoses,
        {{ clean_code_list("coalesce(opertn_all, concat_ws(',', " ~ hes_columns('opertn_4_', 24) ~ "))") }}
            as procedures
    from source
),

final as (
    select
        _period as extract_month,
        epikey as episode_key,
        fyear,
        patient_id,
        coalesce(spell_id, patient_id || '|' || procode3 || '|' || admidate::varchar) as spell_key,
        admidate as admission_date,
        disdate as discharge_date,
        coalesce(epistart, admidate) as episode_start_date,
        coalesce(epiend, disdate) as episode_end_date,
        case when is_sus_spell_record then 1 else epiorder end as episode_order,
        case when is_sus_spell_record then 3 else epistat end as episode_status,
        case
            when is_sus_spell_record then true
            when spelend is not null then spelend = 'Y'
            else disdate is not null
        end as is_last_episode,
        spell_los,
        admimeth as admission_method,
        admisorc as admission_source,
        classpat as patient_classification,
        dismeth as discharge_method,
        disdest as discharge_destination,
        case
            when startage between 7001 and 7007 then 0
            when startage between 0 and 120 then startage
        end as age,
        case sex when '1' then 'male' when '2' then 'female' else 'unknown' end as sex,
        nullif(upper(gpprac), '') as gp_practice_code,
        coalesce(upper(gpprac) in ('V81997', 'V81998', 'V81999'), false) as is_default_practice_code,
        procode3 as provider_code,
        coalesce(procode5, sitetret) as provider_site_code,
        mainspef as main_specialty_code,
        coalesce(tretspef, mainspef) as treatment_function_code,
        coalesce(
            nullif(regexp_replace(upper(diag_4_01), '[^A-Z0-9]', '', 'g'), '')[1:4], diagnoses[1]
        ) as primary_diagnosis,
        diagnoses,
        procedures[1] as main_procedure,
        procedures,
        nullif(upper(sushrg), '') as hrg_code,
        ccg_responsibility as record_commissioner_code,
        ccg_residence as residence_commissioner_code,
        lsoa11 as lsoa_code,
        sus_tariff_total,
        _schema_variant,
        _source_file,
        _loaded_at
    from cleaned
)

select * from final
