{#- A delimited string of ICD-10 or OPCS-4 codes as published (`K409,Z370`, `||I639 ,E119`,
    `I63.9`, `-`, dagger/asterisk markers) → a list of upper-case 4-character codes, the `-`
    (none) and empty entries dropped. -#}
{% macro clean_code_list(expression) -%}
    list_filter(
        list_transform(
            regexp_split_to_array(upper(coalesce({{ expression }}, '')), '[,|;\s]+'),
            lambda c: regexp_replace(c, '[^A-Z0-9]', '', 'g')[1:4]
        ),
        lambda c: len(c) >= 3
    )
{%- endmacro %}

{#- `prefix01, prefix02, …` for HES's numbered code columns. -#}
{% macro hes_columns(prefix, n) -%}
    {%- for i in range(1, n + 1) -%}
        {{ prefix }}{{ '%02d' % i }}{{ ', ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
