"""Reference feeds as NHS England publishes them: ODS practices and CCGs, the practice →
PCN → sub-ICB → ICB map, and registered patients by sex and quinary age band.

Layouts and their provenance: ../shared/reference/feeds_and_methods.md §6.1–6.2 and the real
files in ../shared/real_formats/{epraccur,eccg,gp_registered_patients}.
"""

from __future__ import annotations

from orchestration.lib.feed_spec import Column, FeedSpec, Publication, SchemaVariant

ODS_DATE = "try_strptime({v}, '%Y%m%d')::date"
# EXTRACT_DATE has been written 01SEP2017, 01Jan2022, 01-Apr-17 and 2024-06-01.
EXTRACT_DATE = "try_strptime({v}, ['%d%b%Y', '%d-%b-%y', '%Y-%m-%d'])::date"

# --------------------------------------------------------------------------------------------
# ODS standard 27-field layout (epraccur.csv, eccg.csv): headerless, every field quoted, CRLF.
# --------------------------------------------------------------------------------------------
ODS_FIELDS = (
    "Organisation Code",
    "Name",
    "National Grouping",
    "High Level Health Geography",
    "Address Line 1",
    "Address Line 2",
    "Address Line 3",
    "Address Line 4",
    "Address Line 5",
    "Postcode",
    "Open Date",
    "Close Date",
    "Status Code",
    "Organisation Sub-Type Code",
    "Commissioner",
    "Join Provider/Purchaser Date",
    "Left Provider/Purchaser Date",
    "Contact Telephone Number",
    "Null 1",
    "Null 2",
    "Null 3",
    "Amended Record Indicator",
    "Null 4",
    "Provider/Purchaser",
    "Null 5",
    "Prescribing Setting",
    "Null 6",
)

ODS_COLUMNS = (
    Column("organisation_code", required=True, description="ODS code"),
    Column("name"),
    Column("national_grouping", description="NHS England region-level grouping; W00 = Wales"),
    Column("high_level_health_geography"),
    Column("address_line_1"),
    Column("address_line_2"),
    Column("address_line_3"),
    Column("address_line_4"),
    Column("address_line_5"),
    Column("postcode"),
    Column("open_date", "DATE", ODS_DATE, required=True),
    Column("close_date", "DATE", ODS_DATE),
    Column("status_code", description="A active, B retired, C closed, D dormant, P proposed"),
    Column("organisation_sub_type_code"),
    Column("commissioner_code", description="parent CCG / sub-ICB location (field 15)"),
    Column("join_parent_date", "DATE", ODS_DATE),
    Column("left_parent_date", "DATE", ODS_DATE),
    Column("contact_telephone_number"),
    Column("amended_record_indicator", "INTEGER"),
    Column("provider_purchaser_code", description="current commissioner (field 24)"),
    Column("prescribing_setting", "INTEGER", description="4 = GP practice"),
)

ODS_MAPPING = {
    "organisation_code": "Organisation Code",
    "name": "Name",
    "national_grouping": "National Grouping",
    "high_level_health_geography": "High Level Health Geography",
    "address_line_1": "Address Line 1",
    "address_line_2": "Address Line 2",
    "address_line_3": "Address Line 3",
    "address_line_4": "Address Line 4",
    "address_line_5": "Address Line 5",
    "postcode": "Postcode",
    "open_date": "Open Date",
    "close_date": "Close Date",
    "status_code": "Status Code",
    "organisation_sub_type_code": "Organisation Sub-Type Code",
    "commissioner_code": "Commissioner",
    "join_parent_date": "Join Provider/Purchaser Date",
    "left_parent_date": "Left Provider/Purchaser Date",
    "contact_telephone_number": "Contact Telephone Number",
    "amended_record_indicator": "Amended Record Indicator",
    "provider_purchaser_code": "Provider/Purchaser",
    "prescribing_setting": "Prescribing Setting",
}

