{#- No infinity or NaN reaches the indicator mart, no count is negative, and a value is never
    published without its limits (bad input gives a NULL value with a value note instead). -#}
select
    indicator_id,
    area_code,
    period
from {{ ref('mart_ois_indicator') }}
where
    isinf(value) or isnan(value)
    or isinf(lower_ci_95) or isnan(lower_ci_95)
    or isinf(upper_ci_95) or isnan(upper_ci_95)
    or count < 0
    or (value is not null and method != 'fingertips' and (lower_ci_95 is null or upper_ci_95 is null))
