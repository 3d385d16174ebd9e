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
-- Comparison with a benchmark: every comparison method of Fingertips. Source:
-- ukhsa-collaboration/fingertips-open, PholioVisualisationWS/:
--   Analysis/SingleOverlappingCIsComparer.cs @ 80667f3779d723ad422b662226e9002a47ddd170 (and
--   SingleOverlappingCIsForOneCILevelComparer.cs @ bffd3f011c903f472f41cbb42a3eb622e95f4ac0),
--   Analysis/SingleOverlappingCIsForTwoCILevelsComparer.cs @ 678089724a516138232d273c4c7f511ed3c5a338,
--   Analysis/DoubleOverlappingCIsComparer.cs @ bffd3f011c903f472f41cbb42a3eb622e95f4ac0,
--   Analysis/SpcForProportionsComparer.cs, SpcForDsrComparer.cs and StatisticalMethods.cs
--   (PoisLow, PoisHigh) @ 5441c9a3ef1757f9dcb23d42cc474b240947d839,
--   Analysis/IndicatorComparer.cs (AdjustForPolarity, GetSignificanceFromSDs) and
--   Analysis/IndicatorComparerFactory.cs @ bffd3f011c903f472f41cbb42a3eb622e95f4ac0;
-- proven on Fingertips' own test cases (AnalysisTest/) by tests/unit/test_stats_comparisons.py.
--
-- Fingertips' answer is a Significance (PholioObjects/Significance.cs @ 678089…: None 0, Worse 1,
-- Same 2, Better 3, Worst 4, Best 5; "Worse or lower", "Better or higher", "Worst or Lowest",
-- "Best or highest"), flipped for polarity "RAG low is good" (PolarityIds 0) and worded by
-- polarity: 'Better' / 'Similar' / 'Worse', with 'Best' / 'Worst' at 99.8% in the two-level
-- comparison (IndicatorsUI/.../shared/classes/significance-formatter.ts @ 678089…), and for
-- Blue-Orange-Blue (PolarityIds 99, here 'no_judgement') 'Higher' / 'Similar' / 'Lower', with
-- 'Highest' / 'Lowest' at 99.8% (Significance.cs's words; Fingertips' colours bobHighest and
-- bobLowest). Not compared: a missing value, limit or benchmark, or another polarity
-- (NotApplicable, -1). Fingertips' method ids (ComparatorMethodIds, PholioObjects/Constants.cs @
-- bffd3f0…) and our names: -1 none, 1 single_overlap, 5 spc_proportion, 6 spc_dsr,
-- 12 double_overlap, 17 two_level (quintiles 15 and quartiles 16 rank all areas: not here).
--
-- Where these differ from the C#, deliberately:
-- - 'Similar' where Fingertips' enum says Same: the word its web front end and its downloads
--   show (significance-formatter.ts; the C# Export/SignificanceFormatter.cs @ 65f4ee7… said "Same").
-- - Fingertips' formatter has no words for a two-level Best or Worst under Blue-Orange-Blue (it
--   falls through to "Not compared") although it colours them (bobHighest, bobLowest): here
--   'Highest' and 'Lowest', the enum's own words.
-- - SPC for proportions: z is exact (stats.z_value: 1.959963984540054, 3.090232306167813), where
--   Fingertips reads ConfidenceVariable from its database (1.96, 3.0902 in its tests); a benchmark
--   outside 0 … 1 is 'Not compared' (the C# takes the square root of a negative: NaN, so "Same").
-- - SPC for DSRs: the exact Poisson limits come from stats.exact_lower / exact_upper (scipy,
--   Byar's above 5,000), where the C# bisects to 1e-7; as in the C#, the lower limit is that of
--   ceil(E) events and the upper that of floor(E) (PoisP sums whole counts k >= E, k <= E).
-- Otherwise the C# is followed as it stands, quirks included: a benchmark on a limit is inside
-- it; the two-level comparison reads Best / Worst from area < benchmark once the benchmark is
-- outside both bands; the double overlap tests benchmark_lower <= upper when the area's value is
-- not above the benchmark's.
-- ---------------------------------------------------------------------------------------------

-- The label for a signed significance: 0 similar; 1 / -1 the area higher / lower than the
-- benchmark at 95% (or at the one level compared), 2 / -2 at 99.8% in the two-level comparison;
-- NULL not compared. (A lookup, so that the significance, which may hold subqueries, is
-- expanded once.)
create or replace macro stats.benchmark_label(significance, polarity) as (
    coalesce(
        (
            case polarity
                when 'high_is_good' then ['Worst', 'Worse', 'Similar', 'Better', 'Best']
                when 'low_is_good' then ['Best', 'Better', 'Similar', 'Worse', 'Worst']
                when 'no_judgement' then ['Lowest', 'Lower', 'Similar', 'Higher', 'Highest']
            end
        )[significance + 3],
        'Not compared'
    )
);

-- Single overlapping CI (method 1) at the level whose limits are passed: Similar when the
-- benchmark is inside the area's interval, else the side the area's value is on.
create or replace macro stats.compare_single_overlap(
    area_value, lower_limit, upper_limit, benchmark, polarity
) as (
    stats.benchmark_label(
        case
            when
                area_value is null or lower_limit is null or upper_limit is null or benchmark is null
                then null
            when benchmark between lower_limit and upper_limit then 0
            when area_value < benchmark then -1
            else 1
        end,
        polarity
    )
);

-- The name the marts have always called (stats.compare_single_overlap by another name).
create or replace macro stats.compare_with_benchmark(
    area_value, lower_limit, upper_limit, benchmark, polarity
) as (
    stats.compare_single_overlap(area_value, lower_limit, upper_limit, benchmark, polarity)
);

-- Single overlapping CIs for two CI levels (method 17): Similar inside the 95% interval; Better
-- or Worse (Higher or Lower) when the benchmark lies between the 95% and the 99.8% limit; Best or
-- Worst (Highest or Lowest) beyond the 99.8% interval.
create or replace macro stats.compare_two_level(
    area_value, lower_95, upper_95, lower_998, upper_998, benchmark, polarity
) as (
    stats.benchmark_label(
        case
            when
                area_value is null or lower_95 is null or upper_95 is null or lower_998 is null
                or upper_998 is null or benchmark is null
                then null
            when benchmark between lower_95 and upper_95 then 0
            when benchmark between lower_998 and lower_95 then 1
            when benchmark between upper_95 and upper_998 then -1
            when area_value < benchmark then -2
            else 2
        end,
        polarity
    )
);

-- Double overlapping CIs (method 12): Similar when the area's interval and the benchmark's
-- interval (at the same level) overlap.
create or replace macro stats.compare_double_overlap(
    area_value, lower_limit, upper_limit, benchmark, benchmark_lower, benchmark_upper, polarity
) as (
    stats.benchmark_label(
        case
            when
                area_value is null or lower_limit is null or upper_limit is null or benchmark is null
                or benchmark_lower is null or benchmark_upper is null
                then null
            when
                case
                    when benchmark < area_value then lower_limit <= benchmark_upper
                    else benchmark_lower <= upper_limit
                end
                then 0
            when area_value < benchmark then -1
            else 1
        end,
        polarity
    )
);

-- SPC for proportions (method 5): the area's proportion against the control limits around the
-- benchmark at the area's denominator, (2E + z^2 -/+ z sqrt(z^2 + 4E(1 - E/N))) / (2(N + z^2))
-- with E = N x benchmark: the Wilson limits of E events in N (stats.wilson_*). area_value and
-- benchmark in the same unit, multiplier per 1 (100 for percentages), as Fingertips' Value / Unit.
create or replace macro stats.compare_spc_proportion(
    area_value, denominator, benchmark, polarity, confidence, multiplier := 1
) as (
    stats.benchmark_label(
        case
            when
                area_value is null or benchmark is null or denominator is null or multiplier is null
                or stats.z_value(confidence) is null
                then null
            when denominator <= 0 or (benchmark / multiplier) not between 0 and 1 then null
            -- GetSignificanceFromSDs: above the upper limit 1, below the lower -1 (limits in order)
            else
                cast(
                    area_value / multiplier
                    > stats.wilson_upper(denominator * (benchmark / multiplier), denominator, confidence)
                    as int
                )
                - cast(
                    area_value / multiplier
                    < stats.wilson_lower(denominator * (benchmark / multiplier), denominator, confidence)
                    as int
                )
        end,
        polarity
    )
);

-- SPC for DSRs (method 6): control limits around the benchmark rate at the area's population
-- (person-years; Fingertips' Denominator2): E = benchmark x (denominator / multiplier) expected
-- events, limits the exact Poisson limits of ceil(E) and floor(E) events / denominator x multiplier.
create or replace macro stats.spc_dsr_lower(benchmark, denominator, confidence, multiplier := 100000) as (
    case
        when denominator > 0 and benchmark >= 0
            then
                stats.exact_lower(ceil(benchmark * (denominator / multiplier)), confidence)
                / denominator * multiplier
    end
);

create or replace macro stats.spc_dsr_upper(benchmark, denominator, confidence, multiplier := 100000) as (
    case
        when denominator > 0 and benchmark >= 0
            then
                stats.exact_upper(floor(benchmark * (denominator / multiplier)), confidence)
                / denominator * multiplier
    end
);

create or replace macro stats.compare_spc_dsr(
    area_value, denominator, benchmark, polarity, confidence, multiplier := 100000
) as (
    stats.benchmark_label(
        -- GetSignificanceFromSDs as in compare_spc_proportion; NULL when a limit is missing
        cast(area_value > stats.spc_dsr_upper(benchmark, denominator, confidence, multiplier) as int)
        - cast(area_value < stats.spc_dsr_lower(benchmark, denominator, confidence, multiplier) as int),
        polarity
    )
);

-- One level of the indicator's method (Fingertips' IndicatorComparerFactory): 'single_overlap',
-- 'two_level' (at one level its single overlap), 'double_overlap' (benchmark_lower and
-- benchmark_upper at the same level), 'spc_proportion', 'spc_dsr' (denominator and multiplier:
-- the area's denominator and the value's multiplier); 'none' or anything else, Not compared.
create or replace macro stats.compare_by_method(
    method,
    area_value,
    lower_limit,
    upper_limit,
    benchmark,
    benchmark_lower,
    benchmark_upper,
    denominator,
    polarity,
    confidence,
    multiplier
) as (
    case
        when method in ('single_overlap', 'two_level')
            then stats.compare_single_overlap(area_value, lower_limit, upper_limit, benchmark, polarity)
        when method = 'double_overlap'
            then stats.compare_double_overlap(
                area_value, lower_limit, upper_limit, benchmark, benchmark_lower, benchmark_upper, polarity
            )
        when method = 'spc_proportion'
            then stats.compare_spc_proportion(
                area_value, denominator, benchmark, polarity, confidence, multiplier := multiplier
            )
        when method = 'spc_dsr'
            then stats.compare_spc_dsr(
                area_value, denominator, benchmark, polarity, confidence, multiplier := multiplier
            )
        else 'Not compared'
    end
);

-- ---------------------------------------------------------------------------------------------
-- Recent trend: Fingertips' trend marker over the five most recent points. Source:
-- ukhsa-collaboration/fingertips-open @ 678089724a516138232d273c4c7f511ed3c5a338,
-- PholioVisualisationWS/Analysis/TrendMarkers/TrendMarkerCalculator.cs and TrendRequest.cs, labels
-- from Formatting/TrendMarkerLabelProvider.cs; proven on Fingertips' own test cases by
-- tests/unit/test_stats_recent_trend.py.
--
-- Inputs: parallel lists in period order, oldest first, one element per period (NULL where a
-- period has no value), e.g. list(value order by period_start) per area. A point is valid when
-- its value and count are present and its denominator is above 0; only the unbroken run of valid
-- points counted back from the newest is used, and the trend needs five of them.
-- Two tests (Fingertips technical guidance, "Fingertips trend markers"): proportions, the
-- chi-squared test for trend on counts and denominators; other value types, a weighted
-- regression of the value on time (weights 1 / ((upper95 - lower95) / 3.92)^2) tested with
-- (slope / se)^2. A trend is significant when the statistic exceeds the 99.8% point of
-- chi-square with 1 df, z(0.999)^2 = 3.090232306167813^2 = 9.54953570608324 (Fingertips'
-- constant, Excel CHIINV(0.002, 1)), and the slope keeps its sign when each point in turn is
-- left out (Fingertips' outlier check; for proportions on the logit scale ln(r / (n - r))).
-- Where this differs from the C#: it picks the chi-squared test when the indicator is compared
-- by "SPC for proportions" (here: by value type, as the guidance says, or trend_test); its
-- proportion test reads a slope it never sets, so it would say "Decreasing" for every
-- significant trend (here: the sign of that test's own logit slope); a count of 0, or above the
-- denominator, among the five has no logit: "Cannot be calculated" here (the C# carries on with
-- -infinity or NaN).
-- ---------------------------------------------------------------------------------------------

-- How many points, counted back from the newest, are valid without a break.
create or replace macro stats.recent_trend_valid_points(vals, counts, denominators) as (
    select coalesce(count(*) - max(checked.point) filter (where not checked.is_valid), count(*))
    from (
        select
            points.point,
            coalesce(points.v is not null and points.r is not null and points.n > 0, false) as is_valid
        from (
            select
                unnest(range(1, greatest(len(vals), len(counts), len(denominators)) + 1)) as point,
                unnest(vals) as v,
                unnest(counts) as r,
                unnest(denominators) as n
        ) as points
    ) as checked
);

-- Fingertips' TrendRequest.IsValid: its message when no trend can be calculated, else NULL.
-- value_type: 'proportion' or 'crude_rate' (the value types Fingertips accepts); year_range in
-- years (1 for annual, non-overlapping periods).
create or replace macro stats.recent_trend_check(value_type, year_range, vals, counts, denominators) as (
    case
        when value_type is null or value_type not in ('proportion', 'crude_rate')
            then 'The recent trend cannot be calculated for this value type'
        when year_range is distinct from 1 then 'The recent trend cannot be calculated for this year range'
        when vals is null then 'No data points found'
        when len(vals) < 5 then 'Not enough data points to calculate recent trend'
        when stats.recent_trend_valid_points(vals, counts, denominators) < 5
            then 'Not enough data points with valid values to calculate recent trend'
        -- a count equal to its denominator anywhere in the valid run (the C#'s divide-by-zero guard)
        when (
            select coalesce(bool_or(run.r = run.n), false)
            from (
                select
                    unnest(list_slice(counts, -run_length.k, -1)) as r,
                    unnest(list_slice(denominators, -run_length.k, -1)) as n
                from (select stats.recent_trend_valid_points(vals, counts, denominators) as k) as run_length
            ) as run
        ) then 'The recent trend cannot be calculated'
    end
);

-- Chi-squared test for trend in proportions (1 df) over all the points given, t = 1 ... k:
-- N (N sum(r t) - R sum(n t))^2 / (R (N - R) (N sum(n t^2) - sum(n t)^2)), N = sum(n), R = sum(r).
-- NULL when a count or denominator is missing or the statistic is undefined (R = 0 or R = N).
create or replace macro stats.recent_trend_chi_square(counts, denominators) as (
    select
        case
            when count(*) filter (where points.r is null or points.n is null) = 0
                then sum(points.n) * pow(
                    sum(points.n) * sum(points.r * points.t) - sum(points.r) * sum(points.n * points.t), 2
                ) / nullif(
                    sum(points.r) * (sum(points.n) - sum(points.r)) * (
                        sum(points.n) * sum(points.n * points.t * points.t) - pow(sum(points.n * points.t), 2)
                    ),
                    0
                )
        end
    from (
        select
            cast(unnest(counts) as double) as r,
            cast(unnest(denominators) as double) as n,
            unnest(range(1, greatest(len(counts), len(denominators)) + 1)) as t
    ) as points
);

-- Weight of a point in the regression test: 1 / se^2 with se = (upper95 - lower95) / 3.92
-- (Fingertips' 2 x 1.96); NULL where the interval is missing or empty.
create or replace macro stats.recent_trend_weight(lower_95, upper_95) as (
    case when upper_95 > lower_95 then 1 / pow((upper_95 - lower_95) / 3.92, 2) end
);

-- Weighted least-squares slopes of ys on t = 1 ... k: first with every point, then leaving out
-- point 1, 2, ... k in turn (k + 1 slopes); weights NULL for ordinary least squares.
-- slope = (S1 S2 - S3 S4) / (S1 S5 - S3^2); S1 = sum(w), S2 = sum(w y t), S3 = sum(w t),
-- S4 = sum(w y), S5 = sum(w t^2).
create or replace macro stats.recent_trend_slopes(ys, weights) as (
    select list(fits.slope order by fits.left_out)
    from (
        select
            dropped.left_out,
            (
                sum(points.w) * sum(points.w * points.y * points.t)
                - sum(points.w * points.t) * sum(points.w * points.y)
            ) / nullif(
                sum(points.w) * sum(points.w * points.t * points.t) - pow(sum(points.w * points.t), 2), 0
            )
                as slope
        from (
            select
                cast(unnest(ys) as double) as y,
                coalesce(cast(unnest(weights) as double), 1) as w,
                unnest(range(1, len(ys) + 1)) as t
        ) as points
        cross join (select unnest(range(0, len(ys) + 1)) as left_out) as dropped
        where points.t != dropped.left_out
        group by dropped.left_out
    ) as fits
);

-- (slope / se)^2 of that regression with every point: slope^2 (S1 S5 - S3^2) / S1.
create or replace macro stats.recent_trend_weighted_chi_square(ys, weights) as (
    select
        pow(
            (
                sum(points.w) * sum(points.w * points.y * points.t)
                - sum(points.w * points.t) * sum(points.w * points.y)
            ) / nullif(
                sum(points.w) * sum(points.w * points.t * points.t) - pow(sum(points.w * points.t), 2), 0
            ),
            2
        ) * (sum(points.w) * sum(points.w * points.t * points.t) - pow(sum(points.w * points.t), 2))
        / nullif(sum(points.w), 0)
    from (
        select
            cast(unnest(ys) as double) as y,
            cast(unnest(weights) as double) as w,
            unnest(range(1, len(ys) + 1)) as t
    ) as points
);

-- The marker from the statistic and the slopes (every point first, then each left out).
create or replace macro stats.recent_trend_significance(chi_square, slopes) as (
    case
        when
            chi_square > pow(stats.z_value(0.998), 2)
            and (list_min(slopes) >= 0 or list_max(slopes) < 0)
            then case when slopes[1] > 0 then 'Increasing' else 'Decreasing' end
        when chi_square is not null and list_min(slopes) is not null then 'No significant change'
        else 'Cannot be calculated'
    end
);

-- Proportions: the chi-squared test for trend on the five most recent points.
create or replace macro stats.recent_trend_proportion_marker(counts, denominators) as (
    select
        case
            when recent.point_count < 5 or recent.has_no_logit then 'Cannot be calculated'
            else stats.recent_trend_significance(
                stats.recent_trend_chi_square(recent.rs, recent.ns),
                stats.recent_trend_slopes(recent.logits, null)
            )
        end
    from (
        select
            count(*) as point_count,
            coalesce(bool_or(points.r is null or points.r <= 0 or not points.r < points.n), true)
                as has_no_logit,
            list(points.r order by points.t) as rs,
            list(points.n order by points.t) as ns,
            list(
                case when points.r > 0 and points.r < points.n then ln(points.r / (points.n - points.r)) end
                order by points.t
            ) as logits
        from (
            select
                cast(unnest(list_slice(counts, -5, -1)) as double) as r,
                cast(unnest(list_slice(denominators, -5, -1)) as double) as n,
                unnest(range(1, least(greatest(len(counts), len(denominators)), 5) + 1)) as t
        ) as points
    ) as recent
);

-- Other value types: the weighted regression on the five most recent points that have both 95%
-- limits (points without limits are skipped, as Fingertips does), renumbered t = 1 ... 5.
create or replace macro stats.recent_trend_regression_marker(vals, lower_95, upper_95) as (
    select
        case
            when recent.point_count < 5 or recent.has_no_weight then 'Cannot be calculated'
            else stats.recent_trend_significance(
                stats.recent_trend_weighted_chi_square(recent.ys, recent.weights),
                stats.recent_trend_slopes(recent.ys, recent.weights)
            )
        end
    from (
        select
            count(*) as point_count,
            coalesce(bool_or(limited.v is null or limited.w is null), true) as has_no_weight,
            list(limited.v order by limited.point) as ys,
            list(limited.w order by limited.point) as weights
        from (
            select
                points.point,
                points.v,
                stats.recent_trend_weight(points.lo, points.hi) as w
            from (
                select
                    unnest(range(1, greatest(len(vals), len(lower_95), len(upper_95)) + 1)) as point,
                    cast(unnest(vals) as double) as v,
                    cast(unnest(lower_95) as double) as lo,
                    cast(unnest(upper_95) as double) as hi
            ) as points
            where points.lo is not null and points.hi is not null
            qualify row_number() over (order by points.point desc) <= 5
        ) as limited
    ) as recent
);

-- Fingertips' trend marker: 'Increasing', 'Decreasing', 'No significant change' or 'Cannot be
-- calculated'. trend_test: 'chi_square_for_trend' or 'weighted_regression'; by default the first
-- for proportions, the second otherwise.
create or replace macro stats.recent_trend_marker(
    value_type, vals, counts, denominators, lower_95, upper_95, year_range := 1, trend_test := null
) as (
    case
        when stats.recent_trend_check(value_type, year_range, vals, counts, denominators) is not null
            then 'Cannot be calculated'
        when
            coalesce(trend_test, case when value_type = 'proportion' then 'chi_square_for_trend' end)
            = 'chi_square_for_trend'
            then stats.recent_trend_proportion_marker(counts, denominators)
        when coalesce(trend_test, 'weighted_regression') = 'weighted_regression'
            then stats.recent_trend_regression_marker(
                list_slice(vals, -stats.recent_trend_valid_points(vals, counts, denominators), -1),
                list_slice(lower_95, -stats.recent_trend_valid_points(vals, counts, denominators), -1),
                list_slice(upper_95, -stats.recent_trend_valid_points(vals, counts, denominators), -1)
            )
    end
);

-- The marker in Fingertips' words for the indicator's polarity (TrendMarkerLabelProvider).
create or replace macro stats.recent_trend_label(marker, polarity) as (
    case
        when marker = 'Increasing' and polarity = 'high_is_good' then 'Increasing and getting better'
        when marker = 'Increasing' and polarity = 'low_is_good' then 'Increasing and getting worse'
        when marker = 'Decreasing' and polarity = 'high_is_good' then 'Decreasing and getting worse'
        when marker = 'Decreasing' and polarity = 'low_is_good' then 'Decreasing and getting better'
        else marker
    end
);
