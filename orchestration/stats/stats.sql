-- Public-health statistical methods as DuckDB SQL macros (PHE / OHID conventions).
-- The one place these methods live: installed by orchestration/stats/install.py on any DuckDB
-- connection, and on every dbt connection by the dbt-duckdb plugin orchestration/stats/dbt_plugin.py.
-- Formulas: ../shared/reference/feeds_and_methods.md §8; checked against the published cases in
-- ../shared/reference/indicator_cases by tests/unit/test_stats_methods.py.
--
-- Confidence is 0.95 or 0.998 (95 and 99.8 are accepted too). These are the two levels Fingertips
-- uses; any other level gives NULL (DuckDB has no normal quantile, and the z values must be exact).
-- DuckDB has no chi-square or t quantile either: exact Poisson limits and t quantiles are looked up
-- in stats.poisson_exact_limits (counts 0 … 5,000) and stats.t_quantiles (df 1 … 1,000), written by
-- orchestration/stats/tables.py with scipy. Beyond the tables, Byar's approximation (within 5e-8
-- relative of exact above 5,000) and a Cornish-Fisher expansion (within 1e-12 above df 1,000).
-- Invalid inputs (zero or missing denominators, negative counts) give NULL, never an infinity.

create or replace macro stats.confidence_level(confidence) as (
    case when confidence > 1 then confidence / 100.0 else confidence end
);

create or replace macro stats.z_value(confidence) as (
    case
        when abs(stats.confidence_level(confidence) - 0.95) < 1e-9 then 1.959963984540054
        when abs(stats.confidence_level(confidence) - 0.998) < 1e-9 then 3.090232306167813
    end
);

-- ---------------------------------------------------------------------------------------------
-- Limits for a count O
-- ---------------------------------------------------------------------------------------------

-- Byar's approximation. The lower limit is NULL at 0 and where the cube goes negative.
create or replace macro stats.byars_lower(observed, confidence) as (
    case
        when
            observed > 0
            and 1 - 1 / (9 * observed) - stats.z_value(confidence) / (3 * sqrt(observed)) >= 0
            then observed * pow(
                1 - 1 / (9 * observed) - stats.z_value(confidence) / (3 * sqrt(observed)), 3
            )
    end
);

create or replace macro stats.byars_upper(observed, confidence) as (
    case
        when observed >= 0
            then (observed + 1) * pow(
                1 - 1 / (9 * (observed + 1)) + stats.z_value(confidence) / (3 * sqrt(observed + 1)), 3
            )
    end
);

-- Exact (chi-square) limits: chi2(a/2; 2O)/2 and chi2(1 - a/2; 2O + 2)/2, for whole counts,
-- looked up in the table for counts up to 5,000 (side 'lower' or 'upper').
create or replace macro stats.exact_table_limit(observed, confidence, side) as (
    select
        case
            when side = 'lower' and abs(stats.confidence_level(confidence) - 0.95) < 1e-9
                then lim.exact_lower95
            when side = 'lower' and abs(stats.confidence_level(confidence) - 0.998) < 1e-9
                then lim.exact_lower998
            when side = 'upper' and abs(stats.confidence_level(confidence) - 0.95) < 1e-9
                then lim.exact_upper95
            when side = 'upper' and abs(stats.confidence_level(confidence) - 0.998) < 1e-9
                then lim.exact_upper998
        end
    from stats.poisson_exact_limits as lim
    where lim.exact_count = observed
);

create or replace macro stats.exact_lower(observed, confidence) as (
    case
        when observed < 0 or observed != round(observed) then null
        when observed > 5000 then stats.byars_lower(observed, confidence)
        else stats.exact_table_limit(observed, confidence, 'lower')
    end
);

create or replace macro stats.exact_upper(observed, confidence) as (
    case
        when observed < 0 or observed != round(observed) then null
        when observed > 5000 then stats.byars_upper(observed, confidence)
        else stats.exact_table_limit(observed, confidence, 'upper')
    end
);

