{#- Use the custom schema name as written (staging, marts, ...), not <target>_<custom>,
    so DuckDB schemas read the same as the Dagster asset keys (schema/table). -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
