{#- Long-term-condition programmes (diabetes, dementia, stroke, respiratory, CVD …; seeds
    ltc_programme_icd10 and ltc_programme_bnf with their provenance) per sub-ICB location (today's
    geography) and month: admitted spells whose diagnoses fall in the programme's ICD-10 list
    (primary diagnosis, or any position where the list says so), of which emergency, their bed
    days and cost; and primary-care prescribing of the programme's BNF sections. A spell counts
    once per programme. -#}
with

spells as (
    select * from {{ ref('fct_apc_spell') }}
),

icd10 as (
    select * from {{ ref('ltc_programme_icd10') }}
),

spell_codes as (
    {#- each diagnosis as its 3- and 4-character prefixes, primary or any position #}
    select
        spell_key,
        unnest(diagnoses) as diagnosis,
        generate_subscripts(diagnoses, 1) = 1 as is_primary
    from spells
),

spell_prefixes as (
    select
        spell_key,
        is_primary,
        diagnosis[1:3] as prefix
    from spell_codes
    union all
    select
        spell_key,
        is_primary,
        diagnosis[1:4] as prefix
    from spell_codes
),

matched as (
    select distinct
        spell_prefixes.spell_key,
        icd10.programme
    from spell_prefixes
    inner join icd10
        on
            spell_prefixes.prefix = icd10.icd10_code
            and (spell_prefixes.is_primary or icd10.position_rule = 'any_position')
),

spell_programmes as (
    select
        spells.spell_key,
        spells.discharge_month as month,
        coalesce(spells.sub_icb_location_code, 'unattributed') as sub_icb_location_code,
        matched.programme,
        spells.is_emergency and not spells.is_transfer_in as is_emergency_admission,
        spells.length_of_stay,
        spells.cost,
        spells.cost_basis
    from spells
    inner join matched on spells.spell_key = matched.spell_key
),

admitted as (
    select
        month,
        sub_icb_location_code,
        programme,
        count(*) as admitted_spells,
        count(*) filter (where is_emergency_admission) as emergency_admissions,
        sum(length_of_stay) as bed_days,
        sum(cost) as admitted_cost,
        count(*) filter (where cost_basis = 'unpriced') as unpriced_spells
    from spell_programmes
    group by all
),

prescribing as (
    select * from {{ ref('int_ltc_programme_prescribing') }}
),

population as (
    select
        month,
        sub_icb_location_code,
        sum(number_of_patients) as registered_patients
    from {{ ref('fct_registered_population') }}
    group by all
),

combined as (
    select
        coalesce(admitted.month, prescribing.month) as month,
        coalesce(admitted.sub_icb_location_code, prescribing.sub_icb_location_code) as sub_icb_location_code,
        coalesce(admitted.programme, prescribing.programme) as programme,
        coalesce(admitted.admitted_spells, 0) as admitted_spells,
        coalesce(admitted.emergency_admissions, 0) as emergency_admissions,
        coalesce(admitted.bed_days, 0) as bed_days,
        admitted.admitted_cost,
        coalesce(admitted.unpriced_spells, 0) as unpriced_spells,
        coalesce(prescribing.items, 0) as prescription_items,
        prescribing.actual_cost as prescribing_cost
    from admitted
    full outer join prescribing
        on
            admitted.month = prescribing.month
            and admitted.sub_icb_location_code = prescribing.sub_icb_location_code
            and admitted.programme = prescribing.programme
),

final as (
    select
        combined.month,
        combined.sub_icb_location_code,
        combined.programme,
        combined.admitted_spells,
        combined.emergency_admissions,
        combined.bed_days::bigint as bed_days,
        combined.admitted_cost,
        combined.unpriced_spells,
        combined.prescription_items::bigint as prescription_items,
        combined.prescribing_cost,
        coalesce(combined.admitted_cost, 0) + coalesce(combined.prescribing_cost, 0) as total_cost,
        population.registered_patients::bigint as registered_patients,
        1000.0 * combined.emergency_admissions / nullif(population.registered_patients, 0)
            as emergency_admissions_per_1000,
        1000.0 * combined.prescription_items / nullif(population.registered_patients, 0) as items_per_1000
    from combined
    left join population
        on
            combined.month = population.month
            and combined.sub_icb_location_code = population.sub_icb_location_code
)

select * from final
