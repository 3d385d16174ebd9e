{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='extract_month',
        tags=['monthly'],
    )
}}

{#- Provider spells closed by the extracts of the run's month window: all finished episodes of
    each spell (from any extract) rolled into one row. The first episode gives the admission,
    patient and primary diagnosis; the last gives the discharge. A spell whose first episode has
    not been delivered (it ended in an extract not loaded) is kept and flagged. -#}
with

episodes as (
    select * from {{ ref('stg_hes__apc_episodes') }}
    where episode_status = 3
),

closing as (
    select
        spell_key,
        extract_month
    from episodes
    where
        is_last_episode
        and discharge_date is not null
        and {{ period_window('extract_month') }}
    qualify row_number() over (partition by spell_key order by extract_month desc) = 1
),

spell_episodes as (
    select
        episodes.*,
        closing.extract_month as closing_extract_month
    from episodes
    inner join closing on episodes.spell_key = closing.spell_key
),

admission_methods as (
    select * from {{ ref('admission_methods') }}
),

flagged_episodes as (
    select
        *,
        _schema_variant = 'sus_apcs_spell' as is_sus_spell_record
    from spell_episodes
),

spells as (
    select
        spell_key,
        any_value(closing_extract_month) as extract_month,
        first(patient_id order by episode_order, episode_start_date) as patient_id,
        first(provider_code order by episode_order, episode_start_date) as provider_code,
        first(provider_site_code order by episode_order, episode_start_date) as provider_site_code,
        min(admission_date) as admission_date,
        max(discharge_date) as discharge_date,
        count(*) as episode_count,
        bool_or(episode_order = 1) as has_first_episode,
        first(admission_method order by episode_order, episode_start_date) as admission_method,
        first(admission_source order by episode_order, episode_start_date) as admission_source,
        first(patient_classification order by episode_order, episode_start_date) as patient_classification,
        first(discharge_method order by episode_order desc, episode_end_date desc) as discharge_method,
        first(discharge_destination order by episode_order desc, episode_end_date desc)
            as discharge_destination,
        first(age order by episode_order, episode_start_date) as age,
        first(sex order by episode_order, episode_start_date) as sex,
        first(gp_practice_code order by episode_order, episode_start_date) as gp_practice_code,
        bool_or(is_default_practice_code) as is_default_practice_code,
        first(treatment_function_code order by episode_order, episode_start_date)
            as admitting_treatment_function,
        first(treatment_function_code order by episode_order desc, episode_end_date desc)
            as treatment_function_code,
        first(primary_diagnosis order by episode_order, episode_start_date) as primary_diagnosis,
        list_distinct(flatten(list(diagnoses order by episode_order))) as diagnoses,
        list_distinct(flatten(list(procedures order by episode_order))) as procedures,
        coalesce(
            first(hrg_code order by episode_order, episode_start_date) filter (where hrg_code is not null),
            null
        ) as hrg_code,
        first(record_commissioner_code order by episode_order, episode_start_date)
            as record_commissioner_code,
        first(lsoa_code order by episode_order, episode_start_date) as lsoa_code,
        sum(sus_tariff_total) as sus_tariff_total,
        bool_or(is_sus_spell_record) as is_sus_spell_record
    from flagged_episodes
    group by spell_key
),

final as (
    select
        spells.*,
        date_diff('day', spells.admission_date, spells.discharge_date) as length_of_stay,
        date_trunc('month', spells.discharge_date)::date as discharge_month,
        date_trunc('month', spells.admission_date)::date as admission_month,
        coalesce(admission_methods.is_emergency, false) as is_emergency,
        spells.admission_source in ('51', '52', '53') or spells.admission_method in ('2B', '81')
            as is_transfer_in,
        case
            when spells.patient_classification in ('3', '4') then 'regular_attender'
            when admission_methods.pod_group = 'elective' and spells.patient_classification = '2'
                then 'elective_day_case'
            when admission_methods.pod_group = 'elective' then 'elective_ordinary'
            when admission_methods.pod_group = 'emergency' then 'non_elective_emergency'
            when admission_methods.pod_group = 'maternity' then 'maternity'
            when admission_methods.pod_group = 'other' then 'non_elective_other'
            else 'unknown'
        end as point_of_delivery
    from spells
    left join admission_methods
        on spells.admission_method = admission_methods.admission_method_code
)

select * from final
