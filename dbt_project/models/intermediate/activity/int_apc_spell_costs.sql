{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='extract_month',
        tags=['monthly'],
    )
}}

{#- The cost of each spell by the published rules (feeds_and_methods.md §4.2), before the
    market forces factor: the SUS-derived payment when the extract carries it; else the national
    tariff of the discharge's financial year (the latest earlier release when that year's is not
    loaded) for the spell's HRG and point of delivery, plus excess bed days beyond the trim point
    and the reduced short-stay emergency price for adults discharged within a day; else the
    National Cost Collection average unit cost of the HRG in the matching department; else no
    cost, with the reason. Never a silent zero. -#}
with

spells as (
    select * from {{ ref('int_apc_spells') }}
    where {{ period_window('extract_month') }}
),

tariff as (
    select
        *,
        {{ in_force_until('financial_year_start', 'hrg_code') }} as in_force_until
    from {{ ref('dim_tariff_apc_price') }}
),

ncc_years as (
    select
        financial_year_start,
        department_code,
        currency_code,
        sum(total_cost) / nullif(sum(total_activity), 0) as unit_cost
    from {{ ref('dim_ncc_unit_cost') }}
    group by financial_year_start, department_code, currency_code
),

ncc as (
    select
        *,
        {{ in_force_until('financial_year_start', 'department_code, currency_code') }} as in_force_until
    from ncc_years
),

with_department as (
    select
        *,
        case
            when point_of_delivery = 'elective_day_case' then 'DC'
            when point_of_delivery = 'elective_ordinary' then 'EL'
            when point_of_delivery = 'regular_attender' then 'RP'
            when point_of_delivery = 'non_elective_emergency' and length_of_stay < 2 then 'NES'
            when point_of_delivery in ('non_elective_emergency', 'non_elective_other', 'maternity') then 'NEL'
        end as ncc_department_code
    from spells
),

priced as (
    select
        with_department.*,
        tariff.financial_year as tariff_financial_year,
        tariff.hrg_code as tariff_hrg_code,
        case
            when with_department.point_of_delivery = 'elective_day_case'
                then coalesce(tariff.combined_day_case_elective_price, tariff.day_case_price)
            when
                with_department.point_of_delivery = 'elective_ordinary' and with_department.length_of_stay = 0
                then coalesce(
                    tariff.combined_day_case_elective_price,
                    tariff.day_case_price,
                    tariff.ordinary_elective_price
                )
            when with_department.point_of_delivery = 'elective_ordinary'
                then coalesce(tariff.combined_day_case_elective_price, tariff.ordinary_elective_price)
            when
                with_department.point_of_delivery = 'non_elective_emergency'
                and tariff.rsse_applicable
                and with_department.length_of_stay < 2
                and with_department.age >= 19
                then coalesce(tariff.rsse_price, tariff.non_elective_price)
            when
                with_department.point_of_delivery in (
                    'non_elective_emergency', 'non_elective_other', 'maternity'
                )
                then tariff.non_elective_price
        end as base_price,
        case
            when with_department.point_of_delivery like 'elective%' then tariff.elective_trim_days
            else tariff.non_elective_trim_days
        end as trim_days,
        tariff.per_day_long_stay_price
    from with_department
    left join tariff
        on
            with_department.hrg_code = tariff.hrg_code
            and with_department.discharge_date >= tariff.financial_year_start
            and with_department.discharge_date < tariff.in_force_until
),

costed as (
    select
        priced.*,
        greatest(priced.length_of_stay - coalesce(priced.trim_days, priced.length_of_stay), 0)
            as excess_bed_days,
        priced.base_price
        + greatest(priced.length_of_stay - coalesce(priced.trim_days, priced.length_of_stay), 0)
        * coalesce(priced.per_day_long_stay_price, 0) as tariff_cost,
        ncc.unit_cost as ncc_unit_cost
    from priced
    left join ncc
        on
            priced.ncc_department_code = ncc.department_code
            and priced.hrg_code = ncc.currency_code
            and priced.discharge_date >= ncc.financial_year_start
            and priced.discharge_date < ncc.in_force_until
),

final as (
    select
        spell_key,
        extract_month,
        tariff_financial_year,
        base_price,
        trim_days,
        excess_bed_days,
        case
            when sus_tariff_total > 0 then 'sus_tariff'
            when tariff_cost is not null then 'tariff'
            when ncc_unit_cost is not null then 'ncc_unit_cost'
            else 'unpriced'
        end as cost_basis,
        case
            when sus_tariff_total > 0 then sus_tariff_total
            else coalesce(tariff_cost, ncc_unit_cost)
        end as cost,
        point_of_delivery not in ('elective_day_case', 'elective_ordinary') as is_notional_cost,
        case
            when
                coalesce(sus_tariff_total, 0) > 0 or coalesce(tariff_cost, ncc_unit_cost) is not null
                then null
            when hrg_code is null then 'no HRG on the record'
            when hrg_code like 'UZ%' then 'HRG invalid for grouping'
            when tariff_hrg_code is null then 'HRG not in the tariff'
            when point_of_delivery = 'regular_attender' then 'regular attenders have no national price'
            else 'no national price for this point of delivery'
        end as unpriced_reason
    from costed
)

select * from final
