{#- The month window an incremental run rebuilds, [CW_PERIOD_START, CW_PERIOD_END) (end
    exclusive). Dagster sets both from the run's partitions (orchestration/lib/dbt_vars.py); a
    plain `dbt build` rebuilds every month. They are environment variables read only when the
    model runs, not dbt vars, so a new window never costs dbt a re-parse of the project. -#}
{% macro period_window(column) -%}
    {%- set start = env_var('CW_PERIOD_START', '') if execute else '' -%}
    {%- set end = env_var('CW_PERIOD_END', '') if execute else '' -%}
    {%- if start and end -%}
        {{ column }} >= date '{{ start }}'
        and {{ column }} < date '{{ end }}'
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
