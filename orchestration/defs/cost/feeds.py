"""Cost reference data: national tariff / NHS Payment Scheme prices and National Cost Collection
organisation-level unit costs (../shared/reference/feeds_and_methods.md §4).

No real file of either feed was available (../shared/real_formats/README.md, "Feeds with nothing
real found"); the column names come from third-party code that reads the real files:

* Tariff APC & OPROC sheet: several SQL projects that load the 2017/18 and 2018/19 national
  tariff workbooks (Kubrick Group projects, 2019; ccooper91/NHS_Project) spell the 19 columns the
  same way. Those spellings went through SQL Server's Excel import, which writes an in-cell line
  break as `_`, a `.` as `#` and cuts names at 64 characters (`Where BPT applies:_NE = Non-elective
  spell tariff_DC/EL = Day ca` is exactly 64, and so is `% applied in calculation of reduced short
  stay emergency tariff ` with its odd trailing space). So each such name is matched by a
  pattern that also accepts what the workbook cell would hold: a line break or space for `_`, `.`
  for `#`, the full text after a cut (`published_pattern`). The workbook's own spellings are
  UNVERIFIED.
* Outpatient attendance prices by treatment function: one SQL project's load of the 2017/18
  `Outpatients` sheet (`WF01B_First Attendance - Single Professional` …).
* NCC organisation-level File 1: the header aliases of mohammedimran2901/costlens
  `scripts/ingest_ncc.py` (case-insensitive there: the Title Case here is UNVERIFIED; which year
  used which alias beyond `National_Mean` in 2022/23 is UNVERIFIED). The column order is unknown,
  so the NCC layouts are `subset` variants: any order, other columns ignored.

Prices: `-` means "no price" and is NULL, never 0; `,` thousands separators and `£` are stripped;
any other text in a price cell sends the row to quarantine with the value. NCC `*` (suppressed)
is NULL too.
"""

from __future__ import annotations

import re

from orchestration.lib.feed_spec import AMOUNT, Column, FeedSpec, Publication, SchemaVariant

# --------------------------------------------------------------------------------------------
# Value parsing (DuckDB expressions over {v}, the trimmed published text)
# --------------------------------------------------------------------------------------------

# `Yes` / `No` (the 3P SQL compares with 'yes' and 'Yes').
YES_NO = "case when lower({v}) in ('yes', 'y') then true when lower({v}) in ('no', 'n') then false end"
# The share applied for the reduced short-stay emergency price, as a fraction 0-1: a workbook cell
# formatted as a percentage holds 0.28; a CSV re-save writes the displayed `28%`. A bare number
# is taken as the fraction Excel stores, so a bare `28` is out of range and fails validation.
_NUMBER = r"-?[0-9]+(\.[0-9]+)?"  # a plain decimal, as a regular expression
_PERCENT_TEXT = "replace({v}, ' ', '')"
SHARE = (
    f"case when regexp_full_match({_PERCENT_TEXT}, '{_NUMBER}%') "
    f"then cast(rtrim({_PERCENT_TEXT}, '%') as double) / 100 "
    f"when regexp_full_match({_PERCENT_TEXT}, '{_NUMBER}') then cast({_PERCENT_TEXT} as double) end"
)

TARIFF_NULL_TOKENS = ("", "-")  # `-` = no national price for this HRG in this setting
NCC_NULL_TOKENS = ("", "*")  # `*` = suppressed cell

# Workbook sheets, tried in order (lib/workbook.py reads the first present). `1 APC & OPROC` is the
# 2016/17 Annex A and 2025/26 NHSPS sheet name, `1a/1b APC & OPROC 17.18/18.19` the two-year
# 2017/19 workbook's [3P: an R script of Monitor analysts; a 2025/26 HRG price-comparison
# script]. A 2017/19 workbook therefore loads its 17.18 sheet; land 2018/19 as a CSV re-save.
APC_SHEETS = ("1 APC & OPROC", "1a APC & OPROC 17.18", "1b APC & OPROC 18.19")
# The outpatient attendance sheet is `Outpatients` in the 3P SQL's staging names; its number
# and year suffix in the workbook are UNVERIFIED.
OP_SHEETS = ("2 Outpatients", "2a Outpatients 17.18", "2b Outpatients 18.19", "Outpatients")


