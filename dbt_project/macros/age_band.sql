{#- NHS England writes quinary bands as 0_4 … 90_94 and 95+; Fingertips and the ESP2013 seed
    write 0-4 … 90-94, 95+. -#}
{% macro normalise_age_band(column) -%}
    replace(upper(trim({{ column }})), '_', '-')
{%- endmacro %}
