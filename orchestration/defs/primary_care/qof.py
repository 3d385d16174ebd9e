"""Quality and Outcomes Framework (QOF): NHS Digital's (now NHS England's) annual practice-level
CSV files, the prevalence file (register sizes and list sizes per disease group) and the
achievement file (numerator, denominator, personalised care adjustments, points per indicator).

Every layout, the years it was used, its verbatim header and where each name was confirmed is in
QOF_LAYOUTS.md beside this module (the reference section for this feed); the `provenance` of each
variant below repeats the short form. In brief:

- Prevalence, 2015-16 to 2018-19 (`PREVALENCE.csv`, `PREVALENCE_1819_v2.csv`): `PRACTICE_CODE,
  INDICATOR_GROUP_CODE, REGISTER, PATIENT_LIST_TYPE, PATIENT_LIST_SIZE` [3P].
- Prevalence, 2019-20 (`PREVALENCE_1920.csv`): `INDICATOR_GROUP_CODE` became `GROUP_CODE` [3P];
  the position of `PATIENT_LIST_TYPE` in that year is UNVERIFIED.
- Prevalence, 2020-21 onward (`PREVALENCE_2021_v2.csv`, `PREVALENCE_2122_V2.csv`,
  `PREVALENCE_2223.csv` …): `PRACTICE_CODE, GROUP_CODE, REGISTER, PATIENT_LIST_TYPE,
  PRACTICE_LIST_SIZE` [V: the publisher's own code for 2022-23 and 2023-24; 3P for 2020-21 and
  2021-22].
- Achievement, national file (`ACHIEVEMENT_EXCEPTIONS.csv` 2015-16 …, `ACHIEVEMENT_1920.csv`,
  `ACHIEVEMENT_2021_v2.csv`, `ACHIEVEMENT_2122.csv`): `PRACTICE_CODE, INDICATOR_CODE, MEASURE,
  VALUE` [3P; that these four are the whole header in 2020-21 and 2021-22 is partly UNVERIFIED].
- Achievement, one file per NHS region from 2022-23 (`ACHIEVEMENT_LONDON_2223.csv` …):
  `REGION_ODS_CODE, REGION_ONS_CODE, REGION_NAME, PRACTICE_CODE, INDICATOR_CODE, MEASURE, VALUE`
  [V: the publisher's code].

Each row of the prevalence file is one practice and disease group; its list size is the list the
group's prevalence is measured against (`PATIENT_LIST_TYPE`: `TOTAL`, or an age band such as
`17OV` for diabetes and `06OV` for asthma), counted at 1 April after the year ends. A practice
that closed during the year therefore has a list of 0 (the publisher writes 0 where a count is
missing: "register count as zero where no register count was provided", 2021-22 prevalence csv
update, 18 October 2022).

Suppressed cells. The publisher replaces a suppressed value by `*` (its 2022-23 code, for PCA
counts and denominators). So a value column is kept **as published** in raw: text holding a whole
number (or, for achievement values, a decimal: points are fractional) or `*`; anything else sends
the row to quarantine with the value named. Staging types it and sets `is_*_suppressed`, so a
suppressed cell is NULL with a flag and never a 0. (The loader quarantines a present value that
types to NULL, and a null token would lose the difference between `*` and a blank: hence text.)

Layout changes are caught three ways: a header none of the variants below matches raises
`UnknownSchemaVariant` naming the closest layout and the columns missing and unexpected (the
2013-14 `practicecode, indicator_group, disease_register_size, practice_listsize` layout, for
instance, is not loaded); the structure suites refuse a file whose name states another financial
year than its folder; and an unknown `MEASURE` (the vocabulary changed in 2019-20, EXCEPTIONS to
PCAS, and 2023-24 added NEWLY_DIAGNOSED) blocks the load until it is named here and in the suite.
"""

from __future__ import annotations

from orchestration.lib.feed_spec import Column, FeedSpec, Publication, SchemaVariant

