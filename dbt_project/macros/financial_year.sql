{#- The 1 April that starts the financial year of a date. -#}
{% macro financial_year_start(date_expression) -%}
    make_date(
        year({{ date_expression }}) - case when month({{ date_expression }}) < 4 then 1 else 0 end, 4, 1
    )
{%- endmacro %}

{#- The financial year of a date as the NHS writes it: 2022/23. -#}
{% macro financial_year_label(date_expression) -%}
    cast(year({{ financial_year_start(date_expression) }}) as varchar) || '/'
    || right(cast(year({{ financial_year_start(date_expression) }}) + 1 as varchar), 2)
{%- endmacro %}
