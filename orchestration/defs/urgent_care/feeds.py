"""Urgent and emergency care feeds as they land.

* `ae_monthly`: NHS England's monthly "A&E Attendances and Emergency Admissions" CSV (SitRep
  MSitAE), one row per provider plus a TOTAL row. The current 22-column header is verified from
  six whole 2025 files (../shared/real_formats/ae_monthly), publisher typo `4-12 hs` included;
  `Period` reads `MSitAE-APRIL-2025` and the TOTAL row carries `TOTAL` (April–August 2025) or
  `Total` (September 2025) in its first four fields. `-` means not applicable: NULL, never 0.
* `ecds`: record-level A&E attendances, one file a month, as SUS+/NCDR ECDS extracts name their
  fields (feeds_and_methods.md §3.4) and, as an older layout, HES A&E (verified from NHS Digital's
  artificial HES A&E 2007/08 file). Extracts carry whatever fields the data-sharing agreement
  lists, so both are subset variants; DARS ships the same fields pipe-delimited.

Only shape is checked at load (a count that is not a whole number, a date that is not a date);
everything that needs other rows (grain, TOTAL reconciliation, partition, coverage) is a
validation suite in expectations/ae_monthly__*.json and expectations/ecds__*.json.
"""

from __future__ import annotations

from dataclasses import replace

from orchestration.lib.feed_spec import WHOLE_NUMBER, Column, FeedSpec, Publication, SchemaVariant

_MONTHS = "JANUARY|FEBRUARY|MARCH|APRIL|MAY|JUNE|JULY|AUGUST|SEPTEMBER|OCTOBER|NOVEMBER|DECEMBER"
# `MSitAE-APRIL-2025` (any case), or the TOTAL row's `TOTAL`/`Total`. Kept as published (a TOTAL
# row has no month of its own); staging and the partition suite turn it into a date.
SITREP_PERIOD = (
    "case when regexp_full_match(upper({v}), 'MSITAE-(" + _MONTHS + ")-[0-9]{{4}}|TOTAL') then {v} end"
)

# --------------------------------------------------------------------------------------------
# ae_monthly: the SitRep CSV
# --------------------------------------------------------------------------------------------

# canonical measure → published column, current (2025) header, in published order.
SITREP_MEASURES: dict[str, str] = {
    "attendances_type_1": "A&E attendances Type 1",
    "attendances_type_2": "A&E attendances Type 2",
    "attendances_other": "A&E attendances Other A&E Department",
    "booked_attendances_type_1": "A&E attendances Booked Appointments Type 1",
    "booked_attendances_type_2": "A&E attendances Booked Appointments Type 2",
    "booked_attendances_other": "A&E attendances Booked Appointments Other Department",
    "over_4h_type_1": "Attendances over 4hrs Type 1",
    "over_4h_type_2": "Attendances over 4hrs Type 2",
    "over_4h_other": "Attendances over 4hrs Other Department",
    "booked_over_4h_type_1": "Attendances over 4hrs Booked Appointments Type 1",
    "booked_over_4h_type_2": "Attendances over 4hrs Booked Appointments Type 2",
    "booked_over_4h_other": "Attendances over 4hrs Booked Appointments Other Department",
    "dta_4_to_12h": "Patients who have waited 4-12 hs from DTA to admission",
    "dta_over_12h": "Patients who have waited 12+ hrs from DTA to admission",
    "emergency_admissions_type_1": "Emergency admissions via A&E - Type 1",
    "emergency_admissions_type_2": "Emergency admissions via A&E - Type 2",
    "emergency_admissions_other": "Emergency admissions via A&E - Other A&E department",
    "other_emergency_admissions": "Other emergency admissions",
}

SITREP_IDENTITY = {
    "period": "Period",
    "org_code": "Org Code",
    "parent_org": "Parent Org",
    "org_name": "Org name",
}

SITREP_HEADER_2025 = (*SITREP_IDENTITY.values(), *SITREP_MEASURES.values())

# Era 2: attendances and over-4-hours columns named "Number of …", no booked appointments.
# The six "Number of …" names are as third-party loaders of the pre-2020 files map them; the
# column order and the other columns' names in that era are ASSUMED.
_ERA2_RENAMED = {
    "attendances_type_1": "Number of A&E attendances Type 1",
    "attendances_type_2": "Number of A&E attendances Type 2",
    "attendances_other": "Number of A&E attendances Other A&E Department",
    "over_4h_type_1": "Number of attendances over 4hrs Type 1",
    "over_4h_type_2": "Number of attendances over 4hrs Type 2",
    "over_4h_other": "Number of attendances over 4hrs Other A&E Department",
}
_ERA2_MEASURES = {
    name: _ERA2_RENAMED.get(name, published)
    for name, published in SITREP_MEASURES.items()
    if not name.startswith("booked_")
}

