"""GP Patient Survey (GPPS, Ipsos for NHS England): the annual practice-level results CSV.

What is known (feeds_and_methods §5.2) and what is assumed:

- Verified, partially: the 2021 practice CSV is lower-case and starts `practice_code,
  practice_name, stp_code, stp_name, cr_code, cr_name, ccg_code, ccg_name, distributed, received,
  resprate, q18base, q18_12, q18_12pct, q28base, q28_12, q28_12pct, q30_recoded_1pct,
  q48_merged_1pct…9pct, q49_1pct, q112_1pct…4pct, …`. The real header runs to hundreds of
  question columns that are not listed anywhere we can read.
- Verified: other years name their first columns `Practice_Code, Practice_Name, CCG_Code,
  CCG_Name, ICS_Code, ICS_Name` (HEEC). Which years, and the case of every later column, are not.
- Assumed: where the q3/q9 columns sit in either layout, and `distributed, received, resprate`
  in the mixed-case layout (matched case-insensitively, as are the question columns there).

So the two variants below are the layouts our synthetic files use (orchestration/synth/gpps.py),
built on the verified names. **A real GPPS file will not match them**: `detect_variant` will
raise `UnknownSchemaVariant` naming the missing and unexpected columns, and the fix is to paste
the real header into a new `SchemaVariant` (mapping only the columns below). The loader needs
the whole header because it matches layouts exactly.

Grammar: `qNNbase` = responses (base), `qNN_12` = combined "good" count, `qNN_12pct` = the
(weighted) proportion stored 0–1. Negative values (-97 observed) are special codes
(suppressed / not applicable).

Two design choices that follow from the loader as it is (orchestration/lib is not changed):

1. Canonical columns are named by **question number as published** (`q28base`, not
   `overall_experience_base`), because the number of one concept changes between years (2025
   redesign). Which number means which concept in which year is data:
   seeds/reference/gpps_question_map.csv. Extending the question set means adding three
   canonical columns here (`qNNbase`, `qNN_12`, `qNN_12pct`), mapping them in each variant and
   adding seed rows; the validation suite and `int_gpps_concepts_long` pick up any `qNN…` column
   by pattern. A renumbered header (q28 → q30) is a new layout and fails loudly until then.
2. Negative codes are **kept as published in raw** (DOUBLE, e.g. -97) and turned into NULL plus
   `is_suppressed` / `suppression_code` in `int_gpps_concepts_long` (and treated the same way by
   the structure suite). The loader quarantines any row whose present value parses to NULL, so
   a `parse` that maps -97 to NULL would drop the practice; a null token would lose the code.
   Nothing reads the question columns of raw or staging directly.
"""

from __future__ import annotations

from orchestration.lib.feed_spec import Column, FeedSpec, Publication, SchemaVariant

# The questions the project uses, by number; the seed says which concept each is in each year.
QUESTIONS = ("q3", "q9", "q18", "q28")
MEASURES = ("base", "_12", "_12pct")


def _question_columns() -> tuple[Column, ...]:
    descriptions = {
        "base": "responses to question {q} (base); negative = GPPS special code, kept as published",
        "_12": "combined 'good' responses to question {q}; negative = GPPS special code",
        "_12pct": "share 'good' for question {q}, 0-1 (weighted); negative = GPPS special code",
    }
    return tuple(
        Column(f"{q}{m}", "DOUBLE", description=descriptions[m].format(q=q))
        for q in QUESTIONS
        for m in MEASURES
    )


COLUMNS = (
    Column("practice_code", required=True, description="ODS practice code"),
    Column("practice_name"),
    Column("ccg_code", description="CCG (later sub-ICB location) code as published"),
    Column("ccg_name"),
    Column("stp_code", description="STP code (2021 layout)"),
    Column("stp_name"),
    Column("commissioning_region_code", description="cr_code (2021 layout)"),
    Column("commissioning_region_name"),
    Column("ics_code", description="ICS code (mixed-case layout)"),
    Column("ics_name"),
    Column("distributed", "INTEGER", description="questionnaires sent"),
    Column("received", "INTEGER", description="questionnaires returned"),
    Column("resprate", "DOUBLE", description="response rate, 0-1"),
    *_question_columns(),
)

_QUESTION_MAPPING_LOWER = {f"{q}{m}": f"{q}{m}" for q in QUESTIONS for m in MEASURES}