# A count as published: a whole number (`12`, or Excel's `12.0`) or `*` (suppressed), kept as text;
# any other value is NULL and so quarantines its row. Negative counts pass, so the structure
# suite names them instead of quarantine hiding them (as feed_spec.WHOLE_NUMBER).
SUPPRESSED = "*"
COUNT_AS_PUBLISHED = r"case when {v} = '*' or regexp_full_match({v}, '-?[0-9]+(\.0+)?') then {v} end"
COUNT_EXPECTED = "whole number or * (suppressed)"
# An achievement value as published: counts and fractional points (`11.45`), or `*`.
NUMBER_AS_PUBLISHED = r"case when {v} = '*' or regexp_full_match({v}, '-?[0-9]+(\.[0-9]+)?') then {v} end"

# The measures of the achievement file, by era (QOF_LAYOUTS.md): EXCEPTIONS until 2018-19, PCAS
# (personalised care adjustments) from 2019-20, NEWLY_DIAGNOSED for DEP004 from 2023-24. Another
# value is a vocabulary change and blocks the load (expectations/qof_achievement__structure.json).
MEASURES = (
    "REGISTER",
    "NUMERATOR",
    "DENOMINATOR",
    "PCAS",
    "EXCEPTIONS",
    "ACHIEVED_POINTS",
    "NEWLY_DIAGNOSED",
)

# QOF is published once a year for the year to 31 March: 2021-22's prevalence csv was re-issued
# on 18 October 2022 ("updated to include GP practices register count as zero where no register
# count was provided"), and a 2022-23 correction is dated 29 September 2023 (digital.nhs.uk QOF
# publication pages). The release folder is <YYYY>-04, the April that starts the financial year
# the file reports (as the tariff and National Cost Collection feeds). Loaded on 15 October:
# approximate.
QOF_RELEASES = Publication(
    cadence="annual",
    months=(10,),
    day=15,
    approximate=True,
    source="digital.nhs.uk QOF 2021-22 (prevalence csv re-issued 18 Oct 2022); 2022-23 fixed 29 Sep 2023",
)

# --------------------------------------------------------------------------------------------
# Prevalence: one row per practice and disease group
# --------------------------------------------------------------------------------------------

PREVALENCE_COLUMNS = (
    Column("practice_code", required=True, description="ODS practice code (PRACTICE_CODE)"),
    Column(
        "group_code",
        required=True,
        description="disease group (GROUP_CODE; INDICATOR_GROUP_CODE to 2018-19), e.g. DM, DEM, STIA",
    ),
    Column(
        "register",
        parse=COUNT_AS_PUBLISHED,
        expected=COUNT_EXPECTED,
        description="patients on the disease register (REGISTER), as published: a whole number or `*`",
    ),
    Column(
        "patient_list_type",
        description="the list the prevalence is measured against (PATIENT_LIST_TYPE): TOTAL or an age band "
        "such as 17OV",
    ),
    Column(
        "practice_list_size",
        parse=COUNT_AS_PUBLISHED,
        expected=COUNT_EXPECTED,
        description="patients on that list at 1 April after the year (PRACTICE_LIST_SIZE; PATIENT_LIST_SIZE "
        "to 2019-20), as published: a whole number or `*`",
    ),
)

PREVALENCE_INDICATOR_GROUP_2015 = (
    "PRACTICE_CODE",
    "INDICATOR_GROUP_CODE",
    "REGISTER",
    "PATIENT_LIST_TYPE",
    "PATIENT_LIST_SIZE",
)
PREVALENCE_GROUP_CODE_2019 = (
    "PRACTICE_CODE",
    "GROUP_CODE",
    "REGISTER",
    "PATIENT_LIST_TYPE",
    "PATIENT_LIST_SIZE",
)
PREVALENCE_PRACTICE_LIST_2020 = (
    "PRACTICE_CODE",
    "GROUP_CODE",
    "REGISTER",
    "PATIENT_LIST_TYPE",
    "PRACTICE_LIST_SIZE",
)


def _prevalence_mapping(columns: tuple[str, ...]) -> dict[str, str]:
    return dict(
        zip(
            ("practice_code", "group_code", "register", "patient_list_type", "practice_list_size"),
            columns,
            strict=True,
        )
    )