AE_MONTHLY = FeedSpec(
    name="ae_monthly",
    title="NHS England A&E Attendances and Emergency Admissions (monthly SitRep, MSitAE)",
    publisher="NHS England",
    columns=(
        Column("period", parse=SITREP_PERIOD, required=True, description="Period as published"),
        Column("org_code", required=True, description="provider ODS code, or TOTAL"),
        Column("parent_org", description="NHS England region (trailing space trimmed)"),
        Column("org_name"),
        Column(
            "is_total_row",
            "BOOLEAN",
            "upper({v}) = 'TOTAL'",
            description="the published England TOTAL row (kept in raw, excluded from provider marts)",
        ),
        *(Column(name, "BIGINT", WHOLE_NUMBER) for name in SITREP_MEASURES),
    ),
    variants=(
        SchemaVariant(
            "msitae_2025",
            SITREP_HEADER_2025,
            {**SITREP_IDENTITY, "is_total_row": "Org Code", **SITREP_MEASURES},
            provenance="six whole NHS England files, April–September 2025 (real_formats/ae_monthly): "
            "22 columns verbatim, including the publisher's typo '4-12 hs'",
        ),
        SchemaVariant(
            "msitae_era2",
            (*SITREP_IDENTITY.values(), *_ERA2_MEASURES.values()),
            {**SITREP_IDENTITY, "is_total_row": "Org Code", **_ERA2_MEASURES},
            provenance="UNVERIFIED: pre-2020 'era 2' header. The six 'Number of …' names are as "
            "third-party loaders read them; column order and the remaining names are assumed; no "
            "booked-appointment columns",
        ),
    ),
    # NHS England's own download names: Monthly-AE-April-2025.csv, July-2025-CSV-9jfy4.csv,
    # September-2025-Csv-7hjr2.csv, August-2025-CSV-g5tyh-v2.0.csv (revisions carry -v2.0).
    file_patterns=("Monthly-AE-*.csv", "*-CSV-*.csv", "*-Csv-*.csv"),
    cadence="monthly",
    # "From August 2017 our regular NHS performance statistics publication scheduled for the 2nd
    # Thursday of each month will include A&E data from the previous month" (england.nhs.uk, A&E
    # Attendances and Emergency Admissions 2017-18). The second Thursday falls on the 8th-14th, so
    # month M is loaded on the 15th of M+1: approximate (the 12-month calendar has the real dates).
    publication=Publication(
        cadence="monthly",
        day=15,
        lag_months=1,
        approximate=True,
        source="england.nhs.uk A&E attendances: second Thursday of M+1 since August 2017",
    ),
    null_tokens=("", "-"),
    description="Attendances and 4-hour waits by department type, decision-to-admit waits and "
    "emergency admissions, per provider per month, with the England TOTAL row.",
    grain=("period", "org_code"),
)

# --------------------------------------------------------------------------------------------
# ecds: record-level A&E attendances
# --------------------------------------------------------------------------------------------

ISO_DATE = (
    r"case when regexp_full_match({v}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}([ T]00:00:00(\.0+)?)?') "
    r"then try_cast(left({v}, 10) as date) end"
)
# Der_Activity_Month is YYYYMM.
ACTIVITY_MONTH = "case when regexp_full_match({v}, '20[0-9]{{2}}(0[1-9]|1[0-2])') then {v} end"

