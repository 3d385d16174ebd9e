{#- Each sub-ICB location's most similar sub-ICB locations in a month: the variables of
    int_sub_icb_peer_features are z-scored across the areas compared that month, and peers are
    ranked by weighted Euclidean distance (macros/peer_distance.sql). Areas with an exclusion
    reason take no part: they neither get peers nor count in the means and deviations. -#}
with

features as (
    select * from {{ ref('int_sub_icb_peer_features') }}
    where
        exclusion_reason is null
        {%- for feature in peer_features() %}
            and {{ feature.name }} is not null
        {%- endfor %}
),

moments as (
    select
        month,
        {% for feature in peer_features() %}
            avg({{ feature.name }}) as mean_{{ feature.name }},
            stddev_pop({{ feature.name }}) as sd_{{ feature.name }},
        {% endfor %}
        count(*) as areas_compared
    from features
    group by month
),

-- A variable that does not vary in a month (deviation 0) separates nobody: z = 0 everywhere.
standardised as (
    select
        features.month,
        features.sub_icb_location_code,
        features.sub_icb_location_name,
        features.icb_code,
        {% for feature in peer_features() %}
            coalesce(
                (features.{{ feature.name }} - moments.mean_{{ feature.name }})
                / nullif(moments.sd_{{ feature.name }}, 0),
                0
            ) as z_{{ feature.name }},
        {% endfor %}
        moments.areas_compared
    from features
    inner join moments
        on features.month = moments.month
),

pairs as (
    select
        area.month,
        area.sub_icb_location_code,
        area.sub_icb_location_name,
        area.icb_code,
        peer.sub_icb_location_code as peer_sub_icb_location_code,
        peer.sub_icb_location_name as peer_sub_icb_location_name,
        peer.icb_code as peer_icb_code,
        area.areas_compared,
        {{ peer_distance('area', 'peer') }} as distance
    from standardised as area
    inner join standardised as peer
        on
            area.month = peer.month
            and area.sub_icb_location_code != peer.sub_icb_location_code
),

-- Distances equal to 9 decimal places are ties, broken by the peer's code, so the ranking
-- does not depend on floating-point noise.
ranked as (
    select
        *,
        row_number() over (
            partition by month, sub_icb_location_code
            order by round(distance, 9), peer_sub_icb_location_code
        ) as peer_rank
    from pairs
    qualify peer_rank <= {{ peer_group_size() }}
),

final as (
    select
        month,
        month = max(month) over () as is_latest_month,
        sub_icb_location_code,
        sub_icb_location_name,
        icb_code,
        peer_rank,
        peer_sub_icb_location_code,
        peer_sub_icb_location_name,
        peer_icb_code,
        icb_code = peer_icb_code as is_same_icb,
        round(distance, 4) as distance,
        areas_compared
    from ranked
)

select * from final