# 2021: the verified prefix in its published order, then columns we do not map (their names are
# verified, their values unused), then q3/q9 (names from HEEC's mapping, position assumed).
LOWER_CASE_2021 = (
    "practice_code",
    "practice_name",
    "stp_code",
    "stp_name",
    "cr_code",
    "cr_name",
    "ccg_code",
    "ccg_name",
    "distributed",
    "received",
    "resprate",
    "q18base",
    "q18_12",
    "q18_12pct",
    "q28base",
    "q28_12",
    "q28_12pct",
    "q30_recoded_1pct",
    *(f"q48_merged_{k}pct" for k in range(1, 10)),
    "q49_1pct",
    *(f"q112_{k}pct" for k in range(1, 5)),
    "q3base",
    "q3_12",
    "q3_12pct",
    "q9base",
    "q9_12",
    "q9_12pct",
)

# Other years: verified geography names (HEEC); the rest assumed, written here as HEEC spells
# question codes (`Q28_12pct`) and matched case-insensitively.
MIXED_CASE = (
    "Practice_Code",
    "Practice_Name",
    "CCG_Code",
    "CCG_Name",
    "ICS_Code",
    "ICS_Name",
    "distributed",
    "received",
    "resprate",
    *(f"Q{q[1:]}{m}" for q in QUESTIONS for m in MEASURES),
)
_CASE_INSENSITIVE = {name: f"(?i){name}" for name in MIXED_CASE[6:]}

GPPS_PRACTICE = FeedSpec(
    name="gpps_practice_results",
    title="GP Patient Survey practice results (CSV)",
    publisher="Ipsos for NHS England",
    columns=COLUMNS,
    variants=(
        SchemaVariant(
            "lower_case_stp_2021",
            LOWER_CASE_2021,
            {
                "practice_code": "practice_code",
                "practice_name": "practice_name",
                "stp_code": "stp_code",
                "stp_name": "stp_name",
                "commissioning_region_code": "cr_code",
                "commissioning_region_name": "cr_name",
                "ccg_code": "ccg_code",
                "ccg_name": "ccg_name",
                "distributed": "distributed",
                "received": "received",
                "resprate": "resprate",
                **_QUESTION_MAPPING_LOWER,
            },
            provenance=(
                "2021 practice CSV: names and order through q112_4pct verified (feeds_and_methods §5.2, "
                "Bristol repo); q3/q9 position assumed; the real file has many more columns"
            ),
        ),
        SchemaVariant(
            "mixed_case_ics",
            MIXED_CASE,
            {
                "practice_code": "Practice_Code",
                "practice_name": "Practice_Name",
                "ccg_code": "CCG_Code",
                "ccg_name": "CCG_Name",
                "ics_code": "ICS_Code",
                "ics_name": "ICS_Name",
                "distributed": "distributed",
                "received": "received",
                "resprate": "resprate",
                **{f"{q}{m}": f"Q{q[1:]}{m}" for q in QUESTIONS for m in MEASURES},
            },
            patterns=_CASE_INSENSITIVE,
            provenance=(
                "geography columns verified (HEEC, feeds_and_methods §5.2); which years, the other "
                "columns' names, case and order assumed (matched case-insensitively)"
            ),
        ),
    ),
    file_patterns=("GPPS_*Practice*.csv", "gpps_*practice*.csv"),
    cadence="snapshot",
    # Annual, fieldwork January-March, results on a Thursday in mid-July: 7 July 2016 (gov.uk),
    # 13 July 2023 (england.nhs.uk GP Patient Survey page), 11 July 2024 (gp-patient.co.uk).
    # Loaded on 15 July: approximate.
    publication=Publication(
        cadence="annual",
        months=(7,),
        day=15,
        approximate=True,
        source="GPPS results published 7 Jul 2016, 13 Jul 2023, 11 Jul 2024",
    ),
    files_per_period="newest",
    description=(
        "Practice-level survey results, one file a year (fieldwork January-March, published around "
        "July; the folder <YYYY>-07 holds survey year YYYY). Load the weighted file; the weighted and "
        "unweighted versions match the same file pattern, so drop only one in a folder."
    ),
    grain=("practice_code",),
)

GPPS_FEEDS = (GPPS_PRACTICE,)