QOF_PREVALENCE = FeedSpec(
    name="qof_prevalence",
    title="Quality and Outcomes Framework prevalence (registers and list sizes by practice)",
    publisher="NHS Digital (NHS England from February 2023)",
    columns=PREVALENCE_COLUMNS,
    variants=(
        SchemaVariant(
            "prevalence_practice_list_2020",
            PREVALENCE_PRACTICE_LIST_2020,
            _prevalence_mapping(PREVALENCE_PRACTICE_LIST_2020),
            provenance=(
                "2020-21 onward (PREVALENCE_2021_v2.csv, PREVALENCE_2122_V2.csv, PREVALENCE_2223.csv, "
                "PREVALENCE_2324.csv). V: names and order from the publisher's own code, NHSDigital/QOF "
                "QOF_22_23_v2.ipynb and QOF_23_24.ipynb ('PREVALENCE.CSV' cell: REGISTER_SIZE, LIST_TYPE, "
                "LIST_SIZE renamed REGISTER, PATIENT_LIST_TYPE, PRACTICE_LIST_SIZE) and its "
                "public_metadata/PREVIOUS_PREVALENCE.csv header. 3P for 2020-21 and 2021-22: "
                "Autonomy-Data-Unit/annual-deprivation-index config/qof_schemas.toml ('PRACTICE_LIST_SIZE "
                "(not PATIENT_)'); a 2021-22 R loader reads columns 1, 2, 3, 5 by position"
            ),
        ),
        SchemaVariant(
            "prevalence_group_code_2019",
            PREVALENCE_GROUP_CODE_2019,
            _prevalence_mapping(PREVALENCE_GROUP_CODE_2019),
            provenance=(
                "2019-20 (PREVALENCE_1920.csv). 3P: Autonomy-Data-Unit/annual-deprivation-index "
                "config/qof_schemas.toml (GROUP_CODE, REGISTER, PATIENT_LIST_SIZE; 'Switches from "
                "INDICATOR_GROUP_CODE to GROUP_CODE') and an R script reading PREVALENCE_1920.csv by "
                "those names. PATIENT_LIST_TYPE and the column order are UNVERIFIED for this year"
            ),
        ),
        SchemaVariant(
            "prevalence_indicator_group_2015",
            PREVALENCE_INDICATOR_GROUP_2015,
            _prevalence_mapping(PREVALENCE_INDICATOR_GROUP_2015),
            provenance=(
                "2015-16 to 2018-19 (PREVALENCE.csv; PREVALENCE_1819_v2.csv). 3P: an R script's str() of "
                "qof-1516-csv/PREVALENCE.csv (practice_code, indicator_group_code, register, "
                "patient_list_type, patient_list_size, in that order, names lower-cased by the script) "
                "and Autonomy-Data-Unit/annual-deprivation-index config/qof_schemas.toml (upper case, "
                "2015-16 to 2018-19). The upper case is the config's; 2016-17 to 2018-19 order UNVERIFIED"
            ),
        ),
    ),
    file_patterns=("PREVALENCE_*.csv", "PREVALENCE.csv"),
    cadence="snapshot",
    publication=QOF_RELEASES,
    description=(
        "Disease registers and the list each is measured against, per practice, for one financial "
        "year (release folder <YYYY>-04 of the year's start), published in the autumn after the "
        "year. Values are kept as published (a count or `*`, suppressed); staging types them."
    ),
    grain=("practice_code", "group_code"),
)

# --------------------------------------------------------------------------------------------
# Achievement: one row per practice, indicator and measure (long)
# --------------------------------------------------------------------------------------------

ACHIEVEMENT_COLUMNS = (
    Column("region_ods_code", description="NHS England region ODS code (REGION_ODS_CODE; regional files)"),
    Column("region_ons_code", description="NHS England region ONS code (REGION_ONS_CODE; regional files)"),
    Column("region_name", description="region name as the file spells it, e.g. LONDON (REGION_NAME)"),
    Column("practice_code", required=True, description="ODS practice code (PRACTICE_CODE)"),
    Column("indicator_code", required=True, description="QOF indicator (INDICATOR_CODE), e.g. DM017"),
    Column(
        "measure",
        required=True,
        description="which figure of the indicator (MEASURE): REGISTER, NUMERATOR, DENOMINATOR, PCAS, "
        "ACHIEVED_POINTS …",
    ),
    Column(
        "value",
        parse=NUMBER_AS_PUBLISHED,
        expected="number or * (suppressed)",
        description="the figure (VALUE), as published: a number (points may be fractional) or `*`",
    ),
)