def published_pattern(published: str) -> str | None:
    """A regular expression for a tariff header whose 3P transcription may differ from the
    workbook cell: surrounding spaces (the loader strips them), `_` for an in-cell line break,
    `#` for `.`, and 64 characters for a name SQL Server's Excel import cut short.
    None when the name is matched exactly."""
    stripped = published.strip()
    if stripped == published and not re.search(r"[_#]", published) and len(published) != 64:
        return None
    parts = [re.escape(p.strip()) for p in stripped.split("_")]
    pattern = r"(?:\s*_\s*|\s+)".join(parts).replace(re.escape("#"), "[#.]")
    if len(published) == 64:
        pattern += r"[\s\S]*"
    return pattern


def workbook_heading(transcribed: str) -> str:
    """The text of the workbook cell a 3P transcription stands for, as the loader reads it
    (stripped): `#` was a `.`, `_` an in-cell line break (read as a space, see
    tests/unit/test_cost_feeds.py), and the BPT heading cut at 64 characters is completed
    (its full text is UNVERIFIED)."""
    text = " ".join(transcribed.replace("_", " ").replace("#", ".").split())
    if text.endswith("DC/EL = Day ca"):
        text += "se / ordinary elective spell tariff"
    return text


def tariff_variant(name: str, mapping: dict[str, str], provenance: str) -> SchemaVariant:
    """A tariff sheet layout in published column order, with patterns for the transcribed names."""
    columns = tuple(mapping.values())
    patterns = {c: p for c in columns if (p := published_pattern(c))}
    return SchemaVariant(name, columns, mapping, provenance=provenance, patterns=patterns)


# --------------------------------------------------------------------------------------------
# Tariff: APC & OPROC prices by HRG
# --------------------------------------------------------------------------------------------

TARIFF_APC_COLUMNS = (
    Column("hrg_code", required=True, description="HRG code (HRG4+), e.g. HN12C"),
    Column("hrg_name", description="HRG name"),
    Column("outpatient_procedure_price", "DOUBLE", AMOUNT, description="£ per outpatient procedure"),
    Column(
        "combined_day_case_elective_price",
        "DOUBLE",
        AMOUNT,
        description="£ per spell, one price for day case and ordinary elective",
    ),
    Column("day_case_price", "DOUBLE", AMOUNT, description="£ per day-case spell"),
    Column("ordinary_elective_price", "DOUBLE", AMOUNT, description="£ per ordinary elective spell"),
    Column("elective_trim_days", "DOUBLE", AMOUNT, description="ordinary elective long-stay trim point"),
    Column("non_elective_price", "DOUBLE", AMOUNT, description="£ per non-elective spell"),
    Column("non_elective_trim_days", "DOUBLE", AMOUNT, description="non-elective long-stay trim point"),
    Column("per_day_long_stay_price", "DOUBLE", AMOUNT, description="£ per day beyond the trim point"),
    Column("rsse_applicable", "BOOLEAN", YES_NO, description="reduced short-stay emergency price applies"),
    Column("rsse_share", "DOUBLE", SHARE, description="share of the NEL price paid for a short stay, 0-1"),
    Column("rsse_price", "DOUBLE", AMOUNT, description="£ reduced short-stay emergency price"),
    Column("bpt_level", description="BPT applies to HRG or sub-HRG level"),
    Column("bpt_name", description="best practice tariff name"),
    Column("bpt_settings", description="where the BPT applies (NE, DC/EL, …)"),
    Column("bpt_sus_automation", description="whether SUS automates the BPT or non-BPT price"),
    Column("bpt_price_automated", description="the price SUS automates"),
    Column("bpt_flag", description="BPT Flag"),
)

