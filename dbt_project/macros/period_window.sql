{#- The month window of an incremental run. Dagster passes period_start / period_end
    (end exclusive) from the partition; a plain `dbt build` rebuilds every month. -#}
{% macro period_window(column) -%}
    {%- if var('period_start', none) and var('period_end', none) -%}
        {{ column }} >= date '{{ var("period_start") }}'
        and {{ column }} < date '{{ var("period_end") }}'
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