ECDS_COLUMNS = (
    Column("attendance_id", required=True, description="EC_Ident / AEKEY"),
    Column("activity_month", parse=ACTIVITY_MONTH, description="Der_Activity_Month, YYYYMM"),
    Column("financial_year", description="Der_Financial_Year (2021/22) or FYEAR (0708)"),
    Column("provider_code", required=True, description="Der_Provider_Code / PROCODE3"),
    Column("provider_code_5", description="PROCODE5 (HES only)"),
    Column("provider_site_code", description="Der_Provider_Site_Code / SITETRET"),
    Column("department_type", description="EC_Department_Type / AEDEPTTYPE: 01, 02, 03, 04 (99 HES unknown)"),
    Column("arrival_date", "DATE", ISO_DATE, required=True),
    # Times are kept as published (HH:MM:SS in SUS, HHMM in HES; HES writes 3000/4000 sentinels
    # in some time fields): staging parses them, a suite counts the unreadable ones, and an
    # attendance is never dropped for its clock time.
    Column("arrival_time", description="Arrival_Time / ARRIVALTIME as published"),
    Column("age_at_arrival", "INTEGER", WHOLE_NUMBER, description="years; HES 7001-7007 = under 1"),
    Column("sex", description="1 male, 2 female, 9 not specified, 0/X not known"),
    Column("ethnic_category"),
    Column("gp_practice_code", description="registered practice; V81997/V81998/V81999 defaults"),
    Column("commissioner_code", description="Der_Commissioner_Code / CCG_RESPONSIBILITY"),
    Column("lsoa_2011_code", description="Der_Postcode_LSOA_2011_Code / LSOA11"),
    Column("lsoa_2001_code", description="LSOA01 (HES only)"),
    Column("imd_decile", description="Index_Of_Multiple_Deprivation_Decile as published"),
    Column("arrival_mode", description="EC_Arrival_Mode_SNOMED_CT / AEARRIVALMODE"),
    Column("attendance_category", description="EC_AttendanceCategory / AEATTENDCAT"),
    Column("chief_complaint", description="EC_Chief_Complaint_SNOMED_CT"),
    Column("discharge_status", description="EC_Discharge_Status_SNOMED_CT / AEATTENDDISP"),
    Column("diagnosis_all", description="Der_EC_Diagnosis_All: comma-separated SNOMED CT, primary first"),
    Column("diag_01", description="HES DIAG_01 (6-character A&E diagnosis)"),
    Column("diag3_01", description="HES DIAG3_01 (3-character A&E diagnosis)"),
    Column("departure_date_time", description="Der_EC_Departure_Date_Time as published"),
    Column("departure_time", description="HES DEPTIME as published (HHMM)"),
    Column("duration_minutes", "INTEGER", WHOLE_NUMBER, description="Der_EC_Duration / DEPDUR"),
    Column("finished_indicator", "INTEGER", WHOLE_NUMBER, description="1 = finished attendance"),
    Column("dupe_flag", "INTEGER", WHOLE_NUMBER, description="Der_Dupe_Flag: 1 = duplicate record"),
    Column("hrg_code", description="SUS_HRG_Code / SUSHRG"),
    Column("tariff", "DOUBLE", description="SUS_Tariff (£)"),
    Column("final_price", "DOUBLE", description="SUS_Final_Price (£, after MFF)"),
)

ECDS_FIELDS: dict[str, str] = {
    "attendance_id": "EC_Ident",
    "activity_month": "Der_Activity_Month",
    "financial_year": "Der_Financial_Year",
    "provider_code": "Der_Provider_Code",
    "provider_site_code": "Der_Provider_Site_Code",
    "department_type": "EC_Department_Type",
    "arrival_date": "Arrival_Date",
    "arrival_time": "Arrival_Time",
    "age_at_arrival": "Age_At_Arrival",
    "sex": "Sex",
    "ethnic_category": "Ethnic_Category",
    "gp_practice_code": "GP_Practice_Code",
    "commissioner_code": "Der_Commissioner_Code",
    "lsoa_2011_code": "Der_Postcode_LSOA_2011_Code",
    "imd_decile": "Index_Of_Multiple_Deprivation_Decile",
    "arrival_mode": "EC_Arrival_Mode_SNOMED_CT",
    "attendance_category": "EC_AttendanceCategory",
    "chief_complaint": "EC_Chief_Complaint_SNOMED_CT",
    "discharge_status": "EC_Discharge_Status_SNOMED_CT",
    "diagnosis_all": "Der_EC_Diagnosis_All",
    "departure_date_time": "Der_EC_Departure_Date_Time",
    "duration_minutes": "Der_EC_Duration",
    "finished_indicator": "Finished_Indicator",
    "dupe_flag": "Der_Dupe_Flag",
    "hrg_code": "SUS_HRG_Code",
    "tariff": "SUS_Tariff",
    "final_price": "SUS_Final_Price",
}
# Every ECDS extract seen carries these; the rest depend on the agreement.
_ECDS_CORE = {
    "EC_Ident",
    "Arrival_Date",
    "Arrival_Time",
    "Age_At_Arrival",
    "Sex",
    "EC_Department_Type",
    "Der_Provider_Code",
}

