"""Friends and Family Test (FFT) monthly data, inpatient and A&E, as NHS England handles it.

Two layouts are known (../shared/reference/feeds_and_methods.md §5.1):

* the raw monthly organisation sheet the fft_pipeline reads (`Yearnumber`, `Periodname`,
  `Parent org code`, … `1 Very Good SUM` …): column names verified from
  nhsengland/fft_pipeline `src/fft/config.py`; A&E spells the Likert columns differently;
* the published `Trusts` sheet of `FFT-inpatient-data` / `FFT-ae-data` workbooks, whose header is
  split over two rows (`Breakdown of Responses` over `Very Good … Don't Know`): verified from the
  publisher's own templates in ../shared/real_formats/fft (layout only; no data file was seen).

Both ship as Excel workbooks. The loader reads CSV, so `workbook_sheet_to_csv` turns one sheet into
a CSV in a temporary folder first; it is pure (no knowledge of the loader) so it can later move
into `readable_csv`. In the published layout `*` is suppression and `-` undefined: both are NULL,
never zero.
"""

from __future__ import annotations

from collections.abc import Sequence

from orchestration.lib.feed_spec import WHOLE_NUMBER, Column, FeedSpec, Publication, SchemaVariant

# '*' = suppressed (fewer than 5 responses, or secondary/cascade), '-' = undefined (0 responses).
SUPPRESSED = ("", "*", "-")

# Sheets of the raw monthly workbooks (fft_pipeline config PROCESSING_LEVELS).
RAW_SHEETS = {
    "fft_inpatient": "Parent & Self Trusts - Organisa",
    "fft_ae": "Parent & Self - Organisation Le",
}
PUBLISHED_SHEET = "Trusts"

MONTHS = (
    "JANUARY",
    "FEBRUARY",
    "MARCH",
    "APRIL",
    "MAY",
    "JUNE",
    "JULY",
    "AUGUST",
    "SEPTEMBER",
    "OCTOBER",
    "NOVEMBER",
    "DECEMBER",
)

# Whole counts only: DuckDB's cast would round '12.5' to 13 silently. Negative counts parse so the
# structure suite can name them; '12.0' (Excel's number style) is accepted.
# Financial year as 2025_26 or 2024-25 (both seen); kept as published, checked for shape.
FINANCIAL_YEAR = r"case when regexp_full_match({v}, '[0-9]{{4}}[-_][0-9]{{2}}') then {v} end"
MONTH_NAME = "case when upper({v}) in (" + ", ".join(f"'{m}'" for m in MONTHS) + ") then upper({v}) end"

LIKERT = (
    "very_good",
    "good",
    "neither_good_nor_poor",
    "poor",
    "very_poor",
    "dont_know",
)
MODES = (
    "mode_sms",
    "mode_electronic_discharge",
    "mode_electronic_home",
    "mode_paper_discharge",
    "mode_paper_home",
    "mode_telephone",
    "mode_online",
    "mode_other",
)

COLUMNS = (
    Column("financial_year", parse=FINANCIAL_YEAR, description="Yearnumber, e.g. 2025_26 (raw layout only)"),
    Column("period_name", parse=MONTH_NAME, description="Periodname, upper-case month (raw layout only)"),
    Column("parent_org_code", description="ICB code (Parent org code / ICB Code)"),
    Column("parent_name", description="ICB name (raw layout only)"),
    Column("org_code", required=True, description="trust code"),
    Column("org_name"),
    Column("title", description="Title (raw layout only; meaning not documented)"),
    *(Column(name, "BIGINT", WHOLE_NUMBER) for name in LIKERT),
    Column("total_responses", "BIGINT", WHOLE_NUMBER),
    Column("total_eligible", "BIGINT", WHOLE_NUMBER),
    Column("response_rate", "DOUBLE", description="Total Responses / Total Eligible (raw layout only)"),
    Column("prop_pos", "DOUBLE", description="(Very Good + Good) / Total Responses, 0-1"),
    Column("prop_neg", "DOUBLE", description="(Poor + Very Poor) / Total Responses (published layout only)"),
    *(Column(name, "BIGINT", WHOLE_NUMBER) for name in MODES),
)

_MODE_HEADERS = {
    "mode_sms": "Mode SMS",
    "mode_electronic_discharge": "Mode Electronic Discharge",
    "mode_electronic_home": "Mode Electronic Home",
    "mode_paper_discharge": "Mode Paper Discharge",
    "mode_paper_home": "Mode Paper Home",
    "mode_telephone": "Mode Telephone",
    "mode_online": "Mode Online",
    "mode_other": "Mode Other",
}
# The published A&E Trusts sheet has no 'Mode Electronic Home' (FFT_AE_template.xlsm).
_AE_MODES = tuple(m for m in MODES if m != "mode_electronic_home")

_RAW_IDENTITY = {
    "financial_year": "Yearnumber",
    "period_name": "Periodname",
    "parent_org_code": "Parent org code",
    "parent_name": "Parent name",
    "org_code": "Org code",
    "org_name": "Org name",
    "title": "Title",
}
_RAW_TAIL = {
    "total_responses": "Total Responses",
    "response_rate": "Response Rate",
    "prop_pos": "Prop_Pos",
}
RAW_INPATIENT_LIKERT = {
    "very_good": "1 Very Good SUM",
    "good": "2 Good SUM",
    "neither_good_nor_poor": "3 Neither Good nor Poor SUM",
    "poor": "4 Poor SUM",
    "very_poor": "5 Very Poor SUM",
    "dont_know": "6 Dont Know SUM",
}
RAW_AE_LIKERT = {
    "very_good": "1 Very Good",
    "good": "2 Good",
    "neither_good_nor_poor": "3 Neither good nor poor",
    "poor": "4 Poor",
    "very_poor": "5 Very poor",
    "dont_know": "6 Dont Know",
}


