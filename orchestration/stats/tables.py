"""Write the quantile tables the SQL macros look up, because DuckDB has no chi-square or t quantile.

    python -m orchestration.stats.tables        # rewrites orchestration/stats/data/*.csv

- `poisson_exact_limits.csv`: exact (chi-square) Poisson limits for counts 0 … 5,000 at 95% and
  99.8%: lower = χ²(α/2; 2O)/2, upper = χ²(1 − α/2; 2O + 2)/2 (feeds_and_methods §8.1). Above
  5,000 the macros use Byar's approximation, within 5e-8 relative of exact there (checked by
  tests/unit/test_stats_tables.py).
- `t_quantiles.csv`: Student's t quantiles t(0.975; df) and t(0.999; df) for df 1 … 1,000; above,
  the macros use a four-term Cornish–Fisher expansion (error below 1e-12 at df 1,000).

Values are written with 17 significant digits (round-trip doubles). scipy computes them here
only; the warehouse never needs scipy at run time.
"""

from __future__ import annotations

import csv
from pathlib import Path

DATA = Path(__file__).parent / "data"
MAX_COUNT = 5000
MAX_DF = 1000
LEVELS = {"95": 0.95, "998": 0.998}


def poisson_rows() -> list[list[str]]:
    from scipy.stats import chi2

    rows = []
    for observed in range(MAX_COUNT + 1):
        row = [str(observed)]
        for level in LEVELS.values():
            alpha = 1 - level
            lower = 0.0 if observed == 0 else chi2.ppf(alpha / 2, 2 * observed) / 2
            upper = chi2.ppf(1 - alpha / 2, 2 * observed + 2) / 2
            row += [repr(float(lower)), repr(float(upper))]
        rows.append(row)
    return rows


def t_rows() -> list[list[str]]:
    from scipy.stats import t

    return [
        [str(df)] + [repr(float(t.ppf(1 - (1 - level) / 2, df))) for level in LEVELS.values()]
        for df in range(1, MAX_DF + 1)
    ]


def write() -> None:
    DATA.mkdir(exist_ok=True)
    with (DATA / "poisson_exact_limits.csv").open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["observed", "lower95", "upper95", "lower998", "upper998"])
        writer.writerows(poisson_rows())
    with (DATA / "t_quantiles.csv").open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["df", "t95", "t998"])
        writer.writerows(t_rows())


if __name__ == "__main__":
    write()
