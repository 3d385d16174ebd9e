{#- QOF recorded prevalence per practice, financial year and disease group: the register, the list
    it is measured against (the group's age band, at 1 April after the year) and register / list
    as a percentage, with the practice attributed to the commissioner it was published against
    in the latest month of the year (up to the list date) it was in the registered list, restated
    to today's geography. A prevalence is never computed
    from a suppressed cell, from a missing (0) list, or from a register larger than its list:
    each is flagged and said in value_note, and the counts stay as published. -#}
with

registered_months as (
    select
        practice_code,
        month
    from {{ ref('int_practice_month_commissioner') }}
),

published as (
    select
        *,
        -- QOF measures registers against the lists at 1 April after the year
        cast(financial_year_start + interval 1 year as date) as list_size_date
    from {{ ref('stg_nhsd__qof_prevalence') }}
),

practice_years as (
    select distinct
        practice_code,
        financial_year_start,
        list_size_date
    from published
),

attribution_months as (
    select
        practice_years.practice_code,
        practice_years.financial_year_start,
        max(registered_months.month) as attribution_month
    from practice_years
    inner join registered_months
        on
            practice_years.practice_code = registered_months.practice_code
            and practice_years.financial_year_start <= registered_months.month
            and practice_years.list_size_date >= registered_months.month
    group by practice_years.practice_code, practice_years.financial_year_start
),

prevalence as (
    select
        published.*,
        -- a practice in no registered list of the year is looked for in its last month, March
        coalesce(
            attribution_months.attribution_month,
            cast(published.financial_year_start + interval 11 month as date)
        ) as attribution_month,
        cast(null as varchar) as record_commissioner_code
    from published
    left join attribution_months
        on
            published.practice_code = attribution_months.practice_code
            and published.financial_year_start = attribution_months.financial_year_start
),

groups as (
    select * from {{ ref('qof_groups') }}
),

practices as (
    select * from {{ ref('dim_practice') }}
),

attributed as (
    {{ attribute_to_commissioner(
        'prevalence', 'practice_code', 'attribution_month', 'record_commissioner_code'
    ) }}
),

flagged as (
    select
        attributed.*,
        coalesce(
            attributed.register > attributed.list_size and attributed.list_size > 0, false
        ) as is_register_above_list_size,
        coalesce(attributed.list_size = 0, false) as is_without_list_size
    from attributed
),

final as (
    select
        flagged.financial_year_start,
        flagged.financial_year,
        flagged.list_size_date,
        flagged.practice_code,
        practices.practice_name,
        flagged.group_code,
        groups.group_name,
        groups.ltc_programme,
        flagged.patient_list_type,
        flagged.register,
        flagged.list_size,
        case
            when
                not flagged.is_register_above_list_size
                and not flagged.is_register_suppressed
                and not flagged.is_list_size_suppressed
                then 100.0 * flagged.register / nullif(flagged.list_size, 0)
        end as recorded_prevalence_pct,
        flagged.is_register_suppressed,
        flagged.is_list_size_suppressed,
        flagged.is_register_above_list_size,
        flagged.is_without_list_size,
        practices.close_date as practice_close_date,
        coalesce(
            practices.close_date between flagged.financial_year_start and flagged.list_size_date, false
        ) as is_closed_in_year,
        flagged.is_known_practice,
        flagged.attribution_month,
        flagged.published_commissioner_code,
        flagged.sub_icb_location_code,
        flagged.icb_code,
        flagged.region_code,
        flagged.attribution_gap,
        case
            when flagged.is_register_suppressed or flagged.is_list_size_suppressed
                then 'suppressed by the publisher (`*`): no prevalence'
            when flagged.is_without_list_size
                then 'no list at 1 April after the year (practice closed or merged during it): no prevalence'
            when flagged.is_register_above_list_size
                then 'register larger than the list it is measured against: prevalence withheld'
            when groups.group_code is null
                then 'group not in seeds/reference/qof_groups.csv'
        end as value_note,
        flagged._schema_variant as schema_variant,
        flagged._source_file as source_file
    from flagged
    left join groups
        on flagged.group_code = groups.group_code
    left join practices
        on flagged.practice_code = practices.practice_code
)

select * from final
