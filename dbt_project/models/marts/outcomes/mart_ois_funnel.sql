{#- Funnel-plot data per indicator and period: every sub-ICB location and practice with its
    value, the size it is plotted at, and the 95% and 99.8% control limits around England's
    value at that size (stats.funnel_* macros, PHEindicatormethods' methods):
    - proportions: Wilson-based limits at the area's denominator;
    - directly standardised rates: Poisson limits on the area's events with its derived
      denominator (events / rate), as PHE plots DSRs;
    - indirectly standardised percentages: Poisson limits at the area's expected count on the
      ratio O/E around 1, scaled by England's value.
    The significance label says where the area falls (High/Low at 0.025 or 0.001). Areas
    without a value (too few events, suppressed) are left out of the funnel. -#}
{%- set ci = [('95', 0.95), ('998', 0.998)] %}
with

indicator_values as (
    select * from {{ ref('mart_ois_indicator') }}
    where
        area_level in ('sub_icb_location', 'gp_practice')
        and method in ('dsr', 'isr', 'proportion')
        and value is not null
        and england_value is not null
        and count is not null
        and denominator > 0
),

prepared as (
    select
        *,
        case
            when method = 'proportion' then denominator
            when method = 'dsr' then count / value * 100000
            when method = 'isr' then expected_count
        end as plot_denominator
    from indicator_values
),

final as (
    select
        indicator_id,
        indicator_title,
        method,
        period,
        area_level,
        area_code,
        parent_area_code,
        count,
        plot_denominator,
        value,
        england_value,
        {%- for label, level in ci %}
            case method
                when
                    'proportion'
                    then
                        100
                        * stats.funnel_proportion_lower(england_value / 100, plot_denominator, {{ level }})
                when 'dsr' then stats.funnel_rate_lower(count, england_value / 100000, {{ level }}, 100000)
                when 'isr' then stats.funnel_ratio_lower(round(expected_count), {{ level }}, england_value)
            end as lower_limit_{{ label }},
            case method
                when
                    'proportion'
                    then
                        100
                        * stats.funnel_proportion_upper(england_value / 100, plot_denominator, {{ level }})
                when 'dsr' then stats.funnel_rate_upper(count, england_value / 100000, {{ level }}, 100000)
                when 'isr' then stats.funnel_ratio_upper(round(expected_count), {{ level }}, england_value)
            end as upper_limit_{{ label }},
        {%- endfor %}
        case method
            when
                'proportion'
                then stats.funnel_proportion_significance(count, plot_denominator, england_value / 100)
            when 'dsr' then stats.funnel_poisson_significance(count, plot_denominator, england_value / 100000)
            when 'isr' then stats.funnel_poisson_significance(count, expected_count, 1)
        end as funnel_significance
    from prepared
)

select * from final
