"""Public-health feeds as OHID publishes them: Fingertips indicator data and indicator metadata.

Layouts and their provenance: ../shared/reference/feeds_and_methods.md §1.2 and the real files in
../shared/real_formats/fingertips.
"""

from __future__ import annotations

from orchestration.lib.feed_spec import Column, FeedSpec, Publication, SchemaVariant

# Blank, '-', '*' and 'n/a' mean suppressed or missing: never zero.
SUPPRESSED = ("", "-", "*", "n/a", "N/A")

_COMMON = (
    "Indicator ID",
    "Indicator Name",
    "Parent Code",
    "Parent Name",
    "Area Code",
    "Area Name",
    "Area Type",
    "Sex",
    "Age",
    "Category Type",
    "Category",
    "Time period",
    "Value",
    "Lower CI 95.0 limit",
    "Upper CI 95.0 limit",
    "Lower CI 99.8 limit",
    "Upper CI 99.8 limit",
    "Count",
    "Denominator",
    "Value note",
    "Recent Trend",
    "Compared to England value or percentiles",
    "Compared to parent value or percentiles",
    "Time period Sortable",
    "New data",
)
# Column 23 is "Compared to <parent short name> value or percentiles", or "Compared to
# percentiles" when the parent is England.
_PARENT_COMPARISON = {"Compared to parent value or percentiles": r"Compared to (.+ value or )?percentiles"}

_MAPPING = {
    "indicator_id": "Indicator ID",
    "indicator_name": "Indicator Name",
    "parent_code": "Parent Code",
    "parent_name": "Parent Name",
    "area_code": "Area Code",
    "area_name": "Area Name",
    "area_type": "Area Type",
    "sex": "Sex",
    "age": "Age",
    "category_type": "Category Type",
    "category": "Category",
    "time_period": "Time period",
    "value": "Value",
    "lower_ci_95": "Lower CI 95.0 limit",
    "upper_ci_95": "Upper CI 95.0 limit",
    "lower_ci_998": "Lower CI 99.8 limit",
    "upper_ci_998": "Upper CI 99.8 limit",
    "count": "Count",
    "denominator": "Denominator",
    "value_note": "Value note",
    "recent_trend": "Recent Trend",
    "compared_to_england": "Compared to England value or percentiles",
    "compared_to_parent": "Compared to parent value or percentiles",
    "time_period_sortable": "Time period Sortable",
    "new_data": "New data",
}

# Fingertips data and metadata are downloaded together. The Public Health Outcomes Framework's
# data "are published as part of a quarterly update cycle in August, November, February and May"
# (fingertips.phe.org.uk/profile/public-health-outcomes-framework); the site itself releases
# monthly, on the first Tuesday (UNVERIFIED, feeds_and_methods.md §1), and other profiles update
# on their own schedules. So a release is expected each quarter (freshness 100/130 days), loaded
# on the 8th, after the first Tuesday, at 07:00 as before: approximate. A download taken between
# quarters is loaded by the landing sensor or a run of the feed's job.
FINGERTIPS_RELEASES = Publication(
    cadence="quarterly",
    months=(2, 5, 8, 11),
    day=8,
    hour=7,
    approximate=True,
    source="OHID PHOF: quarterly update cycle in August, November, February and May",
)