HES_AE_FIELDS: dict[str, str] = {
    "attendance_id": "AEKEY",
    "financial_year": "FYEAR",
    "provider_code": "PROCODE3",
    "provider_code_5": "PROCODE5",
    "provider_site_code": "SITETRET",
    "department_type": "AEDEPTTYPE",
    "arrival_date": "ARRIVALDATE",
    "arrival_time": "ARRIVALTIME",
    "age_at_arrival": "ARRIVALAGE",
    "sex": "SEX",
    "ethnic_category": "ETHNOS",
    "gp_practice_code": "GPPRAC",
    "commissioner_code": "CCG_RESPONSIBILITY",
    "lsoa_2011_code": "LSOA11",
    "lsoa_2001_code": "LSOA01",
    "arrival_mode": "AEARRIVALMODE",
    "attendance_category": "AEATTENDCAT",
    "discharge_status": "AEATTENDDISP",
    "diag_01": "DIAG_01",
    "diag3_01": "DIAG3_01",
    "departure_time": "DEPTIME",
    "duration_minutes": "DEPDUR",
    "hrg_code": "SUSHRG",
}
_HES_AE_CORE = {"AEKEY", "ARRIVALDATE", "ARRIVALAGE", "SEX", "AEDEPTTYPE", "PROCODE3"}

ECDS_SUS = SchemaVariant(
    "ecds_sus",
    tuple(ECDS_FIELDS.values()),
    ECDS_FIELDS,
    subset=True,
    optional=frozenset(set(ECDS_FIELDS.values()) - _ECDS_CORE),
    provenance="SUS+/NCDR ECDS field names (opensafely ehrql tpp_schema ECDS table; NHSE SQL reading "
    "tbl_Data_SUS_EC). GP_Practice_Code is UNVERIFIED for ECDS (named as in SUS APCS); no real "
    "ECDS extract was seen",
)
HES_AE = SchemaVariant(
    "hes_ae",
    tuple(HES_AE_FIELDS.values()),
    HES_AE_FIELDS,
    subset=True,
    optional=frozenset(set(HES_AE_FIELDS.values()) - _HES_AE_CORE),
    provenance="HES A&E field names: NHS Digital artificial HES A&E 2007/08 file "
    "(real_formats/hes_artificial, 165 columns) and The-Strategy-Unit/hes_processing ae/bronze/schemas.py",
)

ECDS = FeedSpec(
    name="ecds",
    licence="data_sharing_agreement",
    title="Emergency Care Data Set (SUS+/NCDR extract), with HES A&E as the older layout",
    publisher="NHS England (SUS+, NCDR); NHS Digital (HES A&E)",
    columns=ECDS_COLUMNS,
    variants=(
        ECDS_SUS,
        replace(
            ECDS_SUS,
            name="ecds_sus_pipe",
            delimiter="|",
            provenance="as ecds_sus, pipe-delimited as DARS ships extracts (delimiter verified for HES "
            "DARS by The-Strategy-Unit/hes_processing; for ECDS UNVERIFIED)",
        ),
        HES_AE,
        replace(
            HES_AE,
            name="hes_ae_dars_pipe",
            delimiter="|",
            provenance="as hes_ae, pipe-delimited DARS extract with a header row",
        ),
    ),
    # Extract names are set by whoever cuts them (UNVERIFIED): ours, DARS NIC-numbered files and
    # the artificial HES files.
    file_patterns=(
        "ECDS_*.zip",
        "ECDS_*.csv",
        "ECDS_*.txt",
        "NIC*_ECDS_*.txt",
        "NIC*_HES_AE_*.txt",
        "HES_AE_*.csv",
        "HES_AE_*.txt",
        "artificial_hes_ae_*.csv",
    ),
    cadence="monthly",
    # ECDS is submitted to SUS+ daily and processed on a "provisional monthly cycle and finalised
    # annual cycle" (digital.nhs.uk ECDS data product fundamentals); OpenSAFELY sees it
    # "approximately 1-2 months" after the event (docs.opensafely.org/data-sources/ecds), and
    # feeds_and_methods.md §11 gives ~2 months. As the other SUS+ feeds (HES_SUS_RELEASES in
    # defs/activity/feeds.py), month M is loaded on the 20th of M+2: approximate.
    publication=Publication(
        cadence="monthly",
        day=20,
        lag_months=2,
        approximate=True,
        source="digital.nhs.uk ECDS: provisional monthly cycle; OpenSAFELY: ~1-2 months' delay",
    ),
    # HES writes `&` for "not known" in code fields (seen in GPPRAC of the artificial file).
    null_tokens=("", "NULL", "&"),
    max_quarantine_share=0.2,
    description="One row per A&E attendance record as extracted, duplicates and unfinished "
    "attendances included (Der_Dupe_Flag, Finished_Indicator).",
    grain=("attendance_id",),
)

URGENT_CARE_FEEDS = (AE_MONTHLY, ECDS)