ODS_STANDARD = SchemaVariant(
    name="ods_standard_27",
    columns=ODS_FIELDS,
    mapping=ODS_MAPPING,
    header=False,
    provenance="ODS standard layout; positions confirmed by OpenPrescribing import_practices.py",
)

# ODS releases epraccur and eccg together. "Usually published quarterly" (OpenPrescribing, in
# ../shared/reference/feeds_and_methods.md §6.1); ODS now also serves both as predefined reports
# of Data Search and Export, refreshed daily (digital.nhs.uk ODS latest news, June 2025; the TRUD
# weekly pack was retired in October 2025), so the quarter is how often we take a release, on the
# 5th of January, April, July and October as before: approximate.
ODS_RELEASES = Publication(
    cadence="quarterly",
    months=(1, 4, 7, 10),
    day=5,
    approximate=True,
    source="OpenPrescribing: epraccur 'usually published quarterly'; ODS DSE refreshes daily",
)

EPRACCUR = FeedSpec(
    name="ods_epraccur",
    title="ODS GP practices (epraccur)",
    publisher="NHS England Organisation Data Service",
    columns=ODS_COLUMNS,
    variants=(ODS_STANDARD,),
    file_patterns=("epraccur*.csv", "epraccur*.zip"),
    cadence="snapshot",
    publication=ODS_RELEASES,
    encoding="latin-1",
    description="GP practices and other prescribing cost centres, one row per organisation per release.",
    grain=("organisation_code",),
)

ECCG = FeedSpec(
    name="ods_eccg",
    title="ODS clinical commissioning groups / sub-ICB locations (eccg)",
    publisher="NHS England Organisation Data Service",
    columns=ODS_COLUMNS,
    variants=(ODS_STANDARD,),
    file_patterns=("eccg*.csv", "eccg*.zip"),
    cadence="snapshot",
    publication=ODS_RELEASES,
    encoding="latin-1",
    description="CCGs (sub-type C) and commissioning hubs (H), with the close dates of merged CCGs.",
    grain=("organisation_code",),
)

# --------------------------------------------------------------------------------------------
# gp-reg-pat-prac-map.csv: practice → PCN → CCG/sub-ICB → STP/ICB → region, monthly.
# --------------------------------------------------------------------------------------------
MAP_COLUMNS = (
    Column("publication"),
    Column("extract_date", "DATE", EXTRACT_DATE, required=True),
    Column("practice_code", required=True),
    Column("practice_name"),
    Column("practice_postcode"),
    Column("pcn_code", description="U = not in a PCN"),
    Column("pcn_name"),
    Column("ons_commissioner_code", description="ONS E38 code of the CCG or sub-ICB location"),
    Column(
        "commissioner_code",
        required=True,
        description="CCG code (CCG era) or sub-ICB location code",
    ),
    Column("commissioner_name"),
    Column("ons_parent_code", description="ONS E54 code of the STP or ICB"),
    Column("parent_code", description="STP code (CCG era) or ICB code"),
    Column("parent_name"),
    Column("ons_region_code"),
    Column("region_code"),
    Column("region_name"),
    Column("supplier_name", description="GP clinical system supplier (recent files only)"),
)

