"""How a publisher's file is described: its canonical columns and the header variants seen.

A feed is data, not code: the loader in `loader.py` reads any `FeedSpec`. Adding a feed means
writing a spec (and its staging model), not a new loader.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Literal

SqlType = Literal["VARCHAR", "BIGINT", "INTEGER", "DOUBLE", "DATE", "BOOLEAN"]

# Parse expressions feeds share (DuckDB over {v}, the trimmed published text).
# A whole count: `12` or Excel's `12.0`; DuckDB's cast would round `12.5` silently, so it does not
# parse. Negative counts parse, so validation suites can name them instead of quarantine hiding them.
WHOLE_NUMBER = (
    r"case when regexp_full_match({v}, '-?[0-9]+(\.0+)?') then cast(cast({v} as double) as bigint) end"
)
# A money amount: `1,453`, `£1,453.50`, `1453`, `-12.5` (thousands separators and £ stripped).
_DIGITS = "regexp_replace({v}, '[£, ]', '', 'g')"
AMOUNT = f"case when regexp_full_match({_DIGITS}, '-?[0-9]+(\\.[0-9]+)?') then cast({_DIGITS} as double) end"


@dataclass(frozen=True)
class Column:
    """A canonical column of the raw table.

    `parse` is a DuckDB expression over `{v}` (the published value as text, already trimmed and
    with null tokens turned into NULL); when omitted, a plain `try_cast` to `sql_type` is used.
    A published value that is present but does not parse sends its row to quarantine.
    """

    name: str
    sql_type: SqlType = "VARCHAR"
    parse: str | None = None
    required: bool = False
    description: str = ""
    # What a valid value is, as a quarantine reason says it ("is not a valid <expected>"); the
    # SQL type when empty. For text a `parse` validates (QOF counts kept as published, or `*`).
    expected: str = ""

    def typed_expression(self, value_sql: str) -> str:
        if self.parse:
            return f"({self.parse.format(v=value_sql)})"
        if self.sql_type == "VARCHAR":
            return value_sql
        return f"try_cast({value_sql} as {self.sql_type})"


@dataclass(frozen=True)
class SchemaVariant:
    """One header layout a publisher has used, with its canonical mapping.

    `columns` is the header exactly as published (for headerless files, positional names that
    document what each field is). `mapping` maps canonical column → published column; canonical
    columns not mapped are NULL in this variant. `patterns` lets a published column whose name
    varies by file (Fingertips' "Compared to <parent> value or percentiles") match a regular
    expression instead of its name in `columns`.
    """

    name: str
    columns: tuple[str, ...]
    mapping: Mapping[str, str]
    header: bool = True
    provenance: str = ""
    patterns: Mapping[str, str] = field(default_factory=dict)
    # Some exports omit empty trailing fields on data rows (the header is complete): pad them with
    # NULL instead of quarantining every row. Only for layouts known to do this.
    pads_trailing_fields: bool = False
    # The field separator of this layout when it differs from the feed's (HES DARS extracts are
    # pipe-delimited; the artificial HES files are comma-separated).
    delimiter: str | None = None
    # Record-level extracts (HES, SUS, ECDS) carry whatever fields the data-sharing agreement
    # lists, in any order: such a variant matches any header that holds every mapped column
    # except those in `optional`; other columns are read as text and not kept.
    subset: bool = False
    optional: frozenset[str] = frozenset()
    # Every line ends with the delimiter (HSCIC PDPI files), so the header's last field has no
    # name: `columns` names it with a placeholder, and a found header ending in '' matches it.
    unnamed_last_field: bool = False

    def __post_init__(self) -> None:
        unknown = set(self.mapping.values()) - set(self.columns)
        if unknown:
            raise ValueError(f"variant {self.name} maps columns it does not have: {sorted(unknown)}")

    def missing_from(self, found: tuple[str, ...]) -> list[str]:
        """Mapped columns a subset variant needs that the header lacks."""
        present = set(found)
        return [c for c in self.mapping.values() if c not in present and c not in self.optional]

    def matches(self, found: tuple[str, ...]) -> bool:
        if self.unnamed_last_field:
            if not found or found[-1] != "":
                return False
            found = (*found[:-1], self.columns[-1])
        if self.subset:
            return not self.missing_from(found) and len(set(found)) == len(found)
        if len(found) != len(self.columns):
            return False
        return all(
            actual == published
            or (published in self.patterns and re.fullmatch(self.patterns[published], actual))
            for actual, published in zip(found, self.columns, strict=True)
        )

    def resolved(self, found: tuple[str, ...]) -> SchemaVariant:
        """This variant with the header names actually found (patterns replaced by the real names)."""
        if self.unnamed_last_field:
            return self
        if self.subset:
            present = set(found)
            return replace(
                self,
                columns=found,
                mapping={k: v for k, v in self.mapping.items() if v in present},
            )
        if found == self.columns:
            return self
        rename = dict(zip(self.columns, found, strict=True))
        return replace(
            self,
            columns=found,
            mapping={canonical: rename[published] for canonical, published in self.mapping.items()},
            patterns={},
        )


# How often a publisher releases a feed (not how it is loaded: `FeedSpec.cadence`).
PublicationCadence = Literal["monthly", "quarterly", "annual", "irregular"]

# Days since the last load after which a feed is stale, (warn, error), by publication cadence: the
# release interval plus a few days before warning, then 10, 30 and 70 days more before failing.
# A publisher whose dates move by months states its own thresholds (`Publication.freshness_days`);
# an irregular publisher has no cadence to miss, so no threshold.
FRESHNESS_BY_CADENCE: Mapping[str, tuple[int, int]] = {
    "monthly": (35, 45),
    "quarterly": (100, 130),
    "annual": (380, 450),
}
_RELEASES_A_YEAR = {"monthly": 12, "quarterly": 4, "annual": 1}


@dataclass(frozen=True)
class Publication:
    """When a publisher releases a feed and which period a release covers.

    The one statement of a feed's calendar: its schedule (`lib/schedules.py`), its freshness
    check (`lib/freshness.py`) and dbt's source freshness (which a test compares) all follow it.
    Publishers state dates as rules ("the second Thursday of the month") or on a calendar page;
    cron cannot say "second Thursday", so `day` is the first day of the month by which a release
    is out (the 15th for a second-Thursday release) and `approximate` says the date is not the
    publisher's own. `source` says where the calendar is stated.
    """

    cadence: PublicationCadence
    # Day of the month (1-28, so every month has it) and hour (Europe/London) to load a release.
    day: int
    # Months of the year with a release; every month for a monthly feed. An irregular feed names
    # the month of a yearly look for a new edition.
    months: tuple[int, ...] = tuple(range(1, 13))
    # Monthly feeds: a release in month R covers the month R - lag_months (the A&E SitRep for
    # April is published in May: lag 1).
    lag_months: int = 0
    hour: int = 6
    approximate: bool = False
    source: str = ""
    # Only where the publisher's dates move by more than the cadence's default thresholds allow.
    freshness_days: tuple[int, int] | None = None
    # Why an irregular feed has no freshness check, or anything else a reader of the calendar needs.
    note: str = ""

    def __post_init__(self) -> None:
        if not 1 <= self.day <= 28:
            raise ValueError(f"publication day {self.day} is not 1-28 (every month must have it)")
        if not 0 <= self.hour <= 23:
            raise ValueError(f"publication hour {self.hour} is not 0-23")
        if (
            not self.months
            or any(not 1 <= m <= 12 for m in self.months)
            or len(set(self.months)) != len(self.months)
        ):
            raise ValueError(f"publication months {self.months} are not distinct months 1-12")
        expected = _RELEASES_A_YEAR.get(self.cadence)
        if expected is not None and len(self.months) != expected:
            raise ValueError(
                f"a {self.cadence} publication has {expected} release month(s), not {self.months}"
            )
        if self.lag_months < 0 or (self.lag_months and self.cadence != "monthly"):
            raise ValueError("lag_months is a whole number of months, for monthly publications only")
        if self.cadence == "irregular" and self.freshness_days is not None:
            raise ValueError("an irregular publication has no cadence to be stale against")
        if self.cadence == "irregular" and not self.note:
            raise ValueError("an irregular publication says why it has no freshness check (note)")

    @property
    def freshness(self) -> tuple[int, int] | None:
        """(warn, error) days since the last load; None when there is no cadence to miss."""
        if self.freshness_days is not None:
            return self.freshness_days
        return FRESHNESS_BY_CADENCE.get(self.cadence)

    @property
    def cron(self) -> str:
        months = "*" if len(self.months) == 12 else ",".join(str(m) for m in sorted(self.months))
        return f"0 {self.hour} {self.day} {months} *"

    def period_released(self, on: date) -> date:
        """The month a monthly release made on `on` covers (its first day)."""
        index = on.year * 12 + on.month - 1 - self.lag_months
        return date(index // 12, index % 12 + 1, 1)

    def describe(self) -> str:
        when = f"on day {self.day} at {self.hour:02d}:00"
        if self.cadence == "monthly":
            covers = "M" if not self.lag_months else f"M-{self.lag_months}"
            text = f"Monthly {when}: the release in month M covers {covers}"
        else:
            names = ", ".join(date(2000, m, 1).strftime("%b") for m in sorted(self.months))
            text = f"{self.cadence.capitalize()} ({names}) {when}: loads any new release"
        return text + (" (approximate date)." if self.approximate else ".")


@dataclass(frozen=True)
class FeedSpec:
    """A publisher feed as it lands: file names, layout variants and canonical columns."""

    name: str
    title: str
    publisher: str
    columns: tuple[Column, ...]
    variants: tuple[SchemaVariant, ...]
    file_patterns: tuple[str, ...]
    cadence: Literal["monthly", "snapshot"] = "monthly"
    # "newest": one file a period, the newest re-delivery wins; "all": every matching file in the
    # period's folder is part of the delivery (e.g. one Fingertips file per indicator).
    files_per_period: Literal["newest", "all"] = "newest"
    # For feeds published as Excel workbooks (.xlsx/.xlsm): the sheets that may hold the data, in
    # the order to try. The first present sheet is read from its header row on (lib/workbook.py).
    workbook_sheets: tuple[str, ...] = ()
    delimiter: str = ","
    encoding: str = "utf-8"
    null_tokens: tuple[str, ...] = ("",)
    # The canonical date column that states the file's own period, compared with the partition
    # by the validation suite (never silently trusted).
    period_column: str | None = None
    # Above this share of quarantined rows the load is refused and the last good data kept.
    max_quarantine_share: float = 0.5
    # A re-delivery with fewer good rows than this share of the delivery it replaces is refused
    # (loader._refuse_if_shrunk); ACCEPT_SMALLER_DELIVERY lets a real withdrawal through.
    min_redelivery_share: float = 0.5
    # Text values may hold line breaks inside quotes (Fingertips' definitions do); elsewhere a
    # value spanning lines is a quote left open and its row is quarantined.
    multiline_values: bool = False
    description: str = ""
    grain: tuple[str, ...] = field(default_factory=tuple)
    # When the publisher releases the feed and which period a release covers: the feed's schedule
    # and freshness thresholds follow it (dbt's source freshness states the same; a test compares).
    # Every feed states one (a test requires it); None only while a new feed is being written.
    publication: Publication | None = None
    # The terms the data come under, carried into shared packages: open data are under the Open
    # Government Licence; record-level extracts (HES, SUS, ECDS) under the data-sharing
    # agreement they were supplied with (packages name it: SHARE_DATA_SHARING_AGREEMENT).
    licence: Literal["open_government_licence", "data_sharing_agreement"] = "open_government_licence"

    def __post_init__(self) -> None:
        if self.cadence == "monthly" and self.publication and self.publication.cadence != "monthly":
            raise ValueError(
                f"{self.name} is loaded by month but published {self.publication.cadence}: "
                "a monthly feed needs a monthly publication to know which month a release covers"
            )

    @property
    def freshness(self) -> tuple[int, int] | None:
        """(warn, error) days since the last load, from the publication calendar."""
        return self.publication.freshness if self.publication else None

    @property
    def raw_table(self) -> str:
        return f"raw.{self.name}"

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no canonical column {name!r}")

    def variant(self, name: str) -> SchemaVariant:
        for variant in self.variants:
            if variant.name == name:
                return variant
        raise KeyError(f"{self.name} has no schema variant {name!r}")
