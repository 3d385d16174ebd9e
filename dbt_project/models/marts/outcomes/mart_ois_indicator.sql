{#- The Outcomes Indicator Set in the Fingertips long shape: indicator × area × period × sex ×
    age with count, denominator, value, 95% and 99.8% limits, and comparisons with England and
    the parent area. Every indicator is a row of seed ois_indicators; each method has one path:
    - dsr: hospital admissions (int_ois_rate_inputs) → directly standardised rate per 100,000
      (ESP2013) with Dobson limits; no value below 10 events (stats.dsr);
    - isr: emergency readmissions (int_ois_readmissions) → indirectly standardised percentage:
      observed / expected × England's crude percentage, expected from England's rates by sex
      and age band, exact/Byar's limits;
    - proportion: readmission percentages, GP Patient Survey and FFT shares → Wilson limits;
    - fingertips: values and limits as OHID publishes them; the comparisons recomputed here.
    Comparisons with England follow Fingertips by the indicator's comparator (seed column
    comparator, stats.compare_by_method at each level; single_overlap: the benchmark inside
    the area's interval is Similar, otherwise Better/Worse by polarity); compared_to_england is
    the two-level label (stats.compare_two_level) for two_level, else the 95% one. With the
    parent: single overlap at 95% (stats.compare_with_benchmark). Parents: practice →
    sub-ICB location → ICB → region → England. A value that a data gap touches (a submission
    of the indicator's source feed, or of the list sizes under a registered-population
    denominator, missing or doubtful in a month of its period: int_dq_gap_notes) says so in
    value_note; a practice carries its sub-ICB location's gaps.
    Recent trend: Fingertips' trend marker (stats.recent_trend_marker) over the five years up to
    the row's period, for proportions (chi-squared test for trend on count and denominator); a
    missing year breaks the series. Fingertips-published indicators carry Fingertips' own label;
    DSRs and ISRs: 'Cannot be calculated' (Fingertips takes only proportions and crude rates). -#}
{%- set ci = [('95', 0.95), ('998', 0.998)] %}
with

indicators as (
    select * from {{ ref('ois_indicators') }}
),

locations as (
    select * from {{ ref('sub_icb_locations') }}
),

icb_regions as (
    select distinct
        icb_code,
        region_code
    from locations
),

practices as (
    select
        practice_code,
        sub_icb_location_code
    from {{ ref('dim_practice') }}
),

gap_notes as (
    select * from {{ ref('int_dq_gap_notes') }}
),

indicator_gaps as (
    {#- per indicator, area and financial year: the gaps in the feeds it is computed from #}
    select
        indicators.indicator_id,
        gap_notes.area_level,
        gap_notes.area_code,
        {{ financial_year_start('gap_notes.month') }} as financial_year_start,
        bool_or(gap_notes.is_provisional) as is_provisional,
        string_agg(
            distinct gap_notes.gaps || ' in ' || strftime(gap_notes.month, '%Y-%m'), '; '
            order by gap_notes.gaps || ' in ' || strftime(gap_notes.month, '%Y-%m')
        ) as gaps
    from indicators
    inner join gap_notes
        on
            indicators.source = gap_notes.feed
            or (
                indicators.denominator = 'registered_population'
                and gap_notes.feed = 'gp_registered_patients'
            )
    group by all
),

-- ---- directly standardised rates --------------------------------------------------------
rate_inputs as (
    select * from {{ ref('int_ois_rate_inputs') }}
),

dsr as (
    select
        rate_inputs.indicator_id,
        rate_inputs.financial_year_start,
        rate_inputs.area_level,
        rate_inputs.area_code,
        sum(rate_inputs.events) as numerator,
        sum(rate_inputs.person_years) as denominator,
        max(rate_inputs.months_covered) as months_covered,
        sum(rate_inputs.standard_population * rate_inputs.events / nullif(rate_inputs.person_years, 0))
            as weighted_sum,
        sum(
            rate_inputs.standard_population ^ 2 * rate_inputs.events / nullif(rate_inputs.person_years, 0) ^ 2
        ) as weighted_sq_sum,
        sum(rate_inputs.standard_population) as standard_total,
        sum(rate_inputs.events) filter (where coalesce(rate_inputs.person_years, 0) = 0)
            as events_without_population,
        -- events in a band without registered patients: no rate rather than an understated one
        coalesce(sum(rate_inputs.events) filter (where coalesce(rate_inputs.person_years, 0) = 0), 0) = 0
            as is_calculable,
        any_value(indicators.multiplier) as multiplier
    from rate_inputs
    inner join indicators on rate_inputs.indicator_id = indicators.indicator_id
    group by all
),

dsr_values as (
    select
        indicator_id,
        financial_year_start,
        area_level,
        area_code,
        numerator,
        denominator,
        months_covered,
        null::varchar as period_label,
        null::double as expected_count,
        case when is_calculable then stats.dsr(weighted_sum, standard_total, numerator, multiplier) end
            as value,
        {%- for label, level in ci %}
            case when is_calculable then stats.dobson_lower(
                weighted_sum, weighted_sq_sum, standard_total, numerator, {{ level }}, multiplier
            ) end as lower_ci_{{ label }},
            case when is_calculable then stats.dobson_upper(
                weighted_sum, weighted_sq_sum, standard_total, numerator, {{ level }}, multiplier
            ) end as upper_ci_{{ label }},
        {%- endfor %}
        case
            when numerator < 10 then 'Value not calculated: fewer than 10 events'
            when events_without_population > 0
                then
                    'Value not calculated: '
                    || events_without_population
                    || ' events without a registered population'
        end as calculation_note,
        null::varchar as published_trend
    from dsr
),

-- ---- readmissions: indirect standardisation (3.2) and crude proportions (3.15) ---------------
readmissions as (
    select
        readmissions.*,
        standard.age_band
    from {{ ref('int_ois_readmissions') }} as readmissions
    inner join {{ ref('esp2013') }} as standard
        on standard.band_scheme = 'esp19' and readmissions.age between standard.age_from and standard.age_to
),

england_readmission_rates as (
    select
        indicator_id,
        financial_year_start,
        sex,
        age_band,
        avg(is_readmitted::int) as band_rate
    from readmissions
    group by all
),

england_readmission_crude as (
    select
        indicator_id,
        financial_year_start,
        avg(is_readmitted::int) * 100 as crude_percentage
    from readmissions
    group by all
),

{%- set readmission_levels = [
    ('gp_practice', 'practice_code'),
    ('sub_icb_location', 'sub_icb_location_code'),
    ('icb', 'icb_code'),
    ('region', 'region_code'),
    ('england', "'E92000001'"),
] %}

readmission_areas as (
    {%- for level, column in readmission_levels %}
        select
            readmissions.indicator_id,
            readmissions.financial_year_start,
            '{{ level }}' as area_level,
            {{ column if column.startswith("'") else 'readmissions.' ~ column }} as area_code,
            count(*) filter (where readmissions.is_readmitted) as numerator,
            count(*) as denominator,
            sum(rates.band_rate) as expected
        from readmissions
        inner join england_readmission_rates as rates
            on
                readmissions.indicator_id = rates.indicator_id
                and readmissions.financial_year_start = rates.financial_year_start
                and readmissions.sex = rates.sex
                and readmissions.age_band = rates.age_band
        where {{ column if column.startswith("'") else 'readmissions.' ~ column }} is not null
        group by all
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

readmission_values as (
    select
        readmission_areas.indicator_id,
        readmission_areas.financial_year_start,
        readmission_areas.area_level,
        readmission_areas.area_code,
        readmission_areas.numerator,
        readmission_areas.denominator,
        null::bigint as months_covered,
        null::varchar as period_label,
        case when indicators.method = 'isr' then readmission_areas.expected end as expected_count,
        case
            when indicators.method = 'isr'
                then
                    stats.isr(readmission_areas.numerator, readmission_areas.expected, crude.crude_percentage)
            else stats.proportion(readmission_areas.numerator, readmission_areas.denominator, 100)
        end as value,
        {%- for label, level in ci %}
            case
                when indicators.method = 'isr'
                    then stats.isr_lower(
                        readmission_areas.numerator,
                        readmission_areas.expected,
                        crude.crude_percentage,
                        {{ level }}
                    )
                else
                    stats.wilson_lower(
                        readmission_areas.numerator, readmission_areas.denominator, {{ level }}
                    )
                    * 100
            end as lower_ci_{{ label }},
            case
                when indicators.method = 'isr'
                    then stats.isr_upper(
                        readmission_areas.numerator,
                        readmission_areas.expected,
                        crude.crude_percentage,
                        {{ level }}
                    )
                else
                    stats.wilson_upper(
                        readmission_areas.numerator, readmission_areas.denominator, {{ level }}
                    )
                    * 100
            end as upper_ci_{{ label }},
        {%- endfor %}
        case when readmission_areas.denominator = 0 then 'Value not calculated: no discharges' end
            as calculation_note,
        null::varchar as published_trend
    from readmission_areas
    inner join indicators on readmission_areas.indicator_id = indicators.indicator_id
    inner join england_readmission_crude as crude
        on
            readmission_areas.indicator_id = crude.indicator_id
            and readmission_areas.financial_year_start = crude.financial_year_start
),

-- ---- patient experience: GP Patient Survey and FFT shares ----------------------------------
experience as (
    select
        indicators.indicator_id,
        case
            when experience.source = 'fft' then {{ financial_year_start('experience.period_start') }}
            else experience.period_start
        end as financial_year_start,
        case experience.org_level
            when 'practice' then 'gp_practice'
            when 'trust' then 'acute_trust'
            else experience.org_level
        end as area_level,
        experience.org_code as area_code,
        any_value(case when experience.source = 'gpps' then experience.period end) as period_label,
        sum(experience.positive_responses) as numerator,
        sum(experience.responses) as denominator,
        case when any_value(experience.source) = 'fft' then count(distinct experience.period_start) end
            as months_covered
    from {{ ref('fct_patient_experience') }} as experience
    inner join indicators
        on
            indicators.experience_measure = case
                when experience.source = 'fft' then 'fft_' || experience.measure else experience.measure
            end
    where experience.responses > 0 and experience.positive_responses is not null
    group by all
),

experience_with_england as (
    select * from experience
    union all
    select
        indicator_id,
        financial_year_start,
        'england' as area_level,
        'E92000001' as area_code,
        any_value(period_label) as period_label,
        sum(numerator) as numerator,
        sum(denominator) as denominator,
        max(months_covered) as months_covered
    from experience
    where area_level = case when indicator_id like 'exp_fft%' then 'acute_trust' else 'gp_practice' end
    group by all
),

experience_values as (
    select
        indicator_id,
        financial_year_start,
        area_level,
        area_code,
        numerator,
        denominator,
        months_covered,
        period_label,
        null::double as expected_count,
        case when numerator between 0 and denominator then stats.proportion(numerator, denominator, 100) end
            as value,
        {%- for label, level in ci %}
            case
                when
                    numerator between 0 and denominator
                    then stats.wilson_lower(numerator, denominator, {{ level }}) * 100
            end
                as lower_ci_{{ label }},
            case
                when
                    numerator between 0 and denominator
                    then stats.wilson_upper(numerator, denominator, {{ level }}) * 100
            end
                as upper_ci_{{ label }},
        {%- endfor %}
        case
            when numerator < 0 or denominator < 0 then 'Value not calculated: negative count'
            when numerator > denominator then 'Value not calculated: numerator exceeds denominator'
        end as calculation_note,
        null::varchar as published_trend
    from experience_with_england
),

-- ---- Fingertips: published values, our comparisons -----------------------------------------
fingertips_values as (
    select
        indicators.indicator_id,
        make_date((left(published.time_period_sortable::varchar, 4))::integer, 4, 1) as financial_year_start,
        case when published.area_level = 'nhs_region' then 'region' else published.area_level end
            as area_level,
        published.org_code as area_code,
        published.count as numerator,
        published.denominator,
        null::bigint as months_covered,
        published.time_period as period_label,
        null::double as expected_count,
        published.value,
        published.lower_ci_95,
        published.upper_ci_95,
        published.lower_ci_998,
        published.upper_ci_998,
        case when published.value is null then coalesce(published.value_note, 'Value not published') end
            as calculation_note,
        nullif(trim(published.recent_trend), '') as published_trend
    from {{ ref('fct_public_health_indicator') }} as published
    inner join indicators on published.indicator_id = try_cast(indicators.fingertips_indicator_id as integer)
    where
        published.is_headline
        and published.sex = 'Persons'
        and published.org_code is not null
        and published.area_level in ('gp_practice', 'sub_icb_location', 'icb', 'nhs_region', 'england')
),

-- ---- one shape, parents and comparisons -------------------------------------------------------
all_values as (
    select * from dsr_values
    union all
    select * from readmission_values
    union all
    select * from experience_values
    union all
    select * from fingertips_values
),

-- ---- recent trend: the series of the five years up to each period ---------------------------
trend_series as (
    select
        indicator_id,
        area_level,
        area_code,
        financial_year_start,
        list(value) over recent_years as trend_values,
        list(numerator) over recent_years as trend_counts,
        list(denominator) over recent_years as trend_denominators,
        list(lower_ci_95) over recent_years as trend_lower_95,
        list(upper_ci_95) over recent_years as trend_upper_95
    from all_values
    window recent_years as (
        partition by indicator_id, area_level, area_code
        order by year(financial_year_start)
        range between 4 preceding and current row
    )
),

trend_markers as (
    {#- Fingertips calculates trends for proportions and crude rates only: the other methods
        get the value-type refusal (Cannot be calculated). Computed here, over the series
        alone, so the macro's subqueries do not reach into the joins below. -#}
    select
        trend_series.indicator_id,
        trend_series.area_level,
        trend_series.area_code,
        trend_series.financial_year_start,
        stats.recent_trend_marker(
            case when indicators.method = 'proportion' then 'proportion' end,
            trend_series.trend_values,
            trend_series.trend_counts,
            trend_series.trend_denominators,
            trend_series.trend_lower_95,
            trend_series.trend_upper_95
        ) as marker
    from trend_series
    inner join indicators on trend_series.indicator_id = indicators.indicator_id
),

with_parent as (
    select
        all_values.*,
        case all_values.area_level
            when 'gp_practice' then practices.sub_icb_location_code
            when 'sub_icb_location' then sub_icb_parents.icb_code
            when 'icb' then icb_locations.region_code
            when 'region' then 'E92000001'
        end as parent_area_code,
        case all_values.area_level
            when 'gp_practice' then 'sub_icb_location'
            when 'sub_icb_location' then 'icb'
            when 'icb' then 'region'
            when 'region' then 'england'
        end as parent_area_level
    from all_values
    left join practices
        on all_values.area_level = 'gp_practice' and all_values.area_code = practices.practice_code
    left join locations as sub_icb_parents
        on
            all_values.area_level = 'sub_icb_location'
            and all_values.area_code = sub_icb_parents.sub_icb_location_code
    left join icb_regions as icb_locations
        on all_values.area_level = 'icb' and all_values.area_code = icb_locations.icb_code
),

final as (
    select
        with_parent.indicator_id,
        indicators.ois_code,
        indicators.title as indicator_title,
        indicators.method,
        indicators.unit,
        indicators.polarity,
        with_parent.area_level,
        with_parent.area_code,
        with_parent.parent_area_level,
        with_parent.parent_area_code,
        coalesce(
            with_parent.period_label,
            {{ financial_year_label('with_parent.financial_year_start') }}
        ) as period,
        with_parent.financial_year_start as period_start,
        with_parent.months_covered,
        indicators.sex_filter as sex,
        case
            when indicators.age_to >= 120 then indicators.age_from || '+ yrs'
            else indicators.age_from || '-' || indicators.age_to || ' yrs'
        end as age,
        with_parent.numerator as count,
        with_parent.denominator,
        with_parent.expected_count,
        with_parent.value,
        with_parent.lower_ci_95,
        with_parent.upper_ci_95,
        with_parent.lower_ci_998,
        with_parent.upper_ci_998,
        england.value as england_value,
        {%- for label, level in ci %}
            stats.compare_by_method(
                indicators.comparator,
                with_parent.value,
                with_parent.lower_ci_{{ label }},
                with_parent.upper_ci_{{ label }},
                england.value,
                england.lower_ci_{{ label }},
                england.upper_ci_{{ label }},
                with_parent.denominator,
                indicators.polarity,
                {{ level }},
                indicators.multiplier
            ) as compared_to_england_{{ label }},
        {%- endfor %}
        case
            when indicators.comparator = 'two_level'
                then stats.compare_two_level(
                    with_parent.value,
                    with_parent.lower_ci_95,
                    with_parent.upper_ci_95,
                    with_parent.lower_ci_998,
                    with_parent.upper_ci_998,
                    england.value,
                    indicators.polarity
                )
            else
                stats.compare_by_method(
                    indicators.comparator,
                    with_parent.value,
                    with_parent.lower_ci_95,
                    with_parent.upper_ci_95,
                    england.value,
                    england.lower_ci_95,
                    england.upper_ci_95,
                    with_parent.denominator,
                    indicators.polarity,
                    0.95,
                    indicators.multiplier
                )
        end as compared_to_england,
        indicators.comparator as comparison_method,
        parent.value as parent_value,
        stats.compare_with_benchmark(
            with_parent.value,
            with_parent.lower_ci_95,
            with_parent.upper_ci_95,
            parent.value,
            indicators.polarity
        ) as compared_to_parent_95,
        case
            when indicators.method = 'fingertips'
                then coalesce(with_parent.published_trend, 'Cannot be calculated')
            else
                coalesce(
                    stats.recent_trend_label(trend_markers.marker, indicators.polarity),
                    'Cannot be calculated'
                )
        end as recent_trend,
        concat_ws(
            '; ',
            with_parent.calculation_note,
            case
                when with_parent.months_covered between 1 and 11
                    then 'Partial year: ' || with_parent.months_covered || ' of 12 months'
            end,
            case
                when
                    indicators.certainty = 'unverified'
                    then 'Definition unverified (see seed ois_indicators)'
            end,
            case
                when
                    indicator_gaps.is_provisional
                    then 'Provisional, data gap upstream: ' || indicator_gaps.gaps
                when indicator_gaps.gaps is not null then 'Data gap upstream: ' || indicator_gaps.gaps
            end
        ) as value_note,
        indicators.certainty as definition_certainty
    from with_parent
    inner join indicators on with_parent.indicator_id = indicators.indicator_id
    left join all_values as england
        on
            with_parent.indicator_id = england.indicator_id
            and with_parent.financial_year_start = england.financial_year_start
            and england.area_level = 'england'
    left join all_values as parent
        on
            with_parent.indicator_id = parent.indicator_id
            and with_parent.financial_year_start = parent.financial_year_start
            and with_parent.parent_area_level = parent.area_level
            and with_parent.parent_area_code = parent.area_code
    left join trend_markers
        on
            with_parent.indicator_id = trend_markers.indicator_id
            and with_parent.area_level = trend_markers.area_level
            and with_parent.area_code = trend_markers.area_code
            and with_parent.financial_year_start = trend_markers.financial_year_start
    left join indicator_gaps
        on
            with_parent.indicator_id = indicator_gaps.indicator_id
            and with_parent.financial_year_start = indicator_gaps.financial_year_start
            and indicator_gaps.area_level
            = case with_parent.area_level
                when 'gp_practice' then 'sub_icb_location' else with_parent.area_level
            end
            and indicator_gaps.area_code
            = case with_parent.area_level
                when 'gp_practice' then with_parent.parent_area_code else with_parent.area_code
            end
)

select * from final
