"""Population and deprivation feeds: English Indices of Deprivation File 7 (IoD2019, IoD2025),
ONS mid-year population estimates (Nomis CSV, by LSOA), and the ONS LSOA → sub-ICB lookup.

Layouts: ../shared/reference/feeds_and_methods.md §6.3, §6.5; the IoD2025 header is the real file
in ../shared/real_formats/imd; the IoD2019 header is as several independent loaders read it.
"""

from __future__ import annotations

from orchestration.lib.feed_spec import Column, FeedSpec, Publication, SchemaVariant

_DECILE = "Decile (where 1 is most deprived 10% of LSOAs)"
_RANK = "Rank (where 1 is most deprived)"
_DOMAINS = (
    ("Index of Multiple Deprivation (IMD) Score", "Index of Multiple Deprivation (IMD)"),
    ("Income Score (rate)", "Income"),
    ("Employment Score (rate)", "Employment"),
    ("Education, Skills and Training Score", "Education, Skills and Training"),
    ("Health Deprivation and Disability Score", "Health Deprivation and Disability"),
    ("Crime Score", "Crime"),
    ("Barriers to Housing and Services Score", "Barriers to Housing and Services"),
    ("Living Environment Score", "Living Environment"),
    (
        "Income Deprivation Affecting Children Index (IDACI) Score (rate)",
        "Income Deprivation Affecting Children Index (IDACI)",
    ),
    (
        "Income Deprivation Affecting Older People (IDAOPI) Score (rate)",
        "Income Deprivation Affecting Older People (IDAOPI)",
    ),
    ("Children and Young People Sub-domain Score", "Children and Young People Sub-domain"),
    ("Adult Skills Sub-domain Score", "Adult Skills Sub-domain"),
    ("Geographical Barriers Sub-domain Score", "Geographical Barriers Sub-domain"),
    ("Wider Barriers Sub-domain Score", "Wider Barriers Sub-domain"),
    ("Indoors Sub-domain Score", "Indoors Sub-domain"),
    ("Outdoors Sub-domain Score", "Outdoors Sub-domain"),
)


def _domain_block(truncated_children_decile: bool) -> tuple[str, ...]:
    columns: list[str] = []
    for score, stem in _DOMAINS:
        decile = f"{stem} {_DECILE}"
        if truncated_children_decile and stem.startswith("Children and Young People"):
            # IoD2025 publishes this header cut short at 80 characters.
            decile = decile[:80]
        columns += [score, f"{stem} {_RANK}", decile]
    return tuple(columns)


IOD2025_COLUMNS = (
    "LSOA code (2021)",
    "LSOA name (2021)",
    "Local Authority District code (2024)",
    "Local Authority District name (2024)",
    *_domain_block(truncated_children_decile=True),
    "Total population: mid 2022",
    "Dependent Children aged 0-15: mid 2022",
    "Older population aged 60 and over: mid 2022",
    "Working age population 18-66 (for use with Employment Deprivation Domain): mid 2022",
)
IOD2019_COLUMNS = (
    "LSOA code (2011)",
    "LSOA name (2011)",
    "Local Authority District code (2019)",
    "Local Authority District name (2019)",
    *_domain_block(truncated_children_decile=False),
    "Total population: mid 2015 (excluding prisoners)",
    "Dependent Children aged 0-15: mid 2015 (excluding prisoners)",
    "Population aged 16-59: mid 2015 (excluding prisoners)",
    "Older population aged 60 and over: mid 2015 (excluding prisoners)",
    "Working age population 18-59/64: for use with Employment Deprivation Domain (excluding prisoners)",
)

_IMD = "Index of Multiple Deprivation (IMD)"
_SCORES = {
    "imd_score": f"{_IMD} Score",
    "imd_rank": f"{_IMD} {_RANK}",
    "imd_decile": f"{_IMD} {_DECILE}",
    "income_score": "Income Score (rate)",
    "employment_score": "Employment Score (rate)",
    "health_deprivation_score": "Health Deprivation and Disability Score",
    "idaopi_score": "Income Deprivation Affecting Older People (IDAOPI) Score (rate)",
    "idaci_score": "Income Deprivation Affecting Children Index (IDACI) Score (rate)",
}