FINGERTIPS_DATA = FeedSpec(
    multiline_values=True,  # the published data carry line breaks in quoted notes
    name="fingertips_indicator_data",
    title="OHID Fingertips indicator data (all_data/csv export)",
    publisher="Office for Health Improvement and Disparities",
    columns=(
        Column("indicator_id", "INTEGER", required=True),
        Column("indicator_name"),
        Column("parent_code"),
        Column("parent_name"),
        Column("area_code", required=True),
        Column("area_name"),
        Column("area_type", required=True),
        Column("sex"),
        Column("age"),
        Column("category_type"),
        Column("category"),
        Column("time_period", required=True),
        Column("value", "DOUBLE"),
        Column("lower_ci_95", "DOUBLE"),
        Column("upper_ci_95", "DOUBLE"),
        Column("lower_ci_998", "DOUBLE"),
        Column("upper_ci_998", "DOUBLE"),
        Column("count", "DOUBLE"),
        Column("denominator", "DOUBLE"),
        Column("value_note"),
        Column("recent_trend"),
        Column("compared_to_england"),
        Column("compared_to_parent"),
        Column("time_period_sortable", "BIGINT"),
        Column("new_data"),
        Column("compared_to_goal"),
        Column("time_period_range"),
    ),
    variants=(
        SchemaVariant(
            "api_export_27",
            (*_COMMON, "Compared to goal", "Time period range"),
            {**_MAPPING, "compared_to_goal": "Compared to goal", "time_period_range": "Time period range"},
            patterns=_PARENT_COMPARISON,
            provenance="real API export, indicator 93553, 2022 (27 columns)",
        ),
        SchemaVariant(
            "ui_export_26",
            (*_COMMON, "Compared to goal"),
            {**_MAPPING, "compared_to_goal": "Compared to goal"},
            patterns=_PARENT_COMPARISON,
            pads_trailing_fields=True,
            provenance="real UI export, indicator 93356, 2020: 26 header columns, 25-field rows",
        ),
        SchemaVariant(
            "ui_export_26_target",
            (*_COMMON, "Target data"),
            {**_MAPPING, "compared_to_goal": "Target data"},
            patterns=_PARENT_COMPARISON,
            pads_trailing_fields=True,
            provenance="older exports called Compared to goal 'Target data' (fingertipsR renames it)",
        ),
    ),
    file_patterns=("*.csv",),
    cadence="snapshot",
    publication=FINGERTIPS_RELEASES,
    files_per_period="all",
    null_tokens=SUPPRESSED,
    description="Indicator values by area, sex, age, category and period, as downloaded.",
    grain=(
        "indicator_id",
        "area_code",
        "sex",
        "age",
        "category_type",
        "category",
        "time_period_sortable",
        "parent_code",
    ),
)

# Indicator metadata CSV (indicator_metadata/csv/...): column list from fingertipsR's
# indicator_metadata.R; the export may carry further columns (fingertipsR's tests expect 32).
METADATA_COLUMNS = (
    "Indicator ID",
    "Indicator",
    "Definition",
    "Rationale",
    "Data source",
    "Indicator source",
    "Methodology",
    "Standard population/values",
    "Confidence interval details",
    "Source of numerator",
    "Definition of numerator",
    "Source of denominator",
    "Definition of denominator",
    "Disclosure control",
    "Caveats",
    "Copyright",
    "Data re-use",
    "Links",
    "Indicator number",
    "Notes",
    "Frequency",
    "Rounding",
    "Indicator Content",
    "Specific rationale",
    "Unit",
    "Value type",
    "Year type",
    "Polarity",
    "Impact of COVID-19",
)

FINGERTIPS_METADATA = FeedSpec(
    multiline_values=True,  # definitions and rationales run over several lines
    name="fingertips_indicator_metadata",
    title="OHID Fingertips indicator metadata (indicator_metadata/csv export)",
    publisher="Office for Health Improvement and Disparities",
    columns=(
        Column("indicator_id", "INTEGER", required=True),
        Column("indicator", required=True),
        Column("definition"),
        Column("data_source"),
        Column("methodology"),
        Column("standard_population"),
        Column("confidence_interval_details"),
        Column("definition_of_numerator"),
        Column("definition_of_denominator"),
        Column("disclosure_control"),
        Column("caveats"),
        Column("frequency"),
        Column("unit"),
        Column("value_type"),
        Column("year_type"),
        Column("polarity"),
    ),
    variants=(
        SchemaVariant(
            "metadata_29",
            METADATA_COLUMNS,
            {
                "indicator_id": "Indicator ID",
                "indicator": "Indicator",
                "definition": "Definition",
                "data_source": "Data source",
                "methodology": "Methodology",
                "standard_population": "Standard population/values",
                "confidence_interval_details": "Confidence interval details",
                "definition_of_numerator": "Definition of numerator",
                "definition_of_denominator": "Definition of denominator",
                "disclosure_control": "Disclosure control",
                "caveats": "Caveats",
                "frequency": "Frequency",
                "unit": "Unit",
                "value_type": "Value type",
                "year_type": "Year type",
                "polarity": "Polarity",
            },
            provenance="fingertipsR R/indicator_metadata.R column list (feeds_and_methods §1.2)",
        ),
    ),
    file_patterns=("*.csv",),
    cadence="snapshot",
    publication=FINGERTIPS_RELEASES,
    files_per_period="all",
    description="One row per indicator: definition, method, unit, value type and polarity.",
    grain=("indicator_id",),
)

PUBLIC_HEALTH_FEEDS = (FINGERTIPS_DATA, FINGERTIPS_METADATA)