_APC_CORE_2017 = {
    "hrg_code": "HRG code",
    "hrg_name": "HRG name",
    "outpatient_procedure_price": "Outpatient procedure tariff (£)",
    "combined_day_case_elective_price": "Combined day case / ordinary elective spell tariff (£)",
    "day_case_price": "Day case spell tariff (£)",
    "ordinary_elective_price": "Ordinary elective spell tariff (£)",
    "elective_trim_days": "Ordinary elective long stay trim point (days)",
    "non_elective_price": "Non-elective spell tariff (£)",
    "non_elective_trim_days": "Non-elective long stay trim point (days)",
    "per_day_long_stay_price": "Per day long stay payment (for days exceeding trim point) (£)",
    "rsse_applicable": "Reduced short stay emergency tariff _applicable?",
    "rsse_share": "% applied in calculation of reduced short stay emergency tariff ",  # trailing space
    "rsse_price": "Reduced short stay emergency tariff (£)",
}
_APC_BPT_2017 = {
    "bpt_level": " BPT applies to HRG or sub-HRG level",  # leading space
    "bpt_name": 'Area BPT Name applies (see also tab "07#BPTs")',
    "bpt_settings": "Where BPT applies:_NE = Non-elective spell tariff_DC/EL = Day ca",
    "bpt_sus_automation": "SUS will automate which BPT price (BPT or non-BPT price)",
    "bpt_price_automated": "The price automated by SUS",
    "bpt_flag": "BPT Flag",
}
# UNVERIFIED: the 2023/25+ NHS Payment Scheme names ("unit price" for "tariff") are a guess. A
# 2025/26 script reads the sheet from row 7 with the code in column B, the combined day case /
# elective price in E and the non-elective price in G [3P], which fits a layout without the
# separate day-case and ordinary-elective price columns, as below.
_APC_NHSPS_2023 = {
    "hrg_code": "HRG code",
    "hrg_name": "HRG name",
    "outpatient_procedure_price": "Outpatient procedure unit price (£)",
    "combined_day_case_elective_price": "Combined day case / ordinary elective spell unit price (£)",
    "elective_trim_days": "Ordinary elective long stay trim point (days)",
    "non_elective_price": "Non-elective spell unit price (£)",
    "non_elective_trim_days": "Non-elective long stay trim point (days)",
    "per_day_long_stay_price": "Per day long stay payment (for days exceeding trim point) (£)",
    "rsse_applicable": "Reduced short stay emergency unit price applicable?",
    "rsse_share": "% applied in calculation of reduced short stay emergency unit price",
    "rsse_price": "Reduced short stay emergency unit price (£)",
}

TARIFF_APC_VARIANTS = (
    tariff_variant(
        "ntps_2017_19",
        {**_APC_CORE_2017, **_APC_BPT_2017},
        "3P: the 19 names and their order verbatim from SQL projects loading the 2017/18 and 2018/19 "
        "APC & OPROC sheets (a Kubrick Group CREATE TABLE, 2019; ccooper91/NHS_Project). The `_`, `#` "
        "and 64-character forms are SQL Server import artefacts; the workbook cell text they stand "
        "for (line breaks, `.`, the full BPT heading) is matched by pattern and is UNVERIFIED. "
        "Used from 2017/18 until the NHS Payment Scheme (whether 2019/20-2022/23 kept it: UNVERIFIED).",
    ),
    tariff_variant(
        "ntps_2016_17",
        _APC_CORE_2017,
        "3P: a Monitor analyst's R script reads 13 columns of the 2016/17 Annex A `1 APC & OPROC` "
        "sheet in this order (no BPT block); the names are assumed equal to 2017/19 (UNVERIFIED).",
    ),
    tariff_variant(
        "nhsps_2023",
        _APC_NHSPS_2023,
        "UNVERIFIED names for the 2023/25+ NHS Payment Scheme prices workbook; the column positions "
        "of code, name, combined and non-elective prices agree with a 2025/26 script [3P].",
    ),
)

# The national tariff / NHS Payment Scheme sets prices by financial year from 1 April: the
# 2023/25 NHSPS "came into effect on 1 April 2023" and its 2024/25 amendment on 1 April 2024,
# published before the year starts and sometimes re-issued in-year (2024/25 prices revised for a
# 5.0% uplift) (england.nhs.uk/pay-syst/nhs-payment-scheme). One release a year, loaded on
# 1 April (the release folder is <YYYY>-04): approximate for the publication date.
NHSPS_RELEASES = Publication(
    cadence="annual",
    months=(4,),
    day=1,
    approximate=True,
    source="england.nhs.uk NHS Payment Scheme: prices in effect from 1 April each financial year",
)

TARIFF_APC_PRICES = FeedSpec(
    name="tariff_apc_prices",
    title="National tariff / NHS Payment Scheme admitted patient care and outpatient procedure prices",
    publisher="NHS England (NHS Improvement and Monitor before 2022)",
    columns=TARIFF_APC_COLUMNS,
    variants=TARIFF_APC_VARIANTS,
    file_patterns=(
        "*tariff*workbook*.xlsx",
        "*NHSPS*.xlsx",
        "*prices*.xlsx",
        "*APC*OPROC*.csv",
        "*tariff*.csv",
    ),
    workbook_sheets=APC_SHEETS,
    cadence="snapshot",
    publication=NHSPS_RELEASES,
    null_tokens=TARIFF_NULL_TOKENS,
    description="Unit prices by HRG for each financial year (release folder <YYYY>-04): outpatient "
    "procedure, day case, ordinary elective and non-elective spells, trim points, long-stay and "
    "reduced short-stay emergency payments.",
    grain=("hrg_code",),
)

