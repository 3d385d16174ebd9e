"""Record-level hospital activity: HES / SUS admitted patient care and HES outpatients.

Layouts (../shared/reference/feeds_and_methods.md §3.1–3.3; real layout in
../shared/real_formats/hes_artificial):

* **HES extracts** (NHS England DARS): one row per consultant episode (APC) or appointment (OPA),
  HES field names. An extract carries the fields its data-sharing agreement lists, in any order,
  so the variants are *subset* variants: the header must hold the core fields; the others are
  optional (in 2019/20 and 2020/21 `DISMETH` was at first missing). DARS ships them
  pipe-delimited; the artificial HES files NHS Digital published are comma-separated. A DARS
  extract without a header cannot be read safely (its field list lives in the agreement) and is
  refused with that explanation.
* **SUS+ / NCDR APCS** (commissioner-facing): one row per *spell*, SUS names (`APCS_Ident`,
  `Admission_Date`, `Der_Diagnosis_All` …). Loaded into the same canonical columns; staging
  treats each row as a one-episode spell. Field names verified from opensafely-core/ehrql
  `tests/lib/tpp_schema.py` and NHS England SQL (feeds_and_methods §3.2); the combination in one
  extract and the delimiter are ASSUMED.

Landing convention: one file a month holding the episodes that ended in that month
(`EPIEND`), as a monthly SUS/HES provisional extract; the validation suite checks it.

Codes are kept as published text. Null markers: empty, and the HES date sentinels 1800-01-01
(null) and 1801-01-01 (invalid); `-` (no procedure, no diagnosis) is kept as published and
handled in staging, because it is a value, not a gap.
"""

from __future__ import annotations

from orchestration.lib.feed_spec import AMOUNT, WHOLE_NUMBER, Column, FeedSpec, Publication, SchemaVariant

HES_DATE = "try_strptime({v}, ['%Y-%m-%d', '%d/%m/%Y', '%Y%m%d'])::date"
HES_NULLS = ("", "1800-01-01", "1801-01-01", "null", "NULL")

N_DIAG, N_OPER = 20, 24
DIAGNOSES = tuple(f"diag_4_{i:02d}" for i in range(1, N_DIAG + 1))
PROCEDURES = tuple(f"opertn_4_{i:02d}" for i in range(1, N_OPER + 1))

APC_COLUMNS = (
    Column("epikey", required=True, description="episode key (EPIKEY); the SUS spell id for SUS rows"),
    Column("fyear", description="financial year, e.g. 2223"),
    Column("patient_id", description="pseudonymised patient id (PSEUDO_HESID / Der_Pseudo_NHS_Number)"),
    Column("spell_id", description="provider spell id where the extract has one (SUSSPELLID / APCS_Ident)"),
    Column("admidate", "DATE", HES_DATE, required=True, description="admission date (start of spell)"),
    Column("disdate", "DATE", HES_DATE, description="discharge date (end of spell); empty while in hospital"),
    Column("epistart", "DATE", HES_DATE, description="episode start"),
    Column("epiend", "DATE", HES_DATE, description="episode end"),
    Column(
        "epiorder", "INTEGER", WHOLE_NUMBER, description="position of the episode in its spell (1 = first)"
    ),
    Column("epistat", "INTEGER", WHOLE_NUMBER, description="3 = finished episode, 1 = unfinished"),
    Column("spelbgin", "INTEGER", WHOLE_NUMBER, description="0 = not the first episode of the spell"),
    Column("spelend", description="Y = last episode of the spell"),
    Column("epidur", "INTEGER", WHOLE_NUMBER, description="episode duration, days"),
    Column(
        "spell_los", "INTEGER", WHOLE_NUMBER, description="spell length of stay, days (SUS Der_Spell_LoS)"
    ),
    Column("admimeth", required=True, description="admission method (NHS DD METHOD OF ADMISSION)"),
    Column("admisorc", description="source of admission"),
    Column("classpat", description="patient classification: 1 ordinary, 2 day case, 3/4 regular attender"),
    Column("dismeth", description="discharge method (4 = died)"),
    Column("disdest", description="discharge destination"),
    Column(
        "startage", "INTEGER", WHOLE_NUMBER, description="age at episode start; 7001-7007 = under one year"
    ),
    Column("sex", description="1 male, 2 female, 0 not known, 9 not specified"),
    Column("gpprac", description="registered GP practice; V81997/V81998/V81999 are defaults"),
    Column("procode3", required=True, description="provider (trust) code, 3 characters"),
    Column("procode5", description="provider site code, 5 characters"),
    Column("sitetret", description="site of treatment"),
    Column("mainspef", description="main specialty of the consultant"),
    Column("tretspef", description="treatment function"),
    *(Column(name, description=f"diagnosis {name[-2:]}, ICD-10, 4 characters") for name in DIAGNOSES),
    Column(
        "diag_all", description="all diagnoses as one delimited string (DIAG_4_CONCAT / Der_Diagnosis_All)"
    ),
    *(Column(name, description=f"procedure {name[-2:]}, OPCS-4") for name in PROCEDURES),
    Column("opertn_all", description="all procedures as one delimited string"),
    Column("sushrg", description="HRG assigned by SUS (episode HRG; spell core HRG for SUS rows)"),
    Column("ccg_responsibility", description="commissioner of responsibility (derived by HES/SUS)"),
    Column("ccg_residence", description="commissioner of residence"),
    Column("lsoa11", description="LSOA 2011 of residence"),
    Column("activity_month", description="SUS Der_Activity_Month, YYYYMM"),
    Column("sus_tariff_total", "DOUBLE", AMOUNT, description="SUS Tariff_Total_Payment, £ (when supplied)"),
)

