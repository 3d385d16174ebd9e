{#- Renamed only. Question columns keep their published names (qNNbase, qNN_12, qNN_12pct) because
    seeds/reference/gpps_question_map.csv names them; they still carry GPPS negative special codes
    (e.g. -97) as published: use int_gpps_concepts_long, which turns them into NULL plus a flag. -#}
with

source as (
    select * from {{ source('raw', 'gpps_practice_results') }}
),

renamed as (
    select
        _period as release_month,
        year(_period) as survey_year,
        practice_code,
        practice_name,
        ccg_code,
        ccg_name,
        stp_code,
        stp_name,
        commissioning_region_code,
        commissioning_region_name,
        ics_code,
        ics_name,
        distributed as questionnaires_distributed,
        received as questionnaires_received,
        resprate as response_rate,
        q3base,
        q3_12,
        q3_12pct,
        q9base,
        q9_12,
        q9_12pct,
        q18base,
        q18_12,
        q18_12pct,
        q28base,
        q28_12,
        q28_12pct,
        _schema_variant,
        _source_file,
        _loaded_at
    from source
)

select * from renamed