ACHIEVEMENT_NATIONAL = ("PRACTICE_CODE", "INDICATOR_CODE", "MEASURE", "VALUE")
ACHIEVEMENT_REGIONAL_2022 = (
    "REGION_ODS_CODE",
    "REGION_ONS_CODE",
    "REGION_NAME",
    "PRACTICE_CODE",
    "INDICATOR_CODE",
    "MEASURE",
    "VALUE",
)

QOF_ACHIEVEMENT = FeedSpec(
    name="qof_achievement",
    title="Quality and Outcomes Framework achievement and PCAs by practice and indicator",
    publisher="NHS Digital (NHS England from February 2023)",
    columns=ACHIEVEMENT_COLUMNS,
    variants=(
        SchemaVariant(
            "achievement_national",
            ACHIEVEMENT_NATIONAL,
            {
                "practice_code": "PRACTICE_CODE",
                "indicator_code": "INDICATOR_CODE",
                "measure": "MEASURE",
                "value": "VALUE",
            },
            provenance=(
                "One national file: ACHIEVEMENT_EXCEPTIONS.csv (2015-16; 4 columns in an R script's str(), "
                "measures ACHIEVED_POINTS, REGISTER, DENOMINATOR, EXCEPTIONS …), ACHIEVEMENT_1920.csv, "
                "ACHIEVEMENT_2021_v2.csv (2020-21), ACHIEVEMENT_2122.csv (2021-22). 3P: "
                "wylie102/QOF-visualisation staging models and an R loader of ACHIEVEMENT_2122.csv "
                "(MEASURE NUMERATOR, DENOMINATOR, PCAS) read these four names; that they are the whole "
                "header in 2019-20 to 2021-22 is UNVERIFIED, supported by the publisher's "
                "public_metadata/PREVIOUS_ACHIEVEMENTS_PCAS.csv (NHSDigital/QOF), the previous year's "
                "achievement as its 2022-23 process reads it, with exactly these four"
            ),
        ),
        SchemaVariant(
            "achievement_regional_2022",
            ACHIEVEMENT_REGIONAL_2022,
            {
                "region_ods_code": "REGION_ODS_CODE",
                "region_ons_code": "REGION_ONS_CODE",
                "region_name": "REGION_NAME",
                "practice_code": "PRACTICE_CODE",
                "indicator_code": "INDICATOR_CODE",
                "measure": "MEASURE",
                "value": "VALUE",
            },
            provenance=(
                "2022-23 onward, one file per NHS region (ACHIEVEMENT_<REGION_NAME>_2223.csv, region name "
                "upper case with underscores). V: NHSDigital/QOF QOF_22_23_v2.ipynb and QOF_23_24.ipynb "
                "('ACHIEVEMENT.CSV' cell: the region, practice and indicator columns, the measures stacked "
                "as MEASURE/VALUE, blank values dropped; 'Export CSVs' cell writes one file per region)"
            ),
        ),
    ),
    file_patterns=("ACHIEVEMENT_*.csv",),
    cadence="snapshot",
    # Regional files from 2022-23: every file in the release folder is part of the year.
    files_per_period="all",
    publication=QOF_RELEASES,
    description=(
        "Each indicator's register, numerator, denominator, personalised care adjustments (PCAS; "
        "EXCEPTIONS to 2018-19) and points per practice, long (MEASURE, VALUE), for one financial year "
        "(release folder <YYYY>-04). One national file to 2021-22, one per NHS region from 2022-23: "
        "every ACHIEVEMENT_*.csv in the folder is loaded, so do not keep a superseded file beside its "
        "re-issue (the structure suite refuses the repeated rows). Values are kept as published."
    ),
    grain=("practice_code", "indicator_code", "measure"),
)

QOF_FEEDS = (QOF_PREVALENCE, QOF_ACHIEVEMENT)
