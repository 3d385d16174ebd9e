{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='extract_month',
        tags=['monthly'],
    )
}}

{#- Admissions counted by the hospital-activity indicators defined in seed ois_indicators: one
    row per indicator and spell. The rules are data (seed ois_code_lists): the emergency
    admission methods and the transfer exclusions (list `admission_method`); the numerator codes
    by role (primary diagnosis, any diagnosis, primary diagnosis when a required secondary
    diagnosis is present); exclusions within the same condition (a secondary diagnosis, any
    diagnosis, any procedure). Codes match as prefixes, through equality joins on the 1-4
    character prefixes of each coded item, so matching stays set-based at national volumes.
    Only spells with their first episode, a known sex and an attributed sub-ICB location count;
    emergency-admission indicators take ordinary admissions (CLASSPAT 1) only, as the OIS
    specifications say (no day cases or regular attenders); any-admission indicators (alcohol-
    specific) also take day cases. -#}
with

indicators as (
    select * from {{ ref('ois_indicators') }}
    where source = 'hes_apc' and event_filter in ('emergency_admission', 'any_admission')
),

lists as (
    select * from {{ ref('ois_code_lists') }}
),

admission_rules as (
    select
        role,
        code
    from lists
    where list_name = 'admission_method'
),

spells as (
    select * from {{ ref('fct_apc_spell') }}
    where
        {{ period_window('extract_month') }}
        and has_first_episode
        and sex in ('male', 'female')
        and sub_icb_location_code is not null
        and patient_classification in ('1', '2')
),

eligible as (
    select
        spells.*,
        spells.admission_method in (
            select admission_rules.code from admission_rules
            where admission_rules.role = 'admission_method'
        )
        and spells.admission_method not in (
            select admission_rules.code from admission_rules
            where admission_rules.role = 'exclusion_admission_method'
        )
        and coalesce(spells.admission_source, '') not in (
            select admission_rules.code from admission_rules
            where admission_rules.role = 'exclusion_admission_source'
        ) as is_counted_emergency
    from spells
),

spell_items as (
    select
        spell_key,
        unnest(
            list_concat(
                [{ 'position': 'primary', 'code': primary_diagnosis }],
                list_transform(diagnoses[2:], lambda d: { 'position': 'secondary', 'code': d }),
                list_transform(procedures, lambda p: { 'position': 'procedure', 'code': p })
            )
        ) as item
    from eligible
),

prefix_lengths as (
    select range as prefix_length from range(1, 5)
),

coded_items as (
    {#- every coded item of a spell with its position, as 1- to 4-character prefixes #}
    select
        spell_items.spell_key,
        struct_extract(spell_items.item, 'position') as position,
        struct_extract(spell_items.item, 'code')[1:prefix_lengths.prefix_length] as prefix
    from spell_items
    cross join prefix_lengths
    where len(struct_extract(spell_items.item, 'code')) >= prefix_lengths.prefix_length
),

matched_rules as (
    select
        coded_items.spell_key,
        lists.list_name,
        lists.condition,
        lists.role
    from coded_items
    inner join lists
        on
            coded_items.prefix = lists.code
            and (
                (
                    lists.role in ('numerator_primary_diagnosis', 'numerator_primary_if_secondary')
                    and coded_items.position = 'primary'
                )
                or (
                    lists.role in ('numerator_any_diagnosis', 'exclusion_any_diagnosis')
                    and coded_items.position in ('primary', 'secondary')
                )
                or (
                    lists.role in ('required_secondary_diagnosis', 'exclusion_secondary_diagnosis')
                    and coded_items.position = 'secondary'
                )
                or (lists.role = 'procedure_exclusion' and coded_items.position = 'procedure')
            )
),

spell_conditions as (
    select
        spell_key,
        list_name,
        condition,
        bool_or(role in ('numerator_primary_diagnosis', 'numerator_any_diagnosis')) as direct_match,
        bool_or(role = 'numerator_primary_if_secondary') as conditional_match,
        bool_or(role = 'required_secondary_diagnosis') as has_required_secondary,
        bool_or(role in ('exclusion_secondary_diagnosis', 'exclusion_any_diagnosis', 'procedure_exclusion'))
            as is_excluded
    from matched_rules
    group by all
),

numerator_spells as (
    select distinct
        spell_key,
        list_name
    from spell_conditions
    where (direct_match or (conditional_match and has_required_secondary)) and not is_excluded
),

final as (
    select
        indicators.indicator_id,
        eligible.spell_key,
        eligible.extract_month,
        eligible.discharge_month,
        {{ financial_year_start('eligible.discharge_date') }} as financial_year_start,
        case when not eligible.is_default_practice_code then eligible.gp_practice_code end
            as gp_practice_code,
        eligible.sub_icb_location_code,
        eligible.icb_code,
        eligible.region_code,
        eligible.sex,
        eligible.age
    from numerator_spells
    inner join indicators
        on numerator_spells.list_name = indicators.numerator_list
    inner join eligible
        on numerator_spells.spell_key = eligible.spell_key
    where
        -- whole quinary bands, as the denominators (list sizes) have no finer split
        eligible.age between indicators.age_from
        - indicators.age_from % 5 and indicators.age_to
        - indicators.age_to % 5
        + 4
        and (
            indicators.event_filter = 'any_admission'
            or (eligible.is_counted_emergency and eligible.patient_classification = '1')
        )
)

select * from final