_HES_APC = {
    "epikey": "EPIKEY",
    "fyear": "FYEAR",
    "patient_id": "PSEUDO_HESID",
    "spell_id": "SUSSPELLID",
    "admidate": "ADMIDATE",
    "disdate": "DISDATE",
    "epistart": "EPISTART",
    "epiend": "EPIEND",
    "epiorder": "EPIORDER",
    "epistat": "EPISTAT",
    "spelbgin": "SPELBGIN",
    "spelend": "SPELEND",
    "epidur": "EPIDUR",
    "spell_los": "SPELDUR",
    "admimeth": "ADMIMETH",
    "admisorc": "ADMISORC",
    "classpat": "CLASSPAT",
    "dismeth": "DISMETH",
    "disdest": "DISDEST",
    "startage": "STARTAGE",
    "sex": "SEX",
    "gpprac": "GPPRAC",
    "procode3": "PROCODE3",
    "procode5": "PROCODE5",
    "sitetret": "SITETRET",
    "mainspef": "MAINSPEF",
    "tretspef": "TRETSPEF",
    **{name: name.upper() for name in DIAGNOSES},
    "diag_all": "DIAG_4_CONCAT",
    **{name: name.upper() for name in PROCEDURES},
    "opertn_all": "OPERTN_4_CONCAT",
    "sushrg": "SUSHRG",
    "ccg_responsibility": "CCG_RESPONSIBILITY",
    "ccg_residence": "CCG_RESIDENCE",
    "lsoa11": "LSOA11",
}
# Fields an APC extract must hold to be usable; every other mapped field may be absent.
_APC_CORE = {
    "EPIKEY",
    "ADMIDATE",
    "EPIEND",
    "EPIORDER",
    "EPISTAT",
    "ADMIMETH",
    "CLASSPAT",
    "STARTAGE",
    "SEX",
    "GPPRAC",
    "PROCODE3",
    "DIAG_4_01",
}

_SUS_APCS = {
    "epikey": "APCS_Ident",
    "spell_id": "APCS_Ident",
    "patient_id": "Der_Pseudo_NHS_Number",
    "admidate": "Admission_Date",
    "disdate": "Discharge_Date",
    "spell_los": "Der_Spell_LoS",
    "admimeth": "Admission_Method",
    "admisorc": "Source_of_Admission",
    "classpat": "Patient_Classification",
    "dismeth": "Discharge_Method",
    "disdest": "Discharge_Destination",
    "startage": "Der_Age_at_CDS_Activity_Date",
    "sex": "Sex",
    "gpprac": "GP_Practice_Code",
    "procode3": "Der_Provider_Code",
    "procode5": "Der_Provider_Site_Code",
    "tretspef": "Der_Admit_Treatment_Function_Code",
    "mainspef": "Der_Dischg_Treatment_Function_Code",
    "diag_all": "Der_Diagnosis_All",
    "opertn_all": "Der_Procedure_All",
    "sushrg": "Spell_Core_HRG_SUS",
    "ccg_responsibility": "Der_Commissioner_Code",
    "ccg_residence": "Der_Postcode_CCG_Code",
    "lsoa11": "Der_Postcode_LSOA_2011_Code",
    "activity_month": "Der_Activity_Month",
    "sus_tariff_total": "Tariff_Total_Payment",
}
_SUS_CORE = {
    "APCS_Ident",
    "Admission_Date",
    "Discharge_Date",
    "Admission_Method",
    "Patient_Classification",
    "Der_Age_at_CDS_Activity_Date",
    "Sex",
    "GP_Practice_Code",
    "Der_Provider_Code",
    "Der_Diagnosis_All",
}


