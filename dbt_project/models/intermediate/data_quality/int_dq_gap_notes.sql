{#- The gaps that change a number, per area and month and feed, as a short note for the marts
    that show the number (mart_commissioning_summary, mart_ois_indicator). A gap counts when
    data are missing, partial, zero, anomalous, badly coded or unattributable; a late file or a
    recognised layout change does not change the figures; a feed the landing folder did not hold
    (feed_absent) makes every figure built from it provisional. A gap on a sub-ICB location is also
    a gap on its ICB and region and on England; a gap on ENGLAND is a gap everywhere. -#}
with

gaps as (
    select * from {{ ref('dq_gap_summary') }}
    where gap_kind not in ('late_file', 'schema_variant_change')
),

sub_icbs as (
    select * from {{ ref('dim_sub_icb') }}
    where is_current
),

areas as (
    {#- every area of today's geography with the sub-ICB locations inside it #}
    select
        'sub_icb_location' as area_level,
        sub_icb_location_code as area_code,
        sub_icb_location_code
    from sub_icbs
    union all
    select
        'icb' as area_level,
        icb_code as area_code,
        sub_icb_location_code
    from sub_icbs
    union all
    select
        'region' as area_level,
        region_code as area_code,
        sub_icb_location_code
    from sub_icbs
    union all
    select
        'england' as area_level,
        'E92000001' as area_code,
        sub_icb_location_code
    from sub_icbs
),

placed as (
    select distinct
        areas.area_level,
        areas.area_code,
        gaps.month,
        gaps.feed,
        gaps.gap_kind,
        gaps.org_code,
        gaps.severity
    from gaps
    inner join areas
        on
            gaps.sub_icb_location_code = areas.sub_icb_location_code
            or gaps.sub_icb_location_code = 'ENGLAND'
),

final as (
    select
        area_level,
        area_code,
        month,
        feed,
        bool_or(
            gap_kind in (
                'missing_submission', 'partial_submission', 'zero_submission', 'item_not_in_extract',
                'feed_absent'
            )
        ) as is_provisional,
        {#- "feed absent (tariff_apc_prices)", "missing submission (hes_apc RA0)" #}
        string_agg(
            distinct replace(gap_kind, '_', ' ') || ' ('
            || concat_ws(' ', feed, nullif(org_code, feed)) || ')',
            '; '
            order by
                replace(gap_kind, '_', ' ') || ' ('
                || concat_ws(' ', feed, nullif(org_code, feed)) || ')'
        ) as gaps
    from placed
    group by area_level, area_code, month, feed
)

select * from final
