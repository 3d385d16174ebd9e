"""Registered list sizes by sex and quinary age band that look like England's.

Each practice mixes a younger and an older age profile (a practice-level weight), grows or
shrinks slowly month to month, and its cells are whole numbers whose sum is its list size, so
the ALL rows equal the sum of the bands as in the published file.
"""

from __future__ import annotations

import numpy as np

BANDS = (
    "0_4",
    "5_9",
    "10_14",
    "15_19",
    "20_24",
    "25_29",
    "30_34",
    "35_39",
    "40_44",
    "45_49",
    "50_54",
    "55_59",
    "60_64",
    "65_69",
    "70_74",
    "75_79",
    "80_84",
    "85_89",
    "90_94",
    "95+",
)

# Approximate shares (per cent of a practice list) of an urban-young and an older list,
# female then male, shaped on England's registered population (about 50.3% female).
_YOUNG_F = [
    2.9,
    3.0,
    2.9,
    2.8,
    3.6,
    4.6,
    4.8,
    4.3,
    3.7,
    3.2,
    3.0,
    2.7,
    2.2,
    1.7,
    1.5,
    1.0,
    0.7,
    0.45,
    0.2,
    0.05,
]
_YOUNG_M = [
    3.0,
    3.1,
    3.0,
    2.9,
    3.5,
    4.5,
    4.8,
    4.4,
    3.8,
    3.3,
    3.0,
    2.6,
    2.1,
    1.6,
    1.3,
    0.85,
    0.5,
    0.27,
    0.09,
    0.02,
]
_OLDER_F = [
    2.2,
    2.5,
    2.6,
    2.5,
    2.2,
    2.4,
    2.6,
    2.7,
    2.8,
    3.0,
    3.5,
    3.7,
    3.6,
    3.4,
    3.4,
    2.6,
    1.8,
    1.2,
    0.6,
    0.18,
]
_OLDER_M = [
    2.3,
    2.6,
    2.7,
    2.6,
    2.3,
    2.4,
    2.5,
    2.6,
    2.7,
    2.9,
    3.4,
    3.6,
    3.4,
    3.2,
    3.1,
    2.3,
    1.5,
    0.85,
    0.35,
    0.08,
]


def _normalised(values: list[float]) -> np.ndarray:
    array = np.array(values, dtype=float)
    return array / array.sum()


YOUNG = _normalised(_YOUNG_F + _YOUNG_M)  # 40 cells: female bands then male bands
OLDER = _normalised(_OLDER_F + _OLDER_M)


def list_sizes(
    base: np.ndarray, growth: np.ndarray, month_index: int, rng: np.random.Generator
) -> np.ndarray:
    """List sizes for one month: compound growth plus a little month-to-month noise."""
    noise = rng.normal(0, 0.002, size=base.shape)
    return np.maximum(np.round(base * (1 + growth) ** month_index * (1 + noise)), 100).astype(np.int64)


def cells(sizes: np.ndarray, older: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Whole-number counts per practice × 40 cells (female 20 bands, male 20 bands).

    Multinomial draws keep the total exact and add the sampling noise a real list has.
    """
    shares = np.outer(1 - older, YOUNG) + np.outer(older, OLDER)
    shares /= shares.sum(axis=1, keepdims=True)
    return rng.multinomial(sizes, shares)
