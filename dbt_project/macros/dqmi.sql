{#- NHS Digital Data Quality Maturity Index (DQMI), "Appendix 1: Example of DQMI calculation"
    (feeds_and_methods.md §9.2):

      defaults in excess = total defaults − threshold × records, floored at 0
      data item score    = (valid and complete − defaults in excess) / records × 100
      DQMI               = (1/n) Σ item score_i/100 × (1/n) Σ C_i × 100
                           n = data items submitted, C_i = coverage (0–1)

    Worked example: 2,500 records, 2,400 valid and complete, 100 defaults, threshold 2% →
    excess 50 → item score 94.0; 12 items with item scores summing to 9.7 (as fractions) and
    coverage summing to 7 → DQMI = 9.7/12 × 7/12 × 100 = 47.2. -#}

{#- Defaults beyond what the threshold (a share of records) tolerates; an item without a
    threshold (no default codes) has none in excess. -#}
{% macro dqmi_defaults_in_excess(default_records, records, threshold) -%}
    greatest({{ default_records }} - coalesce({{ threshold }}, 0) * {{ records }}, 0)
{%- endmacro %}

{#- Item score, 0–100; null when there are no records. -#}
{% macro dqmi_item_score(valid_and_complete_records, default_records, records, threshold) -%}
    100.0 * (
        {{ valid_and_complete_records }}
        - {{ dqmi_defaults_in_excess(default_records, records, threshold) }}
    ) / nullif({{ records }}, 0)
{%- endmacro %}

{#- DQMI over the rows of a group (one row per submitted item): mean item score (0–100) × mean
    coverage (0–1), which is the formula above with the item score written as a percentage.
    An aggregate: pass expressions that are null for items not submitted. -#}
{% macro dqmi_index(item_score, coverage) -%}
    avg({{ item_score }}) / 100.0 * avg({{ coverage }}) * 100.0
{%- endmacro %}
