{#- The similarity method of the sub-ICB peer groups (mart_sub_icb_peers), in one place.

    peer_features(): the variables, each a column of int_sub_icb_peer_features, with its weight
    in the distance. Equal weights: age structure therefore carries 7 of the 11 parts, deprivation
    2, sex 1 and list size 1. Change a weight here and the distance follows. -#}
{% macro peer_features() %}
    {{ return([
        {'name': 'pct_aged_0_4', 'weight': 1},
        {'name': 'pct_aged_5_14', 'weight': 1},
        {'name': 'pct_aged_15_44', 'weight': 1},
        {'name': 'pct_aged_45_64', 'weight': 1},
        {'name': 'pct_aged_65_74', 'weight': 1},
        {'name': 'pct_aged_75_84', 'weight': 1},
        {'name': 'pct_aged_85_plus', 'weight': 1},
        {'name': 'pct_female', 'weight': 1},
        {'name': 'imd_score_population_weighted', 'weight': 1},
        {'name': 'pct_resident_in_most_deprived_quintile', 'weight': 1},
        {'name': 'log10_registered_patients', 'weight': 1},
    ]) }}
{% endmacro %}

{#- How many peers each area gets: NHS RightCare's "similar 10". A var so that a unit test can
    check the cut-off with a handful of areas. -#}
{% macro peer_group_size() %}
    {{ return(var('peer_group_size', 10)) }}
{% endmacro %}

{#- Weighted Euclidean distance between two relations carrying z_<feature> columns. -#}
{% macro peer_distance(left, right) -%}
    sqrt(
        {%- for feature in peer_features() %}
            {{ feature.weight }} * ({{ left }}.z_{{ feature.name }} - {{ right }}.z_{{ feature.name }}) ** 2
            {%- if not loop.last %} +{% endif %}
        {%- endfor %}
    )
{%- endmacro %}

{#- The test that a row never pairs an area with itself: fails on rows where the column equals
    other_column. -#}
{% test differs_from_column(model, column_name, other_column) %}

    select *
    from {{ model }}
    where {{ column_name }} = {{ other_column }}

{% endtest %}
