{#- Completeness and validity of the data items commissioners depend on, per provider and
    month, the NHS Digital DQMI way (feeds_and_methods.md §9.2, §10.2). Values are judged as
    submitted, so this reads the raw tables, not staging.

    The items, their publisher column, validity rule (a regular expression the whole value must
    match), default codes, default threshold and cut-off come from the seed dqmi_items, joined
    at run time on feed, raw column and schema variant (the layout the extract came in). The
    list below only says which raw columns to count: one small scan per column, grouped to
    distinct values, so each rule runs once per distinct value, not once per record. A seed
    row whose raw column is not listed here would find no values: the integration test
    (tests/integration/test_dq_item_completeness.py) checks every item comes out. -#}
{%- set counted_columns = {
    'hes_apc': ('procode3', [
        'gpprac', 'ccg_responsibility', 'lsoa11', 'startage', 'sex', 'diag_4_01', 'diag_all',
        'admimeth', 'sushrg', 'dismeth',
    ]),
    'hes_opa': ('procode3', [
        'gpprac', 'ccg_responsibility', 'lsoa11', 'apptage', 'sex', 'tretspef', 'attended', 'firstatt',
    ]),
    'ecds': ('provider_code', [
        'gp_practice_code', 'commissioner_code', 'lsoa_2011_code', 'age_at_arrival', 'sex',
        'chief_complaint', 'diagnosis_all', 'arrival_mode',
    ]),
} %}
with

items as (
    select * from {{ ref('dqmi_items') }}
),

value_counts as (
    {%- for feed, (provider_column, columns) in counted_columns.items() %}
        {%- set outer_loop = loop %}
        {%- for column in columns %}
            select
                '{{ feed }}' as feed,
                {{ provider_column }}::varchar as provider_code,
                _period as month,
                _schema_variant as schema_variant,
                '{{ column }}' as raw_column,
                {{ column }}::varchar as value_as_submitted,
                count(*) as records
            from {{ source('raw', feed) }}
            group by all
            {%- if not (outer_loop.last and loop.last) %}
                union all
            {%- endif %}
        {%- endfor %}
    {%- endfor %}
),

judged as (
    select
        value_counts.feed,
        value_counts.provider_code,
        value_counts.month,
        items.data_item,
        items.source_column,
        items.default_threshold,
        items.min_item_score,
        value_counts.records,
        value_counts.value_as_submitted is not null as is_complete,
        coalesce(
            list_contains(string_split(items.default_values, '|'), value_counts.value_as_submitted),
            false
        ) as is_default,
        coalesce(regexp_full_match(value_counts.value_as_submitted, items.validity_rule), false)
            as is_valid
    from value_counts
    inner join items
        on
            value_counts.feed = items.feed
            and value_counts.raw_column = items.raw_column
            and list_contains(string_split(items.schema_variants, '|'), value_counts.schema_variant)
),

counted as (
    select
        feed,
        provider_code,
        month,
        data_item,
        source_column,
        any_value(default_threshold) as default_threshold,
        any_value(min_item_score) as min_item_score,
        sum(records)::bigint as records,
        sum(records) filter (where is_complete)::bigint as complete_records,
        -- a default code is a permitted value: it counts as valid, and only its excess over the
        -- threshold is taken off the score
        sum(records) filter (where is_complete and (is_valid or is_default))::bigint
            as valid_and_complete_records,
        sum(records) filter (where is_default)::bigint as default_records
    from judged
    group by feed, provider_code, month, data_item, source_column
),

with_extract as (
    select
        *,
        -- the loader leaves a column the file did not carry NULL in every row, so a column
        -- empty for every provider in the month's extract was not in it
        sum(coalesce(complete_records, 0)) over (
            partition by feed, month, data_item, source_column
        ) > 0 as is_in_extract
    from counted
),

scored as (
    select
        feed,
        provider_code,
        month,
        data_item,
        source_column,
        records,
        coalesce(complete_records, 0) as complete_records,
        coalesce(valid_and_complete_records, 0) as valid_and_complete_records,
        coalesce(default_records, 0) as default_records,
        default_threshold,
        {{ dqmi_defaults_in_excess('coalesce(default_records, 0)', 'records', 'default_threshold') }}
            as defaults_in_excess,
        {{ dqmi_item_score(
            'coalesce(valid_and_complete_records, 0)', 'coalesce(default_records, 0)', 'records',
            'default_threshold'
        ) }} as score,
        min_item_score,
        is_in_extract
    from with_extract
),

final as (
    select
        feed,
        provider_code,
        month,
        data_item,
        source_column,
        records,
        complete_records,
        valid_and_complete_records,
        default_records,
        default_threshold,
        defaults_in_excess,
        case when is_in_extract then score end as item_score,
        min_item_score,
        is_in_extract,
        case
            when not is_in_extract then 'not_in_extract'
            when score < min_item_score then 'low'
            else 'ok'
        end as status,
        case
            when not is_in_extract
                then
                    source_column || ' is empty in every record of the month''s extract, '
                    || 'for every provider: the column was not in the file'
            when score < min_item_score
                then
                    'item score ' || round(score, 1) || ' below ' || min_item_score
                    || ' over ' || records || ' records: '
                    || (records - complete_records) || ' empty, '
                    || (complete_records - valid_and_complete_records) || ' invalid, '
                    || default_records || ' default codes ('
                    || round(100.0 * default_records / records, 1) || '%'
                    || coalesce(', threshold ' || round(100.0 * default_threshold, 1) || '%', '')
                    || ')'
        end as status_reason
    from scored
)

select * from final