_MAP_HEAD = (
    "PUBLICATION",
    "EXTRACT_DATE",
    "PRACTICE_CODE",
    "PRACTICE_NAME",
    "PRACTICE_POSTCODE",
    "PCN_CODE",
    "PCN_NAME",
)
_MAP_TAIL = ("ONS_COMM_REGION_CODE", "COMM_REGION_CODE", "COMM_REGION_NAME")
_MAP_COMMON = {
    "publication": "PUBLICATION",
    "extract_date": "EXTRACT_DATE",
    "practice_code": "PRACTICE_CODE",
    "practice_name": "PRACTICE_NAME",
    "practice_postcode": "PRACTICE_POSTCODE",
    "pcn_code": "PCN_CODE",
    "pcn_name": "PCN_NAME",
    "ons_region_code": "ONS_COMM_REGION_CODE",
    "region_code": "COMM_REGION_CODE",
    "region_name": "COMM_REGION_NAME",
}
_CCG_ERA = {
    "ons_commissioner_code": "ONS_CCG_CODE",
    "commissioner_code": "CCG_CODE",
    "commissioner_name": "CCG_NAME",
    "ons_parent_code": "ONS_STP_CODE",
    "parent_code": "STP_CODE",
    "parent_name": "STP_NAME",
}
_SICBL_ERA = {
    "ons_commissioner_code": "ONS_SUB_ICB_LOCATION_CODE",
    "commissioner_code": "SUB_ICB_LOCATION_CODE",
    "commissioner_name": "SUB_ICB_LOCATION_NAME",
    "ons_parent_code": "ONS_ICB_CODE",
    "parent_code": "ICB_CODE",
    "parent_name": "ICB_NAME",
}

# "Patients Registered at a GP Practice" (the practice map and the list sizes) is a snapshot at
# the 1st of a month published in that month: the August 2017 edition on 11 August 2017, August
# 2021 on about the 12th (digital.nhs.uk publication pages). We load it on the 20th, a week's
# margin, as the schedule before this one did: approximate.
GP_REGISTERED_RELEASES = Publication(
    cadence="monthly",
    day=20,
    lag_months=0,
    approximate=True,
    source="digital.nhs.uk Patients Registered at a GP Practice: published around the 11th-13th",
)

GP_PRACTICE_MAP = FeedSpec(
    name="gp_practice_map",
    title="GP practice to PCN, sub-ICB location, ICB and region map (gp-reg-pat-prac-map)",
    publisher="NHS England, Patients Registered at a GP Practice",
    columns=MAP_COLUMNS,
    variants=(
        SchemaVariant(
            "ccg_stp_2021",
            _MAP_HEAD + tuple(_CCG_ERA.values()) + _MAP_TAIL,
            {**_MAP_COMMON, **_CCG_ERA},
            provenance="real file, January 2022 (CCG/STP era)",
        ),
        SchemaVariant(
            "sub_icb_2022",
            _MAP_HEAD + tuple(_SICBL_ERA.values()) + _MAP_TAIL,
            {**_MAP_COMMON, **_SICBL_ERA},
            provenance="sub-ICB era before SUPPLIER_NAME was added (feeds_and_methods §6.2)",
        ),
        SchemaVariant(
            "sub_icb_supplier_2025",
            _MAP_HEAD + tuple(_SICBL_ERA.values()) + _MAP_TAIL + ("SUPPLIER_NAME",),
            {**_MAP_COMMON, **_SICBL_ERA, "supplier_name": "SUPPLIER_NAME"},
            provenance="real file, October 2025",
        ),
    ),
    file_patterns=("gp-reg-pat-prac-map*.csv", "gp-reg-pat-prac-map*.zip"),
    publication=GP_REGISTERED_RELEASES,
    encoding="latin-1",
    period_column="extract_date",
    description="The authoritative practice → PCN → sub-ICB → ICB → region mapping for a month.",
    grain=("practice_code",),
)

# --------------------------------------------------------------------------------------------
# Registered patients by practice, sex and quinary age band (and the all-ages file).
# --------------------------------------------------------------------------------------------
REGISTERED_COLUMNS = (
    Column("publication"),
    Column("extract_date", "DATE", EXTRACT_DATE, required=True),
    Column("org_type", description="GP for practices; other values are area totals"),
    Column("org_code", required=True),
    Column("ons_code"),
    Column("commissioner_code", description="CCG or sub-ICB location code, where the layout has it"),
    Column("ons_commissioner_code"),
    Column("postcode"),
    Column("sex", required=True, description="ALL, MALE or FEMALE"),
    Column("age_band", required=True, description="0_4 … 90_94, 95+, or ALL"),
    Column("number_of_patients", "BIGINT", required=True),
)

