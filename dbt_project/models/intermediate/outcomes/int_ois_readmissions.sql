{{ config(materialized='table') }}

{#- Discharges and their emergency readmissions within 0-29 days, for the readmission
    indicators of seed ois_indicators (event_filter emergency_readmission_30d: every discharge
    except those with a diagnosis in the indicator's exclusion list (cancer, obstetrics);
    alcohol_readmission_30d: discharges with an alcohol-specific diagnosis, readmitted with one).
    A readmission is the patient's next emergency admission that is not a transfer, at any
    provider, starting 0-29 days after the discharge. Deaths in hospital are not index
    discharges. Discharges in the last 30 days of the data cannot have been followed up and are
    left out (censored). One row per indicator and index spell; rebuilt whole because a
    readmission can arrive in any later month. -#}
with

indicators as (
    select * from {{ ref('ois_indicators') }}
    where event_filter in ('emergency_readmission_30d', 'alcohol_readmission_30d')
),

lists as (
    select * from {{ ref('ois_code_lists') }}
),

spells as (
    select * from {{ ref('fct_apc_spell') }}
    where has_first_episode and sex in ('male', 'female') and patient_id is not null
),

follow_up_end as (
    select max(discharge_date) - interval 30 day as last_followed_discharge from spells
),

spell_diagnoses as (
    select
        spell_key,
        unnest(diagnoses) as diagnosis
    from spells
),

prefix_lengths as (
    select range as prefix_length from range(1, 5)
),

spell_prefixes as (
    select distinct
        spell_diagnoses.spell_key,
        spell_diagnoses.diagnosis[1:prefix_lengths.prefix_length] as prefix
    from spell_diagnoses
    cross join prefix_lengths
    where len(spell_diagnoses.diagnosis) >= prefix_lengths.prefix_length
),

flagged as (
    {#- per indicator: is the spell excluded (exclusion list) or in the numerator list? #}
    select
        indicators.indicator_id,
        spell_prefixes.spell_key,
        bool_or(lists.role = 'exclusion_any_diagnosis') as is_excluded,
        bool_or(lists.role in ('numerator_any_diagnosis', 'numerator_primary_diagnosis')) as is_listed
    from indicators
    inner join lists on indicators.numerator_list = lists.list_name
    inner join spell_prefixes on lists.code = spell_prefixes.prefix
    group by all
),

next_admissions as (
    select
        spells.*,
        min(spells.admission_date) filter (where spells.is_emergency and not spells.is_transfer_in) over (
            partition by spells.patient_id
            order by spells.admission_date, spells.spell_key
            rows between 1 following and unbounded following
        ) as next_emergency_admission
    from spells
),

candidates as (
    select
        indicators.indicator_id,
        indicators.event_filter,
        next_admissions.*,
        coalesce(flagged.is_excluded, false) as is_excluded,
        coalesce(flagged.is_listed, false) as is_listed
    from indicators
    cross join next_admissions
    left join flagged
        on
            indicators.indicator_id = flagged.indicator_id
            and next_admissions.spell_key = flagged.spell_key
),

alcohol_readmissions as (
    {#- for the alcohol indicator, the readmission must itself be alcohol-specific #}
    select
        index_spell.spell_key,
        bool_or(
            later.is_emergency and not later.is_transfer_in
            and date_diff('day', index_spell.discharge_date, later.admission_date) between 0 and 29
        ) as readmitted
    from candidates as index_spell
    inner join candidates as later
        on
            index_spell.patient_id = later.patient_id
            and index_spell.indicator_id = later.indicator_id
            and later.is_listed
            and index_spell.discharge_date <= later.admission_date
            and index_spell.spell_key != later.spell_key
    where index_spell.event_filter = 'alcohol_readmission_30d' and index_spell.is_listed
    group by index_spell.spell_key
),

final as (
    select
        candidates.indicator_id,
        candidates.spell_key,
        candidates.discharge_date,
        candidates.discharge_month,
        {{ financial_year_start('candidates.discharge_date') }} as financial_year_start,
        case when not candidates.is_default_practice_code then candidates.gp_practice_code end
            as practice_code,
        candidates.sub_icb_location_code,
        candidates.icb_code,
        candidates.region_code,
        candidates.sex,
        candidates.age,
        case
            when candidates.event_filter = 'alcohol_readmission_30d'
                then coalesce(alcohol_readmissions.readmitted, false)
            else coalesce(
                date_diff(
                    'day', candidates.discharge_date, candidates.next_emergency_admission
                ) between 0 and 29,
                false
            )
        end as is_readmitted
    from candidates
    cross join follow_up_end
    left join alcohol_readmissions
        on candidates.spell_key = alcohol_readmissions.spell_key
    where
        not coalesce(candidates.died_in_hospital, false)
        and candidates.discharge_date <= follow_up_end.last_followed_discharge
        and candidates.sub_icb_location_code is not null
        and case
            when candidates.event_filter = 'alcohol_readmission_30d' then candidates.is_listed
            else not candidates.is_excluded
        end
)

select * from final
