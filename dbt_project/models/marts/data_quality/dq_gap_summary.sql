{#- Per sub-ICB location and month: what of its picture cannot be trusted, and why. Every gap
    found by the data-quality marts is placed on the areas it touches — a provider's gap on the
    sub-ICB locations it serves (int_dq_provider_catchment, 5% of its activity or more) with
    the share of its expected volume that is theirs, a practice's gap on the practice's sub-ICB
    location that month — and gaps of a whole national file, or of a feed the landing folder
    did not hold (int_dq_feed_absence), on ENGLAND (every area). Each row
    names the outputs that depend on the gap; the commissioning and outcomes marts carry it as a
    note beside the number. -#}
{%- set feed_outputs = {
    'hes_apc': ('episodes', 'mart_commissioning_summary (admitted_care)'),
    'hes_opa': ('appointments', 'mart_commissioning_summary (outpatients)'),
    'ecds': ('attendances', 'mart_commissioning_summary (urgent_and_emergency_care)'),
    'ae_monthly': ('attendances', 'fct_ae_provider_month (4-hour performance)'),
    'epd': ('items', 'mart_commissioning_summary (primary_care_prescribing); fct_prescribing_measure'),
    'gp_registered_patients': ('patients', 'every rate per registered patient (denominators)'),
    'gp_practice_map': ('practices', 'attribution of activity to sub-ICB locations'),
    'fft_inpatient': ('responses', 'experience indicators'),
    'fft_ae': ('responses', 'experience indicators'),
} -%}
with

coverage as (
    select * from {{ ref('dq_submission_coverage') }}
),

anomalies as (
    select * from {{ ref('dq_volume_anomaly') }}
),

items as (
    select * from {{ ref('dq_item_completeness') }}
),

attribution as (
    select * from {{ ref('dq_attribution_gap') }}
    where is_material
),

catchment as (
    select * from {{ ref('int_dq_provider_catchment') }}
    where share >= 0.05
),

practice_commissioner as (
    select
        *,
        {{ in_force_until('month', 'practice_code') }} as in_force_until
    from {{ ref('int_practice_month_commissioner') }}
),

sub_icbs as (
    select * from {{ ref('dim_sub_icb') }}
),

indicators as (
    select * from {{ ref('ois_indicators') }}
),

catalog as (
    select * from {{ source('meta', 'feed_catalog') }}
),

absent_feeds as (
    select * from {{ ref('int_dq_feed_absence') }}
),

outputs as (
    {%- for feed, label in feed_outputs.items() %}
        select
            '{{ feed }}' as feed,
            '{{ label[0] }}' as unit,
            '{{ label[1] }}' as outputs
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

feed_labels as (
    select
        catalog.feed,
        catalog.title as feed_title,
        coalesce(outputs.unit, 'rows') as unit,
        coalesce(outputs.outputs, 'the marts built from ' || catalog.feed) as outputs
    from catalog
    left join outputs on catalog.feed = outputs.feed
),

feed_outputs as (
    {#- the marts a feed feeds, and the outcome indicators computed from it #}
    select
        feed_labels.feed,
        feed_labels.feed_title,
        feed_labels.unit,
        concat_ws(
            '; ',
            feed_labels.outputs,
            string_agg(
                'OIS ' || coalesce(nullif(indicators.ois_code, ''), indicators.indicator_id), '; '
                order by indicators.indicator_id
            )
        ) as affected_outputs
    from feed_labels
    left join indicators on feed_labels.feed = indicators.source
    group by feed_labels.feed, feed_labels.feed_title, feed_labels.unit, feed_labels.outputs
),

org_gaps as (
    {#- an organisation's missing, partial or zero month, and unexplained volume anomalies #}
    select
        feed,
        org_type,
        org_code,
        month,
        case status
            when 'missing' then 'missing_submission'
            when 'partial' then 'partial_submission'
            else 'zero_submission'
        end as gap_kind,
        case when status = 'missing' then 'error' else 'warn' end as severity,
        greatest(usual_records - records, 0) as records_absent,
        case status
            when 'missing' then 'missing'
            when 'partial'
                then 'partial (' || records || ' of a usual ' || round(usual_records)::bigint || ')'
            else 'all zero'
        end as what
    from coverage
    where org_type != 'file' and status in ('missing', 'partial', 'zero')
    union all
    select
        feed,
        org_type,
        org_code,
        month,
        'volume_anomaly' as gap_kind,
        'warn' as severity,
        case when change < 0 then usual_records - records end as records_absent,
        replace(anomaly_kind, '_', ' ') || ' (' || detail || ')' as what
    from anomalies
    where not is_explained
    union all
    select
        feed,
        'provider' as org_type,
        provider_code as org_code,
        month,
        case when defaults_in_excess > 0 then 'default_codes' else 'low_item_completeness' end as gap_kind,
        'warn' as severity,
        null::double as records_absent,
        data_item || ' (' || source_column || '): ' || status_reason as what
    from items
    where status = 'low'
    union all
    select
        feed,
        org_type,
        org_code,
        month,
        case
            when reason = 'default_practice_code' then 'default_codes'
            when reason = 'no_practice_or_commissioner' then 'unattributed_activity'
            else 'unknown_organisation'
        end as gap_kind,
        'warn' as severity,
        null::double as records_absent,
        replace(reason, '_', ' ') || ': ' || detail as what
    from attribution
),

placed as (
    {#- providers: on the areas they serve, in proportion #}
    select
        catchment.sub_icb_location_code,
        org_gaps.*,
        catchment.share
    from org_gaps
    inner join catchment
        on
            org_gaps.feed = catchment.feed
            and org_gaps.org_code = catchment.provider_code
    where org_gaps.org_type in ('provider', 'trust')
    union all
    {#- practices: on their sub-ICB location that month, or the latest month before it when
        the gap is the practice's absence (ENGLAND when the practice is unknown) #}
    select
        coalesce(sub_icbs.sub_icb_location_code, 'ENGLAND') as sub_icb_location_code,
        org_gaps.*,
        1.0 as share
    from org_gaps
    left join practice_commissioner
        on
            org_gaps.org_code = practice_commissioner.practice_code
            and org_gaps.month >= practice_commissioner.month
            and org_gaps.month < practice_commissioner.in_force_until
    left join sub_icbs
        on practice_commissioner.published_commissioner_code = sub_icbs.commissioner_code
    where org_gaps.org_type = 'practice'
    union all
    {#- a commissioner code's own series #}
    select
        coalesce(sub_icbs.sub_icb_location_code, 'ENGLAND') as sub_icb_location_code,
        org_gaps.*,
        1.0 as share
    from org_gaps
    left join sub_icbs on org_gaps.org_code = sub_icbs.commissioner_code
    where org_gaps.org_type = 'commissioner'
    union all
    {#- an LSOA no lookup places belongs to no area yet #}
    select
        'ENGLAND' as sub_icb_location_code,
        org_gaps.*,
        1.0 as share
    from org_gaps
    where org_gaps.org_type = 'lsoa'
),

org_rows as (
    select
        placed.sub_icb_location_code,
        placed.month,
        placed.feed,
        placed.gap_kind,
        placed.org_code,
        placed.severity,
        placed.records_absent * placed.share as expected_records_absent,
        feed_outputs.affected_outputs,
        feed_outputs.feed_title || ' for ' || placed.org_type || ' ' || placed.org_code || ' in '
        || strftime(placed.month, '%Y-%m') || ': ' || placed.what
        || case
            when placed.records_absent > 0
                then
                    '; ' || format('{:,}', round(placed.records_absent * placed.share)::bigint)
                    || ' expected ' || feed_outputs.unit || ' absent'
                    || case
                        when placed.share < 1
                            then
                                ' (' || round(placed.share * 100)::integer || '% of its '
                                || feed_outputs.unit || ' are for this area)'
                        else ''
                    end
            else ''
        end as message
    from placed
    inner join feed_outputs on placed.feed = feed_outputs.feed
),

file_rows as (
    {#- a whole national file: missing, late or in a new layout touches every area #}
    select
        'ENGLAND' as sub_icb_location_code,
        coverage.month,
        coverage.feed,
        case
            when coverage.status = 'missing' then 'missing_submission'
            when coverage.status = 'late' then 'late_file'
            else 'schema_variant_change'
        end as gap_kind,
        coverage.feed as org_code,
        case coverage.status when 'missing' then 'error' when 'late' then 'warn' else 'info' end as severity,
        null::double as expected_records_absent,
        feed_outputs.affected_outputs,
        feed_outputs.feed_title || ' file for ' || strftime(coverage.month, '%Y-%m')
        || case
            when coverage.status = 'missing' then ' is missing'
            when coverage.status = 'late' then ' arrived late: ' || coverage.status_reason
            else
                ' came in a new layout (' || coverage.schema_variant
                || '), read as that known variant: check the figures either side of the change'
        end as message
    from coverage
    left join feed_outputs on coverage.feed = feed_outputs.feed
    where
        coverage.org_type = 'file'
        and (coverage.status in ('missing', 'late') or coverage.schema_variant_changed)
        and not exists (
            {#- an absent feed's months are absence rows below, not missing files #}
            select 1 from absent_feeds
            where
                absent_feeds.feed = coverage.feed
                and absent_feeds.month = coverage.month
        )
),

absence_rows as (
    {#- a feed the landing folder did not hold: every area, every month it is absent for #}
    select
        'ENGLAND' as sub_icb_location_code,
        absent_feeds.month,
        absent_feeds.feed,
        'feed_absent' as gap_kind,
        absent_feeds.feed as org_code,
        'error' as severity,
        null::double as expected_records_absent,
        coalesce(feed_outputs.affected_outputs, 'the marts built from ' || absent_feeds.feed)
            as affected_outputs,
        absent_feeds.message
    from absent_feeds
    left join feed_outputs on absent_feeds.feed = feed_outputs.feed
),

extract_rows as (
    {#- a field absent from a whole month's extract: every area, every provider #}
    select
        'ENGLAND' as sub_icb_location_code,
        items.month,
        items.feed,
        'item_not_in_extract' as gap_kind,
        items.feed as org_code,
        'warn' as severity,
        null::double as expected_records_absent,
        any_value(feed_outputs.affected_outputs) as affected_outputs,
        any_value(feed_outputs.feed_title) || ' extract for ' || strftime(items.month, '%Y-%m')
        || ' came without ' || items.source_column || ' (' || replace(items.data_item, '_', ' ')
        || ') for all ' || count(*) || ' providers: figures that use it are incomplete' as message
    from items
    inner join feed_outputs on items.feed = feed_outputs.feed
    where items.status = 'not_in_extract'
    group by items.month, items.feed, items.source_column, items.data_item
),

all_rows as (
    select * from org_rows
    union all
    select * from file_rows
    union all
    select * from extract_rows
    union all
    select * from absence_rows
),

final as (
    select
        all_rows.sub_icb_location_code,
        sub_icbs.sub_icb_location_name,
        sub_icbs.icb_code,
        all_rows.month,
        all_rows.feed,
        all_rows.gap_kind,
        all_rows.org_code,
        all_rows.severity,
        all_rows.expected_records_absent,
        all_rows.affected_outputs,
        all_rows.message
    from all_rows
    left join sub_icbs on all_rows.sub_icb_location_code = sub_icbs.commissioner_code
)

select * from final