-- The PHE rule: exact below 10 events, Byar's from 10 (the APHO tool used exact_below := 389).
create or replace macro stats.poisson_lower(observed, confidence, exact_below := 10) as (
    case
        when observed < exact_below then stats.exact_lower(observed, confidence)
        else stats.byars_lower(observed, confidence)
    end
);

create or replace macro stats.poisson_upper(observed, confidence, exact_below := 10) as (
    case
        when observed < exact_below then stats.exact_upper(observed, confidence)
        else stats.byars_upper(observed, confidence)
    end
);

create or replace macro stats.poisson_method(observed, exact_below := 10) as (
    case when observed < exact_below then 'Exact' when observed >= exact_below then 'Byars' end
);

-- ---------------------------------------------------------------------------------------------
-- Crude rates, proportions (Wilson score), means (Student's t)
-- ---------------------------------------------------------------------------------------------

create or replace macro stats.crude_rate(numerator, denominator, multiplier) as (
    numerator / nullif(denominator, 0) * multiplier
);

create or replace macro stats.crude_rate_lower(
    numerator, denominator, multiplier, confidence, exact_below := 10
) as (
    stats.poisson_lower(numerator, confidence, exact_below) / nullif(denominator, 0) * multiplier
);

create or replace macro stats.crude_rate_upper(
    numerator, denominator, multiplier, confidence, exact_below := 10
) as (
    stats.poisson_upper(numerator, confidence, exact_below) / nullif(denominator, 0) * multiplier
);

-- Wilson score limit: sign -1 for the lower limit, +1 for the upper.
create or replace macro stats.wilson_limit(numerator, denominator, confidence, sign) as (
    case
        when denominator > 0 and numerator >= 0 and numerator <= denominator
            then (
                2 * numerator + pow(stats.z_value(confidence), 2)
                + sign * stats.z_value(confidence) * sqrt(
                    pow(stats.z_value(confidence), 2)
                    + 4 * numerator * (1 - numerator / denominator)
                )
            ) / (2 * (denominator + pow(stats.z_value(confidence), 2)))
    end
);

create or replace macro stats.wilson_lower(numerator, denominator, confidence) as (
    stats.wilson_limit(numerator, denominator, confidence, -1)
);

create or replace macro stats.wilson_upper(numerator, denominator, confidence) as (
    stats.wilson_limit(numerator, denominator, confidence, 1)
);

create or replace macro stats.proportion(numerator, denominator, multiplier := 1) as (
    case
        when denominator > 0 and numerator >= 0 and numerator <= denominator
            then numerator / denominator * multiplier
    end
);

-- t(1 - a/2; df): table to df 1,000, then Cornish-Fisher in the normal quantile z.
create or replace macro stats.t_quantile(df, confidence) as (
    case
        when df < 1 then null
        when df <= 1000
            then (
                select
                    case
                        when abs(stats.confidence_level(confidence) - 0.95) < 1e-9 then tq.t95
                        when abs(stats.confidence_level(confidence) - 0.998) < 1e-9 then tq.t998
                    end
                from stats.t_quantiles as tq
                where tq.t_df = df
            )
        else
            stats.z_value(confidence)
            + (pow(stats.z_value(confidence), 3) + stats.z_value(confidence)) / (4 * df)
            + (
                5 * pow(stats.z_value(confidence), 5) + 16 * pow(stats.z_value(confidence), 3)
                + 3 * stats.z_value(confidence)
            ) / (96 * pow(df, 2))
            + (
                3 * pow(stats.z_value(confidence), 7) + 19 * pow(stats.z_value(confidence), 5)
                + 17 * pow(stats.z_value(confidence), 3) - 15 * stats.z_value(confidence)
            ) / (384 * pow(df, 3))
    end
);

create or replace macro stats.mean_lower(mean_value, sd, n, confidence) as (
    mean_value - stats.t_quantile(n - 1, confidence) * sd / sqrt(n)
);

create or replace macro stats.mean_upper(mean_value, sd, n, confidence) as (
    mean_value + stats.t_quantile(n - 1, confidence) * sd / sqrt(n)
);

-- ---------------------------------------------------------------------------------------------
-- Directly standardised rates, Dobson limits. Aggregate per area first:
--   weighted_sum    = sum(std_pop * count / pop)
--   weighted_sq_sum = sum(std_pop^2 * count / pop^2)   (x eventfreq^2 for non-independent events)
--   std_total       = sum(std_pop)                      observed = sum(count)
-- Not calculated (NULL) when observed < 10.
-- ---------------------------------------------------------------------------------------------

create or replace macro stats.dsr(weighted_sum, std_total, observed, multiplier := 100000) as (
    case when observed >= 10 then weighted_sum / nullif(std_total, 0) * multiplier end
);

create or replace macro stats.dsr_variance(weighted_sq_sum, std_total) as (
    weighted_sq_sum / nullif(pow(std_total, 2), 0)
);

create or replace macro stats.dobson_lower(
    weighted_sum, weighted_sq_sum, std_total, observed, confidence, multiplier := 100000
) as (
    stats.dsr(weighted_sum, std_total, observed, multiplier)
    + sqrt(stats.dsr_variance(weighted_sq_sum, std_total) / observed)
    * (stats.byars_lower(observed, confidence) - observed) * multiplier
);

create or replace macro stats.dobson_upper(
    weighted_sum, weighted_sq_sum, std_total, observed, confidence, multiplier := 100000
) as (
    stats.dsr(weighted_sum, std_total, observed, multiplier)
    + sqrt(stats.dsr_variance(weighted_sq_sum, std_total) / observed)
    * (stats.byars_upper(observed, confidence) - observed) * multiplier
);

-- ---------------------------------------------------------------------------------------------
-- Indirect standardisation: expected = sum(ref_count / ref_pop * pop) per area.
-- Ratio = O / E x ref_value (1 or 100); rate = O / E x reference crude rate (per multiplier).
-- ---------------------------------------------------------------------------------------------

create or replace macro stats.isr(observed, expected, scale) as (
    observed / nullif(expected, 0) * scale
);

create or replace macro stats.isr_lower(observed, expected, scale, confidence, exact_below := 10) as (
    stats.poisson_lower(observed, confidence, exact_below) / nullif(expected, 0) * scale
);

create or replace macro stats.isr_upper(observed, expected, scale, confidence, exact_below := 10) as (
    stats.poisson_upper(observed, confidence, exact_below) / nullif(expected, 0) * scale
);

-- ---------------------------------------------------------------------------------------------
-- Funnel plots (PHEindicatormethods calculate_funnel_limits / assign_funnel_significance)
-- ---------------------------------------------------------------------------------------------

-- Proportions: the proportion at which an area of size `denominator` has a Wilson interval just
-- reaching `average` (a proportion 0-1). Uncapped; charts cap at 0 and 1.
-- sign -1 for the lower limit, +1 for the upper.
create or replace macro stats.funnel_proportion_limit(average, denominator, confidence, sign) as (
    (
        (
            average * (denominator / pow(stats.z_value(confidence), 2) + 1)
            + sign * sqrt(
                pow(-8 * average * (denominator / pow(stats.z_value(confidence), 2) + 1), 2)
                - 64 * (1 / pow(stats.z_value(confidence), 2) + 1 / denominator) * average
                * (
                    denominator * (average * (denominator / pow(stats.z_value(confidence), 2) + 2) - 1)
                    + pow(stats.z_value(confidence), 2) * (average - 1)
                )
            ) / 8
        ) / (1 / pow(stats.z_value(confidence), 2) + 1 / denominator)
    ) / denominator
);

create or replace macro stats.funnel_proportion_lower(average, denominator, confidence) as (
    stats.funnel_proportion_limit(average, denominator, confidence, -1)
);

create or replace macro stats.funnel_proportion_upper(average, denominator, confidence) as (
    stats.funnel_proportion_limit(average, denominator, confidence, 1)
);

create or replace macro stats.funnel_proportion_significance(numerator, denominator, average) as (
    case
        when numerator is null or denominator is null or denominator <= 0 then null
        when numerator / denominator > stats.funnel_proportion_upper(average, denominator, 0.998)
            then 'High (0.001)'
        when numerator / denominator > stats.funnel_proportion_upper(average, denominator, 0.95)
            then 'High (0.025)'
        when numerator / denominator < stats.funnel_proportion_lower(average, denominator, 0.998)
            then 'Low (0.001)'
        when numerator / denominator < stats.funnel_proportion_lower(average, denominator, 0.95)
            then 'Low (0.025)'
        else 'Not significant'
    end
);

-- Poisson funnels. For `observed` events the low control limit uses the expected count whose
-- P(X <= observed) equals the tail (the exact upper limit), the high one the exact lower limit.
create or replace macro stats.funnel_low_expected(observed, confidence) as (
    stats.exact_upper(observed, confidence)
);

create or replace macro stats.funnel_high_expected(observed, confidence) as (
    stats.exact_lower(observed, confidence)
);

-- Ratio funnels (ISR): limits of O/E around 1, x scale (1, or 100 for an ISR x 100).
create or replace macro stats.funnel_ratio_lower(observed, confidence, scale := 1) as (
    observed / nullif(stats.funnel_low_expected(observed, confidence), 0) * scale
);

create or replace macro stats.funnel_ratio_upper(observed, confidence, scale := 1) as (
    observed / nullif(stats.funnel_high_expected(observed, confidence), 0) * scale
);

-- Rate funnels: `average` is events per unit of (derived) denominator, not multiplied.
create or replace macro stats.funnel_rate_lower(events, average, confidence, multiplier) as (
    events * average / nullif(stats.funnel_low_expected(events, confidence), 0) * multiplier
);

create or replace macro stats.funnel_rate_upper(events, average, confidence, multiplier) as (
    events * average / nullif(stats.funnel_high_expected(events, confidence), 0) * multiplier
);

create or replace macro stats.funnel_poisson_significance(observed, denominator, average) as (
    -- `average` compared with the count limits on `observed` divided by `denominator`
    -- (ratios: denominator = expected, average = 1; rates: derived denominator, events per unit).
    case
        when observed is null or denominator is null or denominator <= 0 then null
        when coalesce(stats.poisson_lower(observed, 0.998), 0) / denominator > average then 'High (0.001)'
        when coalesce(stats.poisson_lower(observed, 0.95), 0) / denominator > average then 'High (0.025)'
        when stats.poisson_upper(observed, 0.998) / denominator < average then 'Low (0.001)'
        when stats.poisson_upper(observed, 0.95) / denominator < average then 'Low (0.025)'
        else 'Not significant'
    end
);

-- ---------------------------------------------------------------------------------------------
-- Comparison with a benchmark, as Fingertips does it (single overlapping CI at one level):
-- the benchmark value inside the area's interval is "Similar"; otherwise Better / Worse where
-- polarity is known ('low_is_good', 'high_is_good'), Lower / Higher where it is 'no_judgement'.
-- ---------------------------------------------------------------------------------------------

create or replace macro stats.compare_with_benchmark(
    area_value, lower_limit, upper_limit, benchmark, polarity
) as (
    case
        when
            area_value is null or lower_limit is null or upper_limit is null or benchmark is null
            or polarity is null or polarity not in ('low_is_good', 'high_is_good', 'no_judgement')
            then 'Not compared'
        when benchmark between lower_limit and upper_limit then 'Similar'
        when polarity = 'no_judgement' then case when area_value < benchmark then 'Lower' else 'Higher' end
        when (area_value < benchmark) = (polarity = 'low_is_good') then 'Better'
        else 'Worse'
    end
);
