{#- Each sub-ICB location's indicator values against its 10 most similar sub-ICB locations
    (mart_sub_icb_peers, latest month), and the opportunity: the admissions and spend that
    would be avoided if it matched the mean of the best five of its peers. Best follows the
    indicator's polarity; opportunity is counted only for directly standardised hospital
    indicators where lower is better: events avoidable = count × (1 − best-five mean ÷ value),
    never below 0, and spend avoidable = events avoidable × the area's own mean cost of those
    admissions (fct_apc_spell costing; unpriced admissions left out of the mean). National
    decile: 1 = the best tenth of sub-ICB locations for that indicator and period. -#}
with

indicator_values as (
    select * from {{ ref('mart_ois_indicator') }}
    where area_level = 'sub_icb_location'
),

peers as (
    select
        sub_icb_location_code,
        peer_sub_icb_location_code,
        peer_rank
    from {{ ref('mart_sub_icb_peers') }}
    where is_latest_month
),

peer_values as (
    select
        area.indicator_id,
        area.period,
        area.area_code,
        peer.value as peer_value,
        row_number() over (
            partition by area.indicator_id, area.period, area.area_code
            order by case when area.polarity = 'high_is_good' then -peer.value else peer.value end
        ) as best_order
    from indicator_values as area
    inner join peers on area.area_code = peers.sub_icb_location_code
    inner join indicator_values as peer
        on
            area.indicator_id = peer.indicator_id
            and area.period = peer.period
            and peers.peer_sub_icb_location_code = peer.area_code
    where peer.value is not null
),

peer_summary as (
    select
        indicator_id,
        period,
        area_code,
        count(*) as peers_with_values,
        min(peer_value) as peer_min,
        max(peer_value) as peer_max,
        avg(peer_value) as peer_mean,
        avg(peer_value) filter (where best_order <= 5) as best_five_peer_mean
    from peer_values
    group by all
),

admission_costs as (
    select
        events.indicator_id,
        events.sub_icb_location_code,
        {{ financial_year_label('events.financial_year_start') }} as period,
        avg(spells.cost) as mean_cost_per_admission
    from {{ ref('int_ois_admission_events') }} as events
    inner join {{ ref('fct_apc_spell') }} as spells on events.spell_key = spells.spell_key
    group by all
),

ranked as (
    select
        *,
        case
            when value is not null and polarity in ('low_is_good', 'high_is_good')
                then ntile(10) over (
                    partition by indicator_id, period, value is null
                    -- area code breaks ties (many areas share a value of 0): without it a
                    -- rebuild of the same data gave tied areas other deciles
                    order by case when polarity = 'high_is_good' then -value else value end, area_code
                )
        end as national_decile
    from indicator_values
),

final as (
    select
        ranked.indicator_id,
        ranked.indicator_title,
        ranked.method,
        ranked.polarity,
        ranked.period,
        ranked.area_code as sub_icb_location_code,
        ranked.count,
        ranked.value,
        ranked.lower_ci_95,
        ranked.upper_ci_95,
        ranked.england_value,
        ranked.national_decile,
        peer_summary.peers_with_values,
        peer_summary.peer_min,
        peer_summary.peer_max,
        peer_summary.peer_mean,
        peer_summary.best_five_peer_mean,
        case
            when ranked.value is null or peer_summary.peer_min is null then 'Not compared'
            when ranked.value < peer_summary.peer_min then 'Below peer range'
            when ranked.value > peer_summary.peer_max then 'Above peer range'
            else 'Within peer range'
        end as against_peer_range,
        admission_costs.mean_cost_per_admission,
        case
            when ranked.method = 'dsr' and ranked.polarity = 'low_is_good' and ranked.value > 0
                then greatest(ranked.count * (1 - peer_summary.best_five_peer_mean / ranked.value), 0)
        end as events_avoidable,
        case
            when ranked.method = 'dsr' and ranked.polarity = 'low_is_good' and ranked.value > 0
                then
                    greatest(ranked.count * (1 - peer_summary.best_five_peer_mean / ranked.value), 0)
                    * admission_costs.mean_cost_per_admission
        end as spend_avoidable,
        ranked.value_note
    from ranked
    left join peer_summary
        on
            ranked.indicator_id = peer_summary.indicator_id
            and ranked.period = peer_summary.period
            and ranked.area_code = peer_summary.area_code
    left join admission_costs
        on
            ranked.indicator_id = admission_costs.indicator_id
            and ranked.period = admission_costs.period
            and ranked.area_code = admission_costs.sub_icb_location_code
)

select * from final
