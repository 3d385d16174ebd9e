"""The English Prescribing Dataset (EPD) and the practice-level files before it, as one feed.

NHSBSA publishes one file a month (`EPD_YYYYMM.csv`, OpenPrescribing saves it as `epd_YYYYMM.csv`;
the SNOMED series is `EPD_SNOMED_YYYYMM`). Seven layouts map onto one canonical model
(../shared/reference/feeds_and_methods.md §2.1–2.5; real files in ../shared/real_formats/epd):

* `epd_legacy_stp` / `epd_legacy_icb`: the retired EPD without SNOMED (2014-01 … 2025-06), with
  `STP_NAME, STP_CODE` in older files and `ICB_NAME, ICB_CODE` later. Verified: NHSBSA CKAN
  `datastore_search` response for EPD_201401 (rmgpanw/nhsbsa test fixture, STP names, order and
  `UNIDENTIFIED DOCTORS` rows with '-' organisation fields); openprescribing `frontend/bq_schemas.py`
  RAW_PRESCRIBING_SCHEMA_V2 (ICB names). The month ICB replaced STP in the files is UNVERIFIED
  (taken as 2022-07, when ICBs were set up).
* `epd_snomed_legacy_stp` / `epd_snomed_legacy_icb`: the "EPD with SNOMED code" series up to 202502,
  legacy names plus `SNOMED_CODE` [3P QC script]. Where `SNOMED_CODE` sits is UNVERIFIED, so these
  match any header holding the columns, in any order.
* `epd_snomed_renamed`: the SNOMED series from 202503 with `BNF_CHEMICAL_SUBSTANCE_CODE`,
  `BNF_CHEMICAL_SUBSTANCE` (now the name), `BNF_PRESENTATION_CODE`, `BNF_PRESENTATION_NAME`,
  `ADQ_USAGE` [3P: a loader's column template for `EPD_SNOMED_*` resources; a QC script's
  202502/202503 boundary]. The boundary month is UNVERIFIED against NHSBSA.
* `nhsbsa_detailed_prescribing_information`: the pre-EPD NHSBSA monthly practice file (real file,
  2017-09). It states no month (the landing folder gives it) and `Quantity` is the quantity per
  item: OpenPrescribing's convert_hscic_prescribing sums `Quantity * Items` as the total.
* `hscic_pdpi_bnft`: HSCIC "practice level prescribing, presentation level" `T<YYYYMM>PDPI BNFT`
  (real file, 2014-10): padded header names, a leading space in ` SHA`, zero-padded numbers and a
  trailing comma on every line. Its `QUANTITY` is the total quantity (40 items of diazepam 2mg,
  3,305 tablets), so it maps to `total_quantity`.

The grain is not unique: a practice's presentation is split over rows by quantity per item (and
by SNOMED code), so the fact table aggregates. BNF and SNOMED codes stay text (leading zeros;
SNOMED identifiers exceed a double's precision). `-` is kept as published (the organisation
fields of `UNIDENTIFIED DOCTORS` rows), never made NULL, so those rows are not lost.
"""

from __future__ import annotations

from orchestration.lib.feed_spec import WHOLE_NUMBER, Column, FeedSpec, Publication, SchemaVariant

# YEAR_MONTH as 201401 or 2014-01 (both seen in loaders); PDPI `PERIOD` as 201410.
YEAR_MONTH = (
    r"case when regexp_full_match({v}, '[0-9]{{4}}-?[0-9]{{2}}') "
    r"then try_strptime(replace({v}, '-', '') || '01', '%Y%m%d')::date end"
)
# Whole items only (DuckDB would round 2.5 silently); zero-padded 0000009 and 9.0 are accepted,
# negative counts parse so the values suite can name them.
# UNIDENTIFIED is a boolean in the CKAN API; Y/N in some extracts.
UNIDENTIFIED = (
    "case when upper({v}) in ('Y', 'TRUE', 'T', '1') then true "
    "when upper({v}) in ('N', 'FALSE', 'F', '0') then false end"
)

