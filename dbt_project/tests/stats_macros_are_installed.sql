-- The stats macros are installed on dbt's connection: Byar's limits for 65 events at 95%
-- (PHEindicatormethods testdata_Byars_Wilson row 1) and a Wilson interval (row 7).
-- Returns a row, and fails, when either differs from the published value by more than 1e-9.
with

results as (
    select
        stats.byars_lower(65, 0.95) as byars_lower_65,
        stats.wilson_upper(65, 100, 0.95) as wilson_upper_65_100
)

select *
from results
where
    abs(byars_lower_65 - 50.163187710459454) > 1e-9
    or abs(wilson_upper_65_100 - 0.7363575175690247) > 1e-9
    or byars_lower_65 is null