# --------------------------------------------------------------------------------------------
# Tariff: outpatient attendance prices by treatment function
# --------------------------------------------------------------------------------------------

TARIFF_OP_COLUMNS = (
    Column("treatment_function_code", required=True, description="treatment function code, e.g. 110"),
    Column("treatment_function_name", description="treatment function description"),
    Column("first_single_price", "DOUBLE", AMOUNT, description="WF01B first attendance, single professional"),
    Column("first_multi_price", "DOUBLE", AMOUNT, description="WF02B first attendance, multi-professional"),
    Column(
        "follow_up_single_price",
        "DOUBLE",
        AMOUNT,
        description="WF01A follow-up attendance, single professional",
    ),
    Column(
        "follow_up_multi_price",
        "DOUBLE",
        AMOUNT,
        description="WF02A follow-up attendance, multi-professional",
    ),
)

# Names verbatim from a SQL project loading the 2017/18 and 2018/19 Outpatients sheets [3P].
_OP_2017 = {
    "treatment_function_code": "Treatment function code",
    "treatment_function_name": "Treatment function description ",  # trailing space
    "first_single_price": "WF01B_First Attendance - Single Professional",
    "first_multi_price": "WF02B_First Attendance - Multi Professional",
    "follow_up_single_price": "WF01A_Follow Up Attendance - Single Professional",
    "follow_up_multi_price": "WF02A_Follow Up Attendance - Multi Professional",
}

TARIFF_OP_ATTENDANCE_PRICES = FeedSpec(
    name="tariff_op_attendance_prices",
    title="National tariff outpatient attendance prices by treatment function",
    publisher="NHS England (NHS Improvement and Monitor before 2022)",
    columns=TARIFF_OP_COLUMNS,
    variants=(
        # Before the transcribed one: a workbook's header row is found by comparing its first three
        # cells with each variant's first three names literally (lib/workbook.py), and the
        # transcription's second and third names (trailing space, `_`) can never equal a cell.
        SchemaVariant(
            "ntps_2017_19_outpatients_workbook",
            tuple(workbook_heading(c) for c in _OP_2017.values()),
            {k: workbook_heading(v) for k, v in _OP_2017.items()},
            provenance="the ntps_2017_19_outpatients names as the workbook cells would read them "
            "(line break as a space, no trailing space): UNVERIFIED",
        ),
        tariff_variant(
            "ntps_2017_19_outpatients",
            _OP_2017,
            "3P: names verbatim from a SQL project loading the 2017/18 and 2018/19 Outpatients sheets "
            "(`_` = in-cell line break, matched by pattern); the column order, any further columns "
            "(non-face-to-face prices) and the layout after 2018/19 are UNVERIFIED.",
        ),
    ),
    file_patterns=(
        "*tariff*workbook*.xlsx",
        "*NHSPS*.xlsx",
        "*prices*.xlsx",
        "*Outpatient*.csv",
        "*tariff*.csv",
    ),
    workbook_sheets=OP_SHEETS,
    cadence="snapshot",
    publication=NHSPS_RELEASES,
    null_tokens=TARIFF_NULL_TOKENS,
    description="Outpatient attendance prices by treatment function for each financial year (release "
    "folder <YYYY>-04): first and follow-up, single and multi-professional.",
    grain=("treatment_function_code",),
)

# --------------------------------------------------------------------------------------------
# National Cost Collection: organisation-level source data, File 1 (unadjusted)
# --------------------------------------------------------------------------------------------

NCC_COLUMNS = (
    Column("provider_code", required=True, description="trust (organisation) code"),
    Column("department_code", required=True, description="NCC department, e.g. EL, NEL, CL, EM"),
    Column("service_code", description="service code (treatment function for outpatients)"),
    Column("currency_code", required=True, description="currency, an HRG for most departments"),
    Column("activity", "DOUBLE", AMOUNT, description="activity (FCEs, attendances …); NULL when `*`"),
    Column("actual_cost", "DOUBLE", AMOUNT, description="£ total cost of the activity; NULL when `*`"),
    Column("expected_cost", "DOUBLE", AMOUNT, description="£ expected cost (meaning UNVERIFIED)"),
    Column("national_mean", "DOUBLE", AMOUNT, description="£ national mean unit cost as published"),
    Column("scaled_mff", "DOUBLE", AMOUNT, description="scaled market forces factor, when present"),
)

