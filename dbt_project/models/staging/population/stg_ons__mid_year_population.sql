{#- Nomis labels parsed: the reference year from DATE_NAME ("2021" or "June 2021"), sex from
    GENDER_NAME, single year of age from C_AGE_NAME ("Age 42", "Aged 90+"; "All Ages" kept as a
    total row with age null). -#}
with

source as (
    select * from {{ source('raw', 'ons_mid_year_population') }}
),

renamed as (
    select
        _period as release_month,
        cast(regexp_extract(date_name, '(\d{4})', 1) as integer) as reference_year,
        geography_code,
        geography_name,
        case lower(gender_name)
            when 'male' then 'male'
            when 'female' then 'female'
            when 'total' then 'all'
            when 'all persons' then 'all'
        end as sex,
        c_age_name as age_label,
        try_cast(nullif(regexp_extract(c_age_name, '(\d+)', 1), '') as integer) as age,
        c_age_name ilike '%all ages%' as is_all_ages,
        obs_value as population,
        _loaded_at
    from source
)

select * from renamed
