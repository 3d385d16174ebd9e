{#- An organisation judged against its own recent level: one definition for submission coverage
    (partial submissions) and volume anomalies.
    - own_level_window(): the six months before the row's month, per feed and organisation;
    - usual (median) and spread (1.4826 × MAD, the robust standard deviation) over it;
    - far_from_own_level: more than 3.5 deviations away, the deviation being the larger of the
      Poisson one (√usual) and the spread. 3.5 rather than 3: over ~10,000 organisation-months a
      one-sided 3σ rule raises ~13 false alarms a month by chance (0.135%), 3.5σ ~2 (0.023%). -#}
{% macro own_level_window() -%}
    partition by feed, org_code
    order by month
    range between interval 6 month preceding and interval 1 month preceding
{%- endmacro %}

{% macro own_level_spread(column) -%}
    1.4826 * mad({{ column }}) over history
{%- endmacro %}

{% macro far_from_own_level(column, usual, spread) -%}
    abs({{ column }} - {{ usual }}) > 3.5 * greatest(sqrt({{ usual }}), {{ spread }})
{%- endmacro %}
