{#- The 1 April that starts the financial year of a date. -#}
{% macro financial_year_start(date_expression) -%}
    make_date(
        year({{ date_expression }}) - case when month({{ date_expression }}) < 4 then 1 else 0 end, 4, 1
    )
{%- endmacro %}
