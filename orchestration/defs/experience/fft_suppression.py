"""FFT disclosure control as NHS England applies it when publishing (feeds_and_methods §5.1, §9.1).

The rules, from nhsengland/fft_pipeline `src/fft/suppression.py` (threshold 5, marker `*`):

1. first level: a child with 1-4 responses has its Likert counts suppressed (0 is not);
2. second level: when the lowest responder of a parent group (rank 1) is first-level suppressed,
   the next-lowest (rank 2) is suppressed too, so the first cannot be recovered by subtraction;
3. cascade: when the parent itself is suppressed at its own level, its two lowest children
   (ranks 1 and 2) are suppressed.

Ranks are dense ranks of the response count among a parent's children with at least one
response (ties share a rank, so all tied rows are suppressed together). Parent suppression is
the same first/second-level rule applied to parent totals ranked nationally (as the pipeline does
at ICB level), unless the caller says which parents are suppressed.

We publish with these rules only when we redistribute FFT counts below national level; the
warehouse keeps the counts as received.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
import pandas as pd

SUPPRESSION_THRESHOLD = 5
REASONS = ("first", "second", "cascade")  # precedence when several apply


def first_level(responses: pd.Series) -> pd.Series:
    """True where 0 < responses < threshold (no responses is not disclosive)."""
    values = pd.to_numeric(responses, errors="coerce")
    return (values > 0) & (values < SUPPRESSION_THRESHOLD)


def dense_rank(responses: pd.Series, groups: pd.Series | None = None) -> pd.Series:
    """Rank 1 = fewest responses (> 0) in the group; 0 for rows with no responses."""
    values = pd.to_numeric(responses, errors="coerce")
    positive = values > 0
    ranks = pd.Series(0, index=responses.index, dtype="int64")
    if not positive.any():
        return ranks
    if groups is None:
        ranked = values[positive].rank(method="dense")
    else:
        ranked = values[positive].groupby(groups[positive], dropna=False).rank(method="dense")
    ranks.loc[positive] = ranked.astype("int64")
    return ranks


def second_level(first: pd.Series, rank: pd.Series, groups: pd.Series | None = None) -> pd.Series:
    """Rank-2 rows of every group whose rank-1 row is first-level suppressed."""
    key = groups if groups is not None else pd.Series(0, index=first.index)
    lowest_suppressed = (first & (rank == 1)).groupby(key, dropna=False).transform("any")
    return lowest_suppressed & (rank == 2)


def suppressed_parents(frame: pd.DataFrame, parent_col: str, responses_col: str) -> set:
    """Parents whose own totals (sum of their children) are first- or second-level suppressed."""
    totals = pd.to_numeric(frame[responses_col], errors="coerce").groupby(frame[parent_col]).sum()
    first = first_level(totals)
    second = second_level(first, dense_rank(totals))
    return set(totals.index[first | second])


def suppress_fft(
    frame: pd.DataFrame,
    parent_col: str,
    child_col: str,
    responses_col: str,
    likert_cols: Sequence[str],
    parent_suppressed: Collection | None = None,
) -> pd.DataFrame:
    """The frame with Likert counts of suppressed children set to None and a `suppression_reason`.

    One row per child (e.g. trust) with its parent (e.g. ICB). `parent_suppressed` lists the
    parents suppressed at their own level; when omitted it is derived from the children's totals.
    `suppression_reason` is `first`, `second`, `cascade` or None (the first that applies).
    """
    missing = [c for c in (parent_col, child_col, responses_col, *likert_cols) if c not in frame.columns]
    if missing:
        raise KeyError(f"suppress_fft: the frame has no column(s) {missing}; it has {list(frame.columns)}")
    duplicated = frame.duplicated([parent_col, child_col])
    if duplicated.any():
        examples = frame.loc[duplicated, [parent_col, child_col]].head(3).values.tolist()
        raise ValueError(
            f"suppress_fft: expected one row per {parent_col}, {child_col}; repeated: {examples}"
        )

    out = frame.copy()
    groups = out[parent_col]
    rank = dense_rank(out[responses_col], groups)
    first = first_level(out[responses_col])
    second = second_level(first, rank, groups)
    if parent_suppressed is None:
        parent_suppressed = suppressed_parents(out, parent_col, responses_col)
    cascade = groups.isin(list(parent_suppressed)) & rank.isin([1, 2])

    reason = np.select([first, second, cascade], list(REASONS), default=None)
    out["suppression_reason"] = pd.Series(reason, index=out.index, dtype="object")
    hide = out["suppression_reason"].notna()
    for col in likert_cols:
        out[col] = out[col].astype("object").where(~hide, None)
    return out
