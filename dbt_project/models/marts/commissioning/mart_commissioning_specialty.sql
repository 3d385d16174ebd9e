{#- Hospital activity and spend per sub-ICB location (today's geography), month and treatment
    function: admitted spells and bed days, attended outpatient appointments, costs, and rates
    per 1,000 registered patients. -#}
with

activity as (
    select * from {{ ref('fct_commissioning_activity') }}
    where treatment_function_code is not null
),

functions as (
    select * from {{ ref('treatment_functions') }}
),

population as (
    select
        month,
        sub_icb_location_code,
        sum(number_of_patients) as registered_patients
    from {{ ref('fct_registered_population') }}
    group by all
),

by_function as (
    select
        month,
        coalesce(sub_icb_location_code, 'unattributed') as sub_icb_location_code,
        treatment_function_code,
        sum(activity) filter (where setting = 'admitted_care') as admitted_spells,
        sum(bed_days) filter (where setting = 'admitted_care') as bed_days,
        sum(activity) filter (
            where setting = 'outpatients' and point_of_delivery != 'outpatient_not_attended'
        ) as outpatient_attendances,
        sum(activity) filter (where point_of_delivery = 'outpatient_not_attended') as outpatient_not_attended,
        sum(cost) filter (where setting = 'admitted_care') as admitted_cost,
        sum(cost) filter (where setting = 'outpatients') as outpatient_cost,
        sum(unpriced_activity) as unpriced_activity
    from activity
    group by all
),

final as (
    select
        by_function.month,
        by_function.sub_icb_location_code,
        by_function.treatment_function_code,
        functions.treatment_function_title,
        functions.specialty_group,
        coalesce(by_function.admitted_spells, 0)::bigint as admitted_spells,
        coalesce(by_function.bed_days, 0)::bigint as bed_days,
        coalesce(by_function.outpatient_attendances, 0)::bigint as outpatient_attendances,
        coalesce(by_function.outpatient_not_attended, 0)::bigint as outpatient_not_attended,
        by_function.admitted_cost,
        by_function.outpatient_cost,
        coalesce(by_function.admitted_cost, 0) + coalesce(by_function.outpatient_cost, 0) as total_cost,
        by_function.unpriced_activity::bigint as unpriced_activity,
        population.registered_patients::bigint as registered_patients,
        1000.0 * coalesce(by_function.admitted_spells, 0) / nullif(population.registered_patients, 0)
            as admitted_spells_per_1000,
        1000.0 * coalesce(by_function.outpatient_attendances, 0) / nullif(population.registered_patients, 0)
            as outpatient_attendances_per_1000
    from by_function
    left join functions
        on by_function.treatment_function_code = functions.treatment_function_code
    left join population
        on
            by_function.month = population.month
            and by_function.sub_icb_location_code = population.sub_icb_location_code
)

select * from final