IOD_FILE7 = FeedSpec(
    name="iod_file7",
    title="English Indices of Deprivation, File 7 (all ranks, scores, deciles and denominators)",
    publisher="Ministry of Housing, Communities and Local Government",
    columns=(
        Column("lsoa_code", required=True),
        Column("lsoa_name"),
        Column("lad_code"),
        Column("lad_name"),
        Column("imd_score", "DOUBLE", required=True),
        Column("imd_rank", "INTEGER"),
        Column("imd_decile", "INTEGER"),
        Column("income_score", "DOUBLE"),
        Column("employment_score", "DOUBLE"),
        Column("health_deprivation_score", "DOUBLE"),
        Column("idaopi_score", "DOUBLE"),
        Column("idaci_score", "DOUBLE"),
        Column("total_population", "INTEGER"),
    ),
    variants=(
        SchemaVariant(
            "iod2025_file7",
            IOD2025_COLUMNS,
            {
                "lsoa_code": "LSOA code (2021)",
                "lsoa_name": "LSOA name (2021)",
                "lad_code": "Local Authority District code (2024)",
                "lad_name": "Local Authority District name (2024)",
                **_SCORES,
                "total_population": "Total population: mid 2022",
            },
            provenance="real IoD2025 File 7 header (transcribed; 56 columns, one header cut short)",
        ),
        SchemaVariant(
            "iod2019_file7",
            IOD2019_COLUMNS,
            {
                "lsoa_code": "LSOA code (2011)",
                "lsoa_name": "LSOA name (2011)",
                "lad_code": "Local Authority District code (2019)",
                "lad_name": "Local Authority District name (2019)",
                **_SCORES,
                "total_population": "Total population: mid 2015 (excluding prisoners)",
            },
            provenance="IoD2019 File 7 header as read by several third-party loaders (57 columns)",
        ),
    ),
    file_patterns=("File_7*.csv",),
    cadence="snapshot",
    # An edition every four to six years: IoD2019 on 26 September 2019, IoD2025 on 30 October
    # 2025 (gov.uk statistical releases). No freshness check: there is no cadence to miss. A yearly
    # look on 1 November loads an edition that has landed (an unchanged one is left alone).
    publication=Publication(
        cadence="irregular",
        months=(11,),
        day=1,
        source="MHCLG: IoD2019 published 26 Sep 2019, IoD2025 30 Oct 2025 (gov.uk)",
        note="one edition every four to six years: no cadence to be stale against",
    ),
    encoding="utf-8",
    description="Deprivation scores, ranks and deciles per LSOA for one edition of the indices.",
    grain=("lsoa_code",),
)


# ONS Open Geography lookups name columns <ENTITY><YY>CD (ONS code), ...CDH (ODS "health" code) and
# ...NM; the year digits change with each edition, so they are matched by pattern.
def _lookup_variant(
    name: str, entities: tuple[str, ...], with_object_id: bool, provenance: str
) -> SchemaVariant:
    columns: list[str] = []
    patterns: dict[str, str] = {}
    for entity, suffixes in (
        ("LSOA", ("CD", "NM")),
        *((e, ("CD", "CDH", "NM")) for e in entities),
        ("LAD", ("CD", "NM")),
    ):
        for suffix in suffixes:
            placeholder = f"{entity}yy{suffix}"
            columns.append(placeholder)
            patterns[placeholder] = rf"{entity}\d\d{suffix}"
    if with_object_id:
        columns.append("ObjectId")
        patterns["ObjectId"] = "(ObjectId|FID|OBJECTID)"
    commissioner, parent = (*entities, None)[:2]
    mapping = {
        "lsoa_code": "LSOAyyCD",
        "lsoa_name": "LSOAyyNM",
        "ons_commissioner_code": f"{commissioner}yyCD",
        "commissioner_code": f"{commissioner}yyCDH",
        "commissioner_name": f"{commissioner}yyNM",
        "lad_code": "LADyyCD",
        "lad_name": "LADyyNM",
    }
    if parent:
        mapping |= {
            "ons_parent_code": f"{parent}yyCD",
            "parent_code": f"{parent}yyCDH",
            "parent_name": f"{parent}yyNM",
        }
    return SchemaVariant(name, tuple(columns), mapping, patterns=patterns, provenance=provenance)