_REG_COMMON = {
    "publication": "PUBLICATION",
    "extract_date": "EXTRACT_DATE",
    "postcode": "POSTCODE",
    "sex": "SEX",
    "number_of_patients": "NUMBER_OF_PATIENTS",
}

GP_REGISTERED_PATIENTS = FeedSpec(
    name="gp_registered_patients",
    title="Patients registered at a GP practice by sex and quinary age (gp-reg-pat-prac-quin-age)",
    publisher="NHS England, Patients Registered at a GP Practice",
    columns=REGISTERED_COLUMNS,
    variants=(
        SchemaVariant(
            "quin_age_org_2017",
            (
                "PUBLICATION",
                "EXTRACT_DATE",
                "ORG_TYPE",
                "ORG_CODE",
                "ONS_CODE",
                "POSTCODE",
                "SEX",
                "AGE_GROUP_5",
                "NUMBER_OF_PATIENTS",
            ),
            {
                **_REG_COMMON,
                "org_type": "ORG_TYPE",
                "org_code": "ORG_CODE",
                "ons_code": "ONS_CODE",
                "age_band": "AGE_GROUP_5",
            },
            provenance="real files, September/October 2017; still the layout in September 2022",
        ),
        SchemaVariant(
            "prac_ccg_2021",
            (
                "PUBLICATION",
                "EXTRACT_DATE",
                "TYPE",
                "CCG_CODE",
                "ONS_CCG_CODE",
                "CODE",
                "POSTCODE",
                "SEX",
                "AGE",
                "NUMBER_OF_PATIENTS",
            ),
            {
                **_REG_COMMON,
                "org_type": "TYPE",
                "org_code": "CODE",
                "commissioner_code": "CCG_CODE",
                "ons_commissioner_code": "ONS_CCG_CODE",
                "age_band": "AGE",
            },
            provenance="real gp-reg-pat-prac-all file, January 2021",
        ),
        SchemaVariant(
            "prac_sub_icb_2023",
            (
                "PUBLICATION",
                "EXTRACT_DATE",
                "TYPE",
                "SUB_ICB_LOCATION_CODE",
                "ONS_SUB_ICB_LOCATION_CODE",
                "CODE",
                "POSTCODE",
                "SEX",
                "AGE",
                "NUMBER_OF_PATIENTS",
            ),
            {
                **_REG_COMMON,
                "org_type": "TYPE",
                "org_code": "CODE",
                "commissioner_code": "SUB_ICB_LOCATION_CODE",
                "ons_commissioner_code": "ONS_SUB_ICB_LOCATION_CODE",
                "age_band": "AGE",
            },
            provenance="sub-ICB era layout seen in third-party loaders (feeds_and_methods §6.2)",
        ),
        SchemaVariant(
            "prac_all_2024",
            (
                "PUBLICATION",
                "EXTRACT_DATE",
                "TYPE",
                "CODE",
                "POSTCODE",
                "SEX",
                "AGE",
                "NUMBER_OF_PATIENTS",
            ),
            {**_REG_COMMON, "org_type": "TYPE", "org_code": "CODE", "age_band": "AGE"},
            provenance="recent all-practices layout seen in third-party loaders (feeds_and_methods §6.2)",
        ),
    ),
    # Earlier patterns win when a month holds several files: the quinary file has the bands.
    file_patterns=(
        "gp-reg-pat-prac-quin-age*.csv",
        "gp-reg-pat-prac-quin-age*.zip",
        "gp-reg-pat-prac-all*.csv",
        "gp-reg-pat-prac-all*.zip",
    ),
    publication=GP_REGISTERED_RELEASES,
    encoding="latin-1",
    period_column="extract_date",
    description="Registered list sizes at the 1st of the month, by practice, sex and age band.",
    grain=("org_type", "org_code", "sex", "age_band"),
)

REFERENCE_FEEDS = (EPRACCUR, ECCG, GP_PRACTICE_MAP, GP_REGISTERED_PATIENTS)