COLUMNS = (
    Column("year_month", "DATE", YEAR_MONTH, description="YEAR_MONTH / PERIOD as the month's first day"),
    Column("regional_office_name", description="NHS England region (UNIDENTIFIED for unidentified doctors)"),
    Column("regional_office_code", description="NHS England region code ('-' when unidentified)"),
    Column("area_name", description="STP, ICB or NHS England area team, by era"),
    Column("area_code", description="STP_CODE / ICB_CODE / Area Team Code / HSCIC SHA"),
    Column("pco_name", description="Primary care organisation: CCG, sub-ICB location or trust"),
    Column("pco_code", description="PCO code as published (3 characters, or 5 with a 00 suffix)"),
    Column("practice_name", description="Cost centre name (UNIDENTIFIED DOCTORS when unknown)"),
    Column("practice_code", description="Cost centre code: GP practice, OOH, hospital, … or '-'"),
    Column("address_1"),
    Column("address_2"),
    Column("address_3"),
    Column("address_4"),
    Column("postcode"),
    Column("bnf_chemical_substance_code", description="9 characters (4 for appliances)"),
    Column("bnf_chemical_substance_name"),
    Column("bnf_code", required=True, description="BNF presentation code, 15 characters (11 appliances)"),
    Column("bnf_description", description="BNF presentation name"),
    Column("bnf_chapter_plus_code", description="e.g. '04: Central Nervous System'"),
    Column("snomed_code", description="dm+d SNOMED CT identifier, kept as text"),
    Column("quantity", "DOUBLE", description="quantity per item"),
    Column("items", "BIGINT", WHOLE_NUMBER, required=True, description="prescription items"),
    Column("total_quantity", "DOUBLE", description="QUANTITY x ITEMS as published"),
    Column("adq_usage", "DOUBLE", description="average daily quantities"),
    Column("nic", "DOUBLE", description="net ingredient cost, GBP"),
    Column("actual_cost", "DOUBLE", description="actual cost, GBP"),
    Column("unidentified", "BOOLEAN", UNIDENTIFIED, description="prescriber not identified"),
)

_ADDRESS = {f"address_{i}": f"ADDRESS_{i}" for i in range(1, 5)}


def _legacy(area: str) -> tuple[tuple[str, ...], dict[str, str]]:
    """The retired EPD layout with the STP or ICB columns in the area slot."""
    mapping = {
        "year_month": "YEAR_MONTH",
        "regional_office_name": "REGIONAL_OFFICE_NAME",
        "regional_office_code": "REGIONAL_OFFICE_CODE",
        "area_name": f"{area}_NAME",
        "area_code": f"{area}_CODE",
        "pco_name": "PCO_NAME",
        "pco_code": "PCO_CODE",
        "practice_name": "PRACTICE_NAME",
        "practice_code": "PRACTICE_CODE",
        **_ADDRESS,
        "postcode": "POSTCODE",
        "bnf_chemical_substance_code": "BNF_CHEMICAL_SUBSTANCE",
        "bnf_chemical_substance_name": "CHEMICAL_SUBSTANCE_BNF_DESCR",
        "bnf_code": "BNF_CODE",
        "bnf_description": "BNF_DESCRIPTION",
        "bnf_chapter_plus_code": "BNF_CHAPTER_PLUS_CODE",
        "quantity": "QUANTITY",
        "items": "ITEMS",
        "total_quantity": "TOTAL_QUANTITY",
        "adq_usage": "ADQUSAGE",
        "nic": "NIC",
        "actual_cost": "ACTUAL_COST",
        "unidentified": "UNIDENTIFIED",
    }
    return tuple(mapping.values()), mapping


def _snomed_legacy(area: str) -> tuple[tuple[str, ...], dict[str, str]]:
    columns, mapping = _legacy(area)
    return (*columns, "SNOMED_CODE"), {**mapping, "snomed_code": "SNOMED_CODE"}


_RENAMED = {
    "year_month": "YEAR_MONTH",
    "regional_office_name": "REGIONAL_OFFICE_NAME",
    "regional_office_code": "REGIONAL_OFFICE_CODE",
    "area_name": "ICB_NAME",
    "area_code": "ICB_CODE",
    "pco_name": "PCO_NAME",
    "pco_code": "PCO_CODE",
    "practice_name": "PRACTICE_NAME",
    "practice_code": "PRACTICE_CODE",
    **_ADDRESS,
    "postcode": "POSTCODE",
    "bnf_chemical_substance_code": "BNF_CHEMICAL_SUBSTANCE_CODE",
    "bnf_chemical_substance_name": "BNF_CHEMICAL_SUBSTANCE",
    "bnf_code": "BNF_PRESENTATION_CODE",
    "bnf_description": "BNF_PRESENTATION_NAME",
    "bnf_chapter_plus_code": "BNF_CHAPTER_PLUS_CODE",
    "quantity": "QUANTITY",
    "items": "ITEMS",
    "total_quantity": "TOTAL_QUANTITY",
    "adq_usage": "ADQ_USAGE",
    "nic": "NIC",
    "actual_cost": "ACTUAL_COST",
    "unidentified": "UNIDENTIFIED",
    "snomed_code": "SNOMED_CODE",
}

_DETAILED = {
    "regional_office_name": "Regional Office Name",
    "regional_office_code": "Regional Office Code",
    "area_name": "Area Team Name",
    "area_code": "Area Team Code",
    "pco_name": "PCO Name",
    "pco_code": "PCO Code",
    "practice_name": "Practice Name",
    "practice_code": "Practice Code",
    "bnf_code": "BNF Code",
    "bnf_description": "BNF Description",
    "items": "Items",
    "quantity": "Quantity",
    "adq_usage": "ADQ Usage",
    "nic": "NIC",
    "actual_cost": "Actual Cost",
}