LSOA_LOOKUP = FeedSpec(
    name="ons_lsoa_commissioner_lookup",
    title="ONS LSOA to sub-ICB location (or CCG) to ICB to local authority lookup",
    publisher="Office for National Statistics (Open Geography Portal)",
    columns=(
        Column("lsoa_code", required=True),
        Column("lsoa_name"),
        Column("ons_commissioner_code"),
        Column(
            "commissioner_code", required=True, description="ODS code (CDH) of the sub-ICB location or CCG"
        ),
        Column("commissioner_name"),
        Column("ons_parent_code"),
        Column("parent_code"),
        Column("parent_name"),
        Column("lad_code"),
        Column("lad_name"),
    ),
    variants=tuple(
        _lookup_variant(name, entities, object_id, provenance)
        for name, entities, provenance in (
            (
                "lsoa_sicbl_icb_lad",
                ("SICBL", "ICB"),
                "ONS July 2022 lookup naming (LSOA21CD, SICBL22CDH …), unverified",
            ),
            (
                "lsoa_ccg_lad",
                ("CCG",),
                "ONS April 2021 lookup: LSOA11CD, LSOA11NM, CCG21CD, CCG21CDH, CCG21NM, LAD21CD, LAD21NM",
            ),
        )
        for object_id in (False, True)
        for name in [f"{name}{'_objectid' if object_id else ''}"]
    ),
    file_patterns=("LSOA*.csv", "lsoa*.csv"),
    cadence="snapshot",
    # ONS's Open Geography Portal publishes the lookup as at 1 April each year, in April (the
    # April 2026 edition was last updated on 15 April 2026, per its catalogue entry), and mid-year
    # when NHS boundaries change (July 2022, when the ICBs began). Loaded on 1 May: approximate.
    publication=Publication(
        cadence="annual",
        months=(5,),
        day=1,
        approximate=True,
        source="ONS Open Geography Portal: LSOA21 to SICBL to ICB to LAD lookups as at 1 April",
    ),
    encoding="utf-8",
    description="Which sub-ICB location (or CCG), ICB and local authority each LSOA lies in.",
    grain=("lsoa_code",),
)


# ONS mid-year population estimates as Nomis serves them (datasets NM_2002_1 and the small-area
# NM_2010_1): one row per geography × sex × age. Column names from feeds_and_methods §6.3; the
# exact C_AGE_NAME and GENDER_NAME labels are unverified, so the staging model parses them
# tolerantly ("Age 42", "Aged 90+", "All Ages"; "Male", "Female", "Total").
ONS_POPULATION = FeedSpec(
    name="ons_mid_year_population",
    title="ONS mid-year population estimates by single year of age and sex (Nomis CSV)",
    publisher="Office for National Statistics (via Nomis)",
    columns=(
        Column("date_name", required=True, description="Reference year, e.g. 2021 or June 2021"),
        Column("geography_name"),
        Column("geography_code", required=True),
        Column("gender_name", required=True),
        Column("c_age_name", required=True),
        Column("measures_name"),
        Column("obs_value", "BIGINT", required=True),
        Column("obs_status_name"),
    ),
    variants=(
        SchemaVariant(
            "nomis_select_8",
            (
                "DATE_NAME",
                "GEOGRAPHY_NAME",
                "GEOGRAPHY_CODE",
                "GENDER_NAME",
                "C_AGE_NAME",
                "MEASURES_NAME",
                "OBS_VALUE",
                "OBS_STATUS_NAME",
            ),
            {
                "date_name": "DATE_NAME",
                "geography_name": "GEOGRAPHY_NAME",
                "geography_code": "GEOGRAPHY_CODE",
                "gender_name": "GENDER_NAME",
                "c_age_name": "C_AGE_NAME",
                "measures_name": "MEASURES_NAME",
                "obs_value": "OBS_VALUE",
                "obs_status_name": "OBS_STATUS_NAME",
            },
            provenance="Nomis API select list seen in third-party loaders (feeds_and_methods §6.3)",
        ),
    ),
    file_patterns=("*.csv",),
    cadence="snapshot",
    # Estimates at 30 June are "usually published about 12 months after the date they refer to"
    # (ONS, as quoted by local evidence hubs), i.e. June-July, with small areas about four months
    # later; around the 2021 Census rebasing the dates moved by months (mid-2011 to mid-2022
    # rebased estimates postponed, then released on 15 July 2024: gov.uk announcement). Loaded on
    # 1 August: approximate; wider thresholds than a fixed annual release (as for NCC).
    publication=Publication(
        cadence="annual",
        months=(8,),
        day=1,
        approximate=True,
        freshness_days=(400, 550),
        source="ONS mid-year estimates: about 12 months after 30 June; dates moved around 2021 rebasing",
    ),
    files_per_period="all",
    encoding="utf-8",
    null_tokens=("", "..", "-"),
    description="Resident population at 30 June by geography, sex and single year of age.",
    grain=("date_name", "geography_code", "gender_name", "c_age_name"),
)

POPULATION_FEEDS = (IOD_FILE7, LSOA_LOOKUP, ONS_POPULATION)