def _extract(
    name: str, mapping: dict[str, str], core: set[str], delimiter: str, provenance: str
) -> SchemaVariant:
    columns = tuple(dict.fromkeys(mapping.values()))
    return SchemaVariant(
        name,
        columns,
        mapping,
        provenance=provenance,
        delimiter=delimiter,
        subset=True,
        optional=frozenset(set(columns) - core),
    )


# SUS+/HES: providers submit a month to SUS by a deadline around the 20th of the next month
# (the 2011/12 provisional HES notes: data "submitted to SUS by 22/8/2011 (Month 4)", i.e. July);
# provisional monthly HES follows 35-37 working days after the deadline, about M+3 (digital.nhs.uk
# Provisional Monthly HES, April-July 2011); feeds_and_methods.md §11 gives ~2-3 months (UNVERIFIED).
# Commissioners' SUS+ extracts come after the deadline, so a month is loaded on the 20th of M+2:
# approximate. A later DARS HES extract is loaded by the landing sensor or a backfill.
HES_SUS_RELEASES = Publication(
    cadence="monthly",
    day=20,
    lag_months=2,
    approximate=True,
    source="digital.nhs.uk provisional monthly HES: SUS deadline ~20th of M+1, HES ~M+3",
)

HES_APC = FeedSpec(
    name="hes_apc",
    licence="data_sharing_agreement",
    title="Hospital Episode Statistics admitted patient care (record level)",
    publisher="NHS England (HES / SUS+)",
    columns=APC_COLUMNS,
    variants=(
        _extract(
            "hes_apc_dars_pipe",
            _HES_APC,
            _APC_CORE,
            "|",
            "HES APC field names (feeds_and_methods §3.1; The-Strategy-Unit hes_processing); "
            "pipe-delimited DARS extract with a header",
        ),
        _extract(
            "hes_apc_csv",
            _HES_APC,
            _APC_CORE,
            ",",
            "NHS Digital artificial HES APC file (../shared/real_formats/hes_artificial), comma-separated",
        ),
        _extract(
            "sus_apcs_spell",
            _SUS_APCS,
            _SUS_CORE,
            ",",
            "SUS+/NCDR APCS spell fields (ehrql tpp_schema APCS; NHS England SQL); one row per spell; "
            "the set of fields in one extract is ASSUMED",
        ),
    ),
    file_patterns=(
        "*_APC_*.txt",
        "*_APC_*.csv",
        "*_APC_*.zip",
        "*apc*.csv",
        "*apc*.txt",
        "*apc*.zip",
        "*APCS*",
    ),
    cadence="monthly",
    publication=HES_SUS_RELEASES,
    null_tokens=HES_NULLS,
    description="Finished consultant episodes (or SUS spells) with admission, discharge, diagnoses, "
    "procedures, HRG, provider and registered practice.",
    grain=("epikey",),
    period_column="epiend",
)