# The HSCIC header as published, names stripped of their padding (the loader strips them), and
# the unnamed field after the trailing comma.
PDPI_TRAILING_FIELD = "(unnamed field after the trailing comma)"
PDPI_COLUMNS = (
    "SHA",
    "PCT",
    "PRACTICE",
    "BNF CODE",
    "BNF NAME",
    "ITEMS",
    "NIC",
    "ACT COST",
    "QUANTITY",
    "PERIOD",
    PDPI_TRAILING_FIELD,
)
_PDPI = {
    "area_code": "SHA",
    "pco_code": "PCT",
    "practice_code": "PRACTICE",
    "bnf_code": "BNF CODE",
    "bnf_description": "BNF NAME",
    "items": "ITEMS",
    "nic": "NIC",
    "actual_cost": "ACT COST",
    "total_quantity": "QUANTITY",
    "year_month": "PERIOD",
}


_LEGACY_PROVENANCE = (
    "NHSBSA CKAN datastore_search EPD_201401 field list (rmgpanw/nhsbsa fixture "
    "datastore_search-9b58d2.json) and openprescribing frontend/bq_schemas.py RAW_PRESCRIBING_SCHEMA_V2"
)

VARIANTS = (
    SchemaVariant(
        "epd_legacy_stp",
        *_legacy("STP"),
        provenance=_LEGACY_PROVENANCE + "; STP_NAME/STP_CODE verified in the EPD_201401 response",
    ),
    SchemaVariant(
        "epd_legacy_icb",
        *_legacy("ICB"),
        provenance=_LEGACY_PROVENANCE + "; ICB_NAME/ICB_CODE from 2022-07 (first month UNVERIFIED)",
    ),
    SchemaVariant(
        "epd_snomed_legacy_icb",
        *_snomed_legacy("ICB"),
        subset=True,
        provenance="EPD with SNOMED code up to 202502: legacy names plus SNOMED_CODE [3P QC script]; "
        "column position UNVERIFIED, so matched as a set",
    ),
    SchemaVariant(
        "epd_snomed_legacy_stp",
        *_snomed_legacy("STP"),
        subset=True,
        provenance="EPD with SNOMED code for months before 2022-07 (SNOMED_CODE made a string 'for all "
        "files from November 2020 onwards', NHSBSA activity stream); STP names ASSUMED, UNVERIFIED",
    ),
    SchemaVariant(
        "epd_snomed_renamed",
        tuple(_RENAMED.values()),
        _RENAMED,
        subset=True,
        provenance="EPD with SNOMED code from 202503 [3P: loader column template for EPD_SNOMED_* "
        "resources; QC script boundary 202502/202503, UNVERIFIED against NHSBSA]",
    ),
    SchemaVariant(
        "nhsbsa_detailed_prescribing_information",
        tuple(_DETAILED.values()),
        _DETAILED,
        provenance="real file: openprescribing pipeline/e2e-test-data 2017_09 "
        "Detailed_Prescribing_Information.csv (../shared/real_formats/epd)",
    ),
    SchemaVariant(
        "hscic_pdpi_bnft",
        PDPI_COLUMNS,
        _PDPI,
        unnamed_last_field=True,
        provenance="real file: HSCIC T201410PDPI BNFT (openprescribing frontend/tests/fixtures/commands/"
        "hscic_prescribing_sample.csv, ../shared/real_formats/epd)",
    ),
)

EPD = FeedSpec(
    name="epd",
    title="NHSBSA English Prescribing Dataset (EPD), practice level, monthly",
    publisher="NHS Business Services Authority (HSCIC before 2016)",
    columns=COLUMNS,
    variants=VARIANTS,
    # One file a month; a re-delivery in another extension still replaces the earlier one.
    file_patterns=("EPD_*", "T*PDPI*BNFT*", "*Detailed_Prescribing_Information*"),
    cadence="monthly",
    # Monthly, "actual and planned dates on main NHSBSA site" (opendata.nhsbsa.net data release
    # information), two months after dispensing: "data from April 2024 (published in June)" (the
    # EPD dataset page). The day varies; month M is loaded on the 28th of M+2 (the day the sample
    # generator assumes, also UNVERIFIED): approximate.
    publication=Publication(
        cadence="monthly",
        day=28,
        lag_months=2,
        approximate=True,
        source="opendata.nhsbsa.net EPD: monthly, April 2024 data published in June",
    ),
    null_tokens=("",),
    period_column="year_month",
    max_quarantine_share=0.05,
    description="Items, quantity, ADQ and cost per prescribing cost centre, BNF presentation and month.",
    # No unique grain: a cost centre's presentation is split over rows by quantity per item and by
    # SNOMED code; fct_prescribing sums to month x cost centre x presentation.
    grain=(),
)

PRESCRIBING_FEEDS = (EPD,)
