{#- Age-sex weights for "spend per weighted head": in each financial year, England's hospital
    cost (admitted care, outpatients, A&E) per registered person-month in each sex × five-year
    band, divided by the cost per person-month of the whole registered population. A weighted
    population Σ patients × weight then says how many "average-cost" people an area's list is
    worth, so spend per weighted head compares areas as if they had England's age-sex mix of
    need. Prescribing has no age or sex in the EPD, so it does not shape the weights. -#}
with

costs as (
    select
        month,
        sex,
        age_from,
        sum(cost) as cost
    from {{ ref('fct_commissioning_activity') }}
    where sex in ('male', 'female') and age_from is not null and cost is not null
    group by all
),

population as (
    select
        month,
        sex,
        age_from,
        sum(number_of_patients) as patients
    from {{ ref('fct_registered_population') }}
    group by all
),

costed_months as (
    select distinct month from costs
),

joined as (
    select
        {{ financial_year_start('population.month') }} as financial_year_start,
        population.sex,
        population.age_from,
        sum(coalesce(costs.cost, 0)) as cost,
        sum(population.patients) as person_months
    from population
    inner join costed_months
        on population.month = costed_months.month
    left join costs
        on
            population.month = costs.month
            and population.sex = costs.sex
            and population.age_from = costs.age_from
    group by all
),

final as (
    select
        financial_year_start,
        sex,
        age_from,
        cost,
        person_months::bigint as person_months,
        cost / person_months as cost_per_person_month,
        (cost / person_months)
        / (
            sum(cost) over (partition by financial_year_start)
            / sum(person_months) over (partition by financial_year_start)
        )
            as weight
    from joined
)

select * from final