OPA_COLUMNS = (
    Column("attendkey", required=True, description="appointment key (ATTENDKEY)"),
    Column("fyear", description="financial year, e.g. 2223"),
    Column("patient_id", description="pseudonymised patient id"),
    Column("apptdate", "DATE", HES_DATE, required=True, description="appointment date"),
    Column("apptage", "INTEGER", WHOLE_NUMBER, description="age at appointment; 7001-7007 = under one year"),
    Column("sex", description="1 male, 2 female, 0 not known, 9 not specified"),
    Column("attended", description="5/6 attended, 3/7 did not attend, 2/4 cancelled, 0 not applicable"),
    Column("firstatt", description="1/3 first, 2/4 follow-up (3/4 by telephone or video), 5 RTT event"),
    Column("outcome", description="1 discharged, 2 another appointment, 3 appointment to be made"),
    Column("priority", description="priority type of the referral"),
    Column("refsourc", description="source of referral"),
    Column("stafftyp", description="medical staff type seeing the patient"),
    Column("atentype", description="attendance type (HES derived)"),
    Column("tretspef", description="treatment function"),
    Column("mainspef", description="main specialty"),
    Column("procode3", required=True, description="provider (trust) code"),
    Column("procode5", description="provider site code"),
    Column("sitetret", description="site of treatment"),
    Column("gpprac", description="registered GP practice"),
    Column("ccg_responsibility", description="commissioner of responsibility"),
    Column("ccg_residence", description="commissioner of residence"),
    Column("lsoa11", description="LSOA 2011 of residence"),
    Column("diag_4_01", description="primary diagnosis (rarely coded in outpatients)"),
    Column("diag_all", description="all diagnoses, delimited"),
    Column("opertn_4_01", description="main procedure, OPCS-4 (outpatient procedure)"),
    Column("opertn_all", description="all procedures, delimited"),
    Column("sushrg", description="HRG assigned by SUS (WF01* attendances or a procedure HRG)"),
)

_HES_OPA = {
    "attendkey": "ATTENDKEY",
    "fyear": "FYEAR",
    "patient_id": "PSEUDO_HESID",
    "apptdate": "APPTDATE",
    "apptage": "APPTAGE",
    "sex": "SEX",
    "attended": "ATTENDED",
    "firstatt": "FIRSTATT",
    "outcome": "OUTCOME",
    "priority": "PRIORITY",
    "refsourc": "REFSOURC",
    "stafftyp": "STAFFTYP",
    "atentype": "ATENTYPE",
    "tretspef": "TRETSPEF",
    "mainspef": "MAINSPEF",
    "procode3": "PROCODE3",
    "procode5": "PROCODE5",
    "sitetret": "SITETRET",
    "gpprac": "GPPRAC",
    "ccg_responsibility": "CCG_RESPONSIBILITY",
    "ccg_residence": "CCG_RESIDENCE",
    "lsoa11": "LSOA11",
    "diag_4_01": "DIAG_4_01",
    "diag_all": "DIAG_4_CONCAT",
    "opertn_4_01": "OPERTN_4_01",
    "opertn_all": "OPERTN_4_CONCAT",
    "sushrg": "SUSHRG",
}
_OPA_CORE = {
    "ATTENDKEY",
    "APPTDATE",
    "APPTAGE",
    "SEX",
    "ATTENDED",
    "FIRSTATT",
    "TRETSPEF",
    "PROCODE3",
    "GPPRAC",
}

HES_OPA = FeedSpec(
    name="hes_opa",
    licence="data_sharing_agreement",
    title="Hospital Episode Statistics outpatient appointments (record level)",
    publisher="NHS England (HES / SUS+)",
    columns=OPA_COLUMNS,
    variants=(
        _extract(
            "hes_opa_dars_pipe",
            _HES_OPA,
            _OPA_CORE,
            "|",
            "HES OPA field names (feeds_and_methods §3.3; hes_processing opa/bronze); "
            "pipe-delimited DARS extract",
        ),
        _extract(
            "hes_opa_csv",
            _HES_OPA,
            _OPA_CORE,
            ",",
            "NHS Digital artificial HES OP file (../shared/real_formats/hes_artificial), comma-separated",
        ),
    ),
    file_patterns=(
        "*_OPA_*.txt",
        "*_OPA_*.csv",
        "*_OPA_*.zip",
        "*opa*.csv",
        "*opa*.txt",
        "*opa*.zip",
        "*_op_*.csv",
    ),
    cadence="monthly",
    publication=HES_SUS_RELEASES,
    null_tokens=HES_NULLS,
    description="Outpatient appointments (attended or not) with treatment function, first/follow-up, "
    "outcome, HRG, provider and registered practice.",
    grain=("attendkey",),
    period_column="apptdate",
)

ACTIVITY_FEEDS = (HES_APC, HES_OPA)
