{#- Attribution gaps: activity and reference data that cannot be placed in a sub-ICB location through
    a known registered practice. One row per feed × organisation × month × reason, only where
    the gap has at least one record.

    Activity (hes_apc, hes_opa, ecds per provider and extract month; epd per cost centre and
    month, volume = items). Each record has at most one reason, tested in this order:
      default_practice_code      a default practice code (V81997/8/9) and no registered practice
                                 placed the record (the record's commissioner or residence may have);
      unknown_practice           a practice code neither the practice map nor ODS has ever known;
      unknown_commissioner_code  the commissioner code attributing the record (its practice's, or
                                 the record's own) is in no crosswalk;
      no_practice_or_commissioner  nothing placed the record (no practice or a practice without a
                                 commissioner that month, and no commissioner or residence on it).
    The EPD's unidentified cost centre '-' is no organisation: its share is of the month's file.

    Reference data (one row per practice or LSOA affected; volume = registered patients, or the
    LSOA's resident population; the whole organisation is the gap):
      gp_registered_patients     unknown_practice: list sizes for a practice neither the practice
                                 map nor ODS maps to a commissioner as at the month;
      gp_practice_map, ods_epraccur  unknown_commissioner_code: the practice's commissioner code is
                                 in no crosswalk; orphan_practice: the code closed before the month
                                 (OpenPrescribing's orphan practices);
      ons_lsoa_commissioner_lookup  lsoa_without_commissioner: an LSOA of the latest deprivation
                                 edition missing from the lookup release; unknown_commissioner_code:
                                 in the lookup with a code no crosswalk knows.

    is_material: activity when the unattributed share is at least material_share of the
    organisation's records that month and at least material_records records (fewer is noise at
    the sample's scale); reference data always (one unplaced practice or LSOA moves every
    population-based rate of its area). -#}
{%- set material_share = 0.05 -%}
{%- set material_records = 5 -%}
with

apc_spells as (
    select * from {{ ref('fct_apc_spell') }}
),

outpatient_appointments as (
    select * from {{ ref('fct_outpatient_attendance') }}
),

ae_attendances as (
    select * from {{ ref('fct_ae_attendance') }}
),

prescribing as (
    select * from {{ ref('fct_prescribing') }}
),

known_practices as (
    select distinct practice_code from {{ ref('dim_practice') }}
),

commissioners as (
    select * from {{ ref('dim_sub_icb') }}
),

practice_months as (
    select * from {{ ref('int_practice_month_commissioner') }}
),

registered_lists as (
    select
        month,
        org_code as practice_code,
        number_of_patients
    from {{ ref('stg_nhse__registered_patients') }}
    where org_type = 'GP' and sex = 'all' and age_band = 'ALL'
),

practice_map as (
    select * from {{ ref('stg_nhse__practice_map') }}
),

ods_practices as (
    select * from {{ ref('stg_ods__practices') }}
),

lsoa_lookup as (
    select * from {{ ref('stg_ons__lsoa_lookup') }}
),

deprivation as (
    select * from {{ ref('stg_mhclg__iod_file7') }}
),

activity_records as (
    {#- the two hospital extracts attribute through the same macro, so the same flags #}
    {%- for feed, unit, relation in [
        ('hes_apc', 'spells', 'apc_spells'),
        ('hes_opa', 'appointments', 'outpatient_appointments'),
    ] %}
        select
            '{{ feed }}' as feed,
            '{{ unit }}' as unit,
            'the record''s commissioner' as fallback,
            provider_code as org_code,
            extract_month as month,
            1 as volume,
            gp_practice_code as practice_code,
            is_default_practice_code and attribution_source != 'registered_practice' as is_default_unplaced,
            sub_icb_location_code is null and published_commissioner_code is not null
                as has_unknown_commissioner,
            published_commissioner_code as commissioner_code,
            sub_icb_location_code is not null as is_placed
        from {{ relation }}
        union all
    {%- endfor %}
    -- ECDS falls back to residence when the practice's commissioner is not in the crosswalk, so
    -- that case is a practice found for the month that still did not place the record; the code
    -- shown is the practice's commissioner, not the residence one.
    select
        'ecds' as feed,
        'attendances' as unit,
        'residence' as fallback,
        ae_attendances.provider_code as org_code,
        ae_attendances.period_month as month,
        1 as volume,
        ae_attendances.registered_practice_code as practice_code,
        ae_attendances.is_default_practice_code
        and coalesce(ae_attendances.attribution_basis, '') != 'registered_practice' as is_default_unplaced,
        ae_attendances.practice_attribution_source is not null
        and coalesce(ae_attendances.attribution_basis, '') != 'registered_practice'
            as has_unknown_commissioner,
        practice_months.published_commissioner_code as commissioner_code,
        ae_attendances.sub_icb_location_code is not null as is_placed
    from ae_attendances
    left join practice_months
        on
            ae_attendances.registered_practice_code = practice_months.practice_code
            and ae_attendances.arrival_month = practice_months.month
    union all
    select
        'epd' as feed,
        'items' as unit,
        'the EPD PCO code' as fallback,
        practice_code as org_code,
        month,
        items as volume,
        nullif(practice_code, '-') as practice_code,
        false as is_default_unplaced,
        sub_icb_location_code is null and published_commissioner_code is not null as has_unknown_commissioner,
        published_commissioner_code as commissioner_code,
        sub_icb_location_code is not null as is_placed
    from prescribing
),

classified as (
    select
        activity_records.*,
        case
            when activity_records.is_default_unplaced then 'default_practice_code'
            when
                activity_records.practice_code is not null and known_practices.practice_code is null
                then 'unknown_practice'
            when activity_records.has_unknown_commissioner then 'unknown_commissioner_code'
            when not activity_records.is_placed then 'no_practice_or_commissioner'
        end as reason
    from activity_records
    left join known_practices
        on activity_records.practice_code = known_practices.practice_code
),

org_totals as (
    select
        feed,
        org_code,
        month,
        sum(volume) as records
    from classified
    group by feed, org_code, month
),

file_totals as (
    select
        feed,
        month,
        sum(volume) as records
    from classified
    group by feed, month
),

activity_gaps as (
    select
        feed,
        any_value(unit) as unit,
        any_value(fallback) as fallback,
        org_code,
        month,
        reason,
        sum(volume) as unattributed_records,
        sum(volume) filter (where is_placed) as placed_records,
        array_to_string(
            list_slice(
                list_sort(list_distinct(list(
                    case
                        when reason = 'unknown_commissioner_code' then commissioner_code else practice_code
                    end
                ))),
                1, 5
            ),
            ', '
        ) as codes
    from classified
    where reason is not null
    group by feed, org_code, month, reason
),

activity_with_totals as (
    select
        activity_gaps.*,
        activity_gaps.feed = 'epd' and activity_gaps.org_code = '-' as is_unidentified_cost_centre,
        case
            when activity_gaps.feed = 'epd' and activity_gaps.org_code = '-' then file_totals.records
            else org_totals.records
        end as records
    from activity_gaps
    inner join org_totals
        on
            activity_gaps.feed = org_totals.feed
            and activity_gaps.org_code = org_totals.org_code
            and activity_gaps.month = org_totals.month
    inner join file_totals
        on
            activity_gaps.feed = file_totals.feed
            and activity_gaps.month = file_totals.month
),

activity as (
    select
        feed,
        case when feed = 'epd' then 'practice' else 'provider' end as org_type,
        org_code,
        month,
        reason,
        records,
        unattributed_records,
        unattributed_records || ' of ' || records || ' ' || unit
        || case
            when is_unidentified_cost_centre
                then ' in the month''s file are from the unidentified cost centre with no PCO code'
            when reason = 'default_practice_code'
                then ' carry a default practice code (' || codes || ')'
            when reason = 'unknown_practice'
                then ' carry a practice code no practice map or ODS release knows (' || codes || ')'
            when reason = 'unknown_commissioner_code'
                then ' are attributed through a commissioner code in no crosswalk (' || codes || ')'
            else ' have neither a known practice nor a commissioner or residence'
        end
        || case
            when is_unidentified_cost_centre then ''
            when placed_records is null then '; none placed by ' || fallback || ' either'
            else '; ' || placed_records || ' of them placed by ' || fallback || ' instead'
        end as detail
    from activity_with_totals
),

unknown_list_practices as (
    select
        'gp_registered_patients' as feed,
        'practice' as org_type,
        practice_months.practice_code as org_code,
        practice_months.month,
        'unknown_practice' as reason,
        'list sizes for a practice that neither the practice map nor ODS maps to a commissioner'
        || ' as at the month' as detail
    from practice_months
    where practice_months.published_commissioner_code is null
),

practice_links as (
    select
        'gp_practice_map' as feed,
        month,
        practice_code,
        commissioner_code,
        null as status_code
    from practice_map
    union all
    select
        'ods_epraccur' as feed,
        release_month as month,
        practice_code,
        coalesce(current_commissioner_code, commissioner_code) as commissioner_code,
        status_code
    from ods_practices
),

broken_links as (
    select
        practice_links.feed,
        'practice' as org_type,
        practice_links.practice_code as org_code,
        practice_links.month,
        case
            when commissioners.sub_icb_location_code is null then 'unknown_commissioner_code'
            else 'orphan_practice'
        end as reason,
        case
            when commissioners.sub_icb_location_code is null
                then
                    'practice mapped to commissioner code '
                    || coalesce(practice_links.commissioner_code, '(blank)')
                    || ', which no crosswalk knows'
            else
                'practice'
                || coalesce(' (status ' || practice_links.status_code || ')', '')
                || ' still attached to ' || practice_links.commissioner_code || ', merged away on '
                || strftime(commissioners.valid_to + 1, '%Y-%m-%d') || ' (today '
                || commissioners.sub_icb_location_code || ')'
        end as detail
    from practice_links
    left join commissioners
        on practice_links.commissioner_code = commissioners.commissioner_code
    where
        commissioners.sub_icb_location_code is null
        or commissioners.valid_to < practice_links.month
),

practice_reference as (
    select
        gaps.*,
        registered_lists.number_of_patients as records
    from (
        select * from unknown_list_practices
        union all
        select * from broken_links
    ) as gaps
    left join registered_lists
        on
            gaps.org_code = registered_lists.practice_code
            and gaps.month = registered_lists.month
),

latest_lsoas as (
    select
        lsoa_code,
        total_population
    from deprivation
    qualify iod_edition = max(iod_edition) over ()
),

lookup_releases as (
    select distinct published_month from lsoa_lookup
),

lsoa_reference as (
    select
        'ons_lsoa_commissioner_lookup' as feed,
        'lsoa' as org_type,
        latest_lsoas.lsoa_code as org_code,
        lookup_releases.published_month as month,
        case
            when lsoa_lookup.lsoa_code is null then 'lsoa_without_commissioner'
            else 'unknown_commissioner_code'
        end as reason,
        case
            when lsoa_lookup.lsoa_code is null
                then
                    'LSOA of the deprivation data missing from the lookup: its residents belong to no'
                    || ' sub-ICB location'
            else
                'LSOA mapped to commissioner code ' || coalesce(lsoa_lookup.commissioner_code, '(blank)')
                || ', which no crosswalk knows'
        end as detail,
        latest_lsoas.total_population as records
    from latest_lsoas
    cross join lookup_releases
    left join lsoa_lookup
        on
            latest_lsoas.lsoa_code = lsoa_lookup.lsoa_code
            and lookup_releases.published_month = lsoa_lookup.published_month
    left join commissioners
        on lsoa_lookup.commissioner_code = commissioners.commissioner_code
    where commissioners.sub_icb_location_code is null
),

reference as (
    select
        feed,
        org_type,
        org_code,
        month,
        reason,
        records,
        records as unattributed_records,
        detail
    from practice_reference
    union all
    select
        feed,
        org_type,
        org_code,
        month,
        reason,
        records,
        records as unattributed_records,
        detail
    from lsoa_reference
),

final as (
    select
        feed,
        org_type,
        org_code,
        month::date as month,
        reason,
        records::bigint as records,
        unattributed_records::bigint as unattributed_records,
        unattributed_records / nullif(records, 0) as unattributed_share,
        unattributed_records / nullif(records, 0) >= {{ material_share }}
        and unattributed_records >= {{ material_records }} as is_material,
        detail
    from activity
    union all
    select
        feed,
        org_type,
        org_code,
        month::date as month,
        reason,
        records::bigint as records,
        unattributed_records::bigint as unattributed_records,
        unattributed_records / nullif(records, 0) as unattributed_share,
        true as is_material,
        detail
    from reference
)

select * from final