# canonical → published, per alias set seen by costlens (case and combinations UNVERIFIED).
_NCC_LAYOUTS = {
    "provider_code": (
        {
            "provider_code": "Provider Code",
            "department_code": "Department Code",
            "service_code": "Service Code",
            "currency_code": "Currency Code",
            "activity": "Activity",
            "actual_cost": "Actual Cost",
            "expected_cost": "Expected Cost",
            "national_mean": "National Mean",
            "scaled_mff": "Scaled MFF",
        },
        "3P costlens ingest_ncc.py aliases provider code / department code / currency code / "
        "activity / national mean (Title Case UNVERIFIED)",
    ),
    "national_underscore": (
        {
            "provider_code": "Provider Code",
            "department_code": "Department Code",
            "service_code": "Service Code",
            "currency_code": "Currency Code",
            "activity": "Activity",
            "actual_cost": "Actual Cost",
            "expected_cost": "Expected Cost",
            "national_mean": "National_Mean",
            "scaled_mff": "Scaled MFF",
        },
        "3P costlens README: `National_Mean` in 2022/23; the other names as provider_code (UNVERIFIED)",
    ),
    "org_code": (
        {
            "provider_code": "Org Code",
            "department_code": "Dept Code",
            "service_code": "Service Code",
            "currency_code": "Currency",
            "activity": "Total Activity",
            "actual_cost": "Actual Cost",
            "expected_cost": "Expected Cost",
            "national_mean": "National Mean",
            "scaled_mff": "Scaled MFF",
        },
        "3P costlens aliases org code / dept code / currency / total activity; that they occur "
        "together in one file (presumably NCC_FY2024-25_Org_File1.csv) is UNVERIFIED",
    ),
}
NCC_OPTIONAL = ("expected_cost", "scaled_mff")


def _ncc_variants() -> tuple[SchemaVariant, ...]:
    variants = []
    for layout, (mapping, provenance) in _NCC_LAYOUTS.items():
        for label, delimiter in (("comma", ","), ("tab", "\t")):
            variants.append(
                SchemaVariant(
                    f"{layout}_{label}",
                    tuple(mapping.values()),
                    mapping,
                    provenance=f"{provenance}; {label}-separated (costlens sniffs tab or comma)",
                    delimiter=delimiter,
                    subset=True,
                    optional=frozenset(mapping[c] for c in NCC_OPTIONAL),
                )
            )
    return tuple(variants)


NCC_ORG_UNIT_COSTS = FeedSpec(
    name="ncc_org_unit_costs",
    title="National Cost Collection organisation-level source data (File 1, unadjusted)",
    publisher="NHS England",
    columns=NCC_COLUMNS,
    variants=_ncc_variants(),
    file_patterns=(
        "Organisation_level_source_data_1_*",
        "NCC_FY*_Org_File1*",
    ),
    cadence="snapshot",
    # "NHS providers submit costs annually" (england.nhs.uk National Cost Collection); published
    # about 12-18 months after the financial year ends (feeds_and_methods.md §4.1, UNVERIFIED),
    # and the dates move: the 2023 collection window opened "no earlier than 18 September" after
    # delays (HFMA, 8 June 2023). Loaded on 1 June: approximate, with wider thresholds than a
    # fixed annual release.
    publication=Publication(
        cadence="annual",
        months=(6,),
        day=1,
        approximate=True,
        freshness_days=(400, 550),
        source="england.nhs.uk NCC (annual); 12-18 months after year end (UNVERIFIED)",
    ),
    encoding="utf-8",  # UTF-8 with a BOM (costlens reads utf-8-sig); the loader strips it
    null_tokens=NCC_NULL_TOKENS,
    description="Activity and actual cost by trust, department, service and currency for one "
    "financial year (release folder <YYYY>-04 of the year's start), published 12-18 months after "
    "the year ends; `*` = suppressed.",
    grain=("provider_code", "department_code", "service_code", "currency_code"),
)

COST_FEEDS = (TARIFF_APC_PRICES, TARIFF_OP_ATTENDANCE_PRICES, NCC_ORG_UNIT_COSTS)