def _raw_columns(likert: dict[str, str], eligible: str, modes: Sequence[str]) -> tuple[str, ...]:
    """The raw organisation sheet in published order: identity, Likert, totals, rates, modes."""
    return (
        *_RAW_IDENTITY.values(),
        *likert.values(),
        "Total Responses",
        eligible,
        "Response Rate",
        "Prop_Pos",
        *(_MODE_HEADERS[m] for m in modes),
    )


def _raw_mapping(likert: dict[str, str], eligible: str, modes: Sequence[str]) -> dict[str, str]:
    return {
        **_RAW_IDENTITY,
        **likert,
        **_RAW_TAIL,
        "total_eligible": eligible,
        **{m: _MODE_HEADERS[m] for m in modes},
    }


PUBLISHED_LIKERT = {
    "very_good": "Very Good",
    "good": "Good",
    "neither_good_nor_poor": "Neither Good nor Poor",
    "poor": "Poor",
    "very_poor": "Very Poor",
    "dont_know": "Don't Know",
}


def _published(modes: Sequence[str], template: str) -> SchemaVariant:
    """The `Trusts` sheet as `workbook_sheet_to_csv` flattens its two header rows."""
    mapping = {
        "parent_org_code": "ICB Code",
        "org_code": "Trust Code",
        "org_name": "Trust Name",
        "total_responses": "Total Responses",
        "total_eligible": "Total Eligible",
        "prop_pos": "Percentage Positive",
        "prop_neg": "Percentage Negative",
        **PUBLISHED_LIKERT,
        **{m: _MODE_HEADERS[m] for m in modes},
    }
    return SchemaVariant(
        "published_trusts",
        tuple(mapping.values()),
        mapping,
        provenance=f"{template} Trusts sheet header (rows split in two, flattened); no data file seen",
    )


# NHS England releases every FFT setting on one day a month, the second Thursday, two months
# after the month of the responses: "10 November 2016 for September 2016 data", "08 February 2018
# for December 2017 data" (england.nhs.uk Friends and Family Test data page). The second Thursday
# falls on the 8th-14th, so the release is loaded on the 15th of M+2: approximate.
FFT_RELEASES = Publication(
    cadence="monthly",
    day=15,
    lag_months=2,
    approximate=True,
    source="england.nhs.uk FFT data: second Thursday of M+2 (e.g. 10 Nov 2016 for Sep 2016)",
)


FFT_INPATIENT = FeedSpec(
    name="fft_inpatient",
    title="NHS England Friends and Family Test, inpatient, by trust",
    publisher="NHS England",
    columns=COLUMNS,
    variants=(
        SchemaVariant(
            "raw_organisation",
            _raw_columns(RAW_INPATIENT_LIKERT, "Total Eligible SUM", MODES),
            _raw_mapping(RAW_INPATIENT_LIKERT, "Total Eligible SUM", MODES),
            provenance="nhsengland/fft_pipeline src/fft/config.py inpatient organisation sheet "
            "(column names verified; column order as listed in feeds_and_methods §5.1)",
        ),
        _published(MODES, "FFT_IP_template.xlsm"),
    ),
    file_patterns=(
        "FFT-inpatient-raw-*.csv",
        "FFT_Inpatients_V1*.csv",
        "FFT-inpatient-data*.csv",
        "FFT-inpatient-data*.xlsm",
        "FFT_Inpatients_V1*.xlsx",
    ),
    workbook_sheets=(RAW_SHEETS["fft_inpatient"], PUBLISHED_SHEET),
    cadence="monthly",
    publication=FFT_RELEASES,
    null_tokens=SUPPRESSED,
    description="Inpatient FFT responses by trust and month: Likert counts, eligible patients, modes.",
    grain=("org_code",),
)

FFT_AE = FeedSpec(
    name="fft_ae",
    title="NHS England Friends and Family Test, A&E, by trust",
    publisher="NHS England",
    columns=COLUMNS,
    variants=(
        SchemaVariant(
            "raw_organisation",
            _raw_columns(RAW_AE_LIKERT, "Total Eligible", _AE_MODES),
            _raw_mapping(RAW_AE_LIKERT, "Total Eligible", _AE_MODES),
            provenance="A&E Likert/eligible spellings from feeds_and_methods §5.1; the other columns and "
            "the 7 modes (no Electronic Home, as the published A&E sheet) are ASSUMED",
        ),
        SchemaVariant(
            "raw_organisation_8_modes",
            _raw_columns(RAW_AE_LIKERT, "Total Eligible", MODES),
            _raw_mapping(RAW_AE_LIKERT, "Total Eligible", MODES),
            provenance="as raw_organisation with the inpatient mode set (ASSUMED possible)",
        ),
        _published(_AE_MODES, "FFT_AE_template.xlsm"),
    ),
    file_patterns=(
        "FFT-ae-raw-*.csv",
        "FFT_AE_V1*.csv",
        "FFT-ae-data*.csv",
        "FFT-ae-data*.xlsm",
        "FFT_AE_V1*.xlsx",
    ),
    workbook_sheets=(RAW_SHEETS["fft_ae"], PUBLISHED_SHEET),
    cadence="monthly",
    publication=FFT_RELEASES,
    null_tokens=SUPPRESSED,
    description="A&E FFT responses by trust and month: Likert counts, eligible patients, modes.",
    grain=("org_code",),
)

FFT_FEEDS = (FFT_INPATIENT, FFT_AE)
