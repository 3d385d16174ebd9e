"""One bad-input suite over every feed family: each case's exact outcome, and nothing else moved.

Each case takes a real-format file from the shipped sample, breaks it the way deliveries break
(cut short, re-saved, renamed, misfiled, hostile), and delivers it to a landing folder as a
re-delivery of a month the warehouse already holds, beside a neighbouring month that is also
held. The load then runs the path the Dagster asset runs (`landing.files_for_period`, then
`loader.load_period` judged by the feed's blocking suites) and the case asserts:

- the outcome: the error class and the words naming the file, column or line; or the rows
  loaded and quarantined with the reason; or that the rows are exactly those of the sample;
- that the neighbouring month is unchanged (a checksum over every column but the load time),
  and, when the delivery was refused, that the month it would have replaced is unchanged too,
  with its load log and quarantine.

The table of cases and outcomes is printed at the end of the test run (tests/conftest.py).
"""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import openpyxl
import pytest

from orchestration.defs.activity.feeds import HES_APC, HES_OPA
from orchestration.defs.cost.feeds import NCC_ORG_UNIT_COSTS, TARIFF_APC_PRICES
from orchestration.defs.experience.fft import FFT_AE
from orchestration.defs.experience.gpps import GPPS_PRACTICE
from orchestration.defs.population.feeds import IOD_FILE7, LSOA_LOOKUP, ONS_POPULATION
from orchestration.defs.prescribing.feeds import EPD
from orchestration.defs.primary_care.qof import QOF_ACHIEVEMENT, QOF_PREVALENCE
from orchestration.defs.public_health.feeds import FINGERTIPS_DATA
from orchestration.defs.reference.feeds import EPRACCUR as ODS_EPRACCUR
from orchestration.defs.reference.feeds import GP_PRACTICE_MAP, GP_REGISTERED_PATIENTS
from orchestration.defs.urgent_care.feeds import AE_MONTHLY, ECDS
from orchestration.lib import landing, loader
from orchestration.lib.feed_spec import FeedSpec
from orchestration.lib.load_assets import blocking_judge
from orchestration.lib.load_errors import (
    BadArchive,
    DeliveryRefused,
    EmptyFeedFile,
    FeedLoadError,
    MisfiledDelivery,
    MissingSubmission,
    NotTextFile,
    ShrunkDelivery,
    TooManyRejectedRows,
    TruncatedFile,
    UnbalancedQuote,
    UnknownSchemaVariant,
    UnsafeArchiveMember,
)
from tests.helpers import SAMPLE

# ---- the sample file a case starts from ------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """A sample month's file: its name, the CSV text, and the zip member name when zipped."""

    spec: FeedSpec
    month: str
    neighbour: str
    path: Path
    text: str
    member: str | None

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    @property
    def newline(self) -> str:
        return "\r\n" if "\r\n" in self.text[:5000] else "\n"

    @property
    def delimiter(self) -> str:
        return self.spec.variants[0].delimiter or self.spec.delimiter

    def joined(self, lines: list[str]) -> str:
        return self.newline.join(lines) + self.newline

    def cell(self, lines: list[str], row: int, column: str, value: str) -> list[str]:
        """The lines with one data cell (row 1 = first data row) of a named column replaced."""
        header = lines[0].split(self.delimiter)
        at = [h.strip().strip('"') for h in header].index(column)
        out = list(lines)
        fields = out[row].split(self.delimiter)
        fields[at] = value
        out[row] = self.delimiter.join(fields)
        return out

    def header(self, lines: list[str], change: Callable[[list[str]], list[str]]) -> list[str]:
        names = lines[0].split(self.delimiter)
        return [self.delimiter.join(change(names)), *lines[1:]]


def sample(spec: FeedSpec, month: str, neighbour: str, name: str | None = None) -> Sample:
    folder = SAMPLE / spec.name / month
    path = folder / name if name else sorted(folder.iterdir())[0]
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            (member,) = archive.namelist()
            raw = archive.read(member)
    elif path.suffix in {".xlsx", ".xlsm"}:
        return Sample(spec, month, neighbour, path, "", None)
    else:
        member, raw = None, path.read_bytes()
    text = raw.decode("utf-8-sig") if spec.encoding == "utf-8" else raw.decode(spec.encoding)
    return Sample(spec, month, neighbour, path, text, member)


# ---- outcomes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refused:
    error: type[Exception]
    words: str  # a regex the message must match

    def describe(self) -> str:
        return f"refused: {self.error.__name__}"


@dataclass(frozen=True)
class Quarantined:
    rows: int
    reason: str  # a regex every quarantined row's reason must match
    loaded: int | None = None  # rows loaded; default: the sample's rows less the quarantined

    def describe(self) -> str:
        return f"quarantined {self.rows}"


@dataclass(frozen=True)
class Loaded:
    same_rows: bool = True  # exactly the sample's rows (every column but the file and line)
    encoding: str | None = None

    def describe(self) -> str:
        return "loaded, rows as published" if self.same_rows else "loaded, rows replaced"


Outcome = Refused | Quarantined | Loaded


@dataclass(frozen=True)
class Delivery:
    """What lands: files by name (bytes) in a month folder (default: the case's month)."""

    files: dict[str, bytes]
    folder: str | None = None
    links: dict[str, Path] = field(default_factory=dict)


def as_delivered(s: Sample, text: str, encoding: str | None = None, name: str | None = None) -> Delivery:
    """The text shipped as the sample ships it (zipped when the sample is, same names)."""
    data = text.encode(encoding or ("utf-8" if s.spec.encoding == "utf-8" else s.spec.encoding))
    if s.member is None:
        return Delivery({name or s.path.name: data})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(s.member, data)
    return Delivery({name or s.path.name: buffer.getvalue()})


def raw_bytes(s: Sample, data: bytes, name: str | None = None) -> Delivery:
    return Delivery({name or s.path.name: data})


@dataclass(frozen=True)
class Case:
    id: str
    sample: Callable[[], Sample]
    deliver: Callable[[Sample], Delivery]
    outcome: Outcome


# ---- the breakages ----------------------------------------------------------------------------


def cut_mid_record(s: Sample) -> Delivery:
    text = s.text.rstrip("\r\n")
    return as_delivered(s, text[: text.rfind(s.delimiter)])


def header_only(s: Sample) -> Delivery:
    return as_delivered(s, s.lines[0] + s.newline)


def with_bom(s: Sample) -> Delivery:
    return raw_bytes(s, b"\xef\xbb\xbf" + s.text.encode("utf-8"), name=_csv_name(s))


def _csv_name(s: Sample) -> str:
    return s.member or s.path.name


def other_delimiter(s: Sample, delimiter: str = ";") -> Delivery:
    return as_delivered(s, s.text.replace(s.delimiter, delimiter))


def renamed(column: str, to: str) -> Callable[[Sample], Delivery]:
    return lambda s: as_delivered(
        s, s.joined(s.header(s.lines, lambda h: [to if x == column else x for x in h]))
    )


def dropped(column: str) -> Callable[[Sample], Delivery]:
    def change(s: Sample) -> Delivery:
        at = s.lines[0].split(s.delimiter).index(column)
        lines = [
            s.delimiter.join(f for i, f in enumerate(line.split(s.delimiter)) if i != at) for line in s.lines
        ]
        return as_delivered(s, s.joined(lines))

    return change


def extra_column(s: Sample) -> Delivery:
    lines = [s.lines[0] + s.delimiter + "EXTRA_FIELD", *(line + s.delimiter + "x" for line in s.lines[1:])]
    return as_delivered(s, s.joined(lines))


def swapped(first: int, second: int) -> Callable[[Sample], Delivery]:
    def change(s: Sample) -> Delivery:
        lines = []
        for line in s.lines:
            fields = line.split(s.delimiter)
            fields[first], fields[second] = fields[second], fields[first]
            lines.append(s.delimiter.join(fields))
        return as_delivered(s, s.joined(lines))

    return change


def repeated_header(column: str, over: str) -> Callable[[Sample], Delivery]:
    return lambda s: as_delivered(
        s, s.joined(s.header(s.lines, lambda h: [column if x == over else x for x in h]))
    )


def cell(column: str, value: str, row: int = 3) -> Callable[[Sample], Delivery]:
    return lambda s: as_delivered(s, s.joined(s.cell(s.lines, row, column, value)))


def every_nth_cell(column: str, value: Callable[[str], str], n: int = 7) -> Callable[[Sample], Delivery]:
    def change(s: Sample) -> Delivery:
        lines = list(s.lines)
        at = [h.strip('"') for h in lines[0].split(s.delimiter)].index(column)
        for row in range(1, len(lines), n):
            fields = lines[row].split(s.delimiter)
            fields[at] = value(fields[at])
            lines[row] = s.delimiter.join(fields)
        return as_delivered(s, s.joined(lines))

    return change


def open_quote(column: str, row: int = 3) -> Callable[[Sample], Delivery]:
    def change(s: Sample) -> Delivery:
        header = s.lines[0].split(s.delimiter)
        value = s.lines[row].split(s.delimiter)[header.index(column)]
        return as_delivered(s, s.joined(s.cell(s.lines, row, column, '"' + value)))

    return change


def duplicated_rows(s: Sample) -> Delivery:
    return as_delivered(s, s.joined([*s.lines, *s.lines[1:4]]))


def first_rows(n: int) -> Callable[[Sample], Delivery]:
    return lambda s: as_delivered(s, s.joined(s.lines[: n + 1]))


def another_month(month: str) -> Callable[[Sample], Delivery]:
    """Another month's file, as delivered, dropped into this month's folder."""

    def change(s: Sample) -> Delivery:
        other = sample(s.spec, month, s.neighbour)
        return Delivery({s.path.name: other.path.read_bytes()})

    return change


def identical(s: Sample) -> Delivery:
    return Delivery({s.path.name: s.path.read_bytes()})


def in_folder(folder: str) -> Callable[[Sample], Delivery]:
    return lambda s: Delivery({s.path.name: s.path.read_bytes()}, folder=folder)


def another_feeds_file(spec: FeedSpec, month: str, name: str) -> Callable[[Sample], Delivery]:
    def change(s: Sample) -> Delivery:
        other = sample(spec, month, month)
        return as_delivered(s, other.text)

    return change


def replaced_text(old: str, new: str, encoding: str | None = None) -> Callable[[Sample], Delivery]:
    def change(s: Sample) -> Delivery:
        assert old in s.text, f"{old!r} is not in the sample {s.path}"
        return as_delivered(s, s.text.replace(old, new, 1), encoding)

    return change


def zip_corrupted(s: Sample) -> Delivery:
    data = bytearray(s.path.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 64] = b"\x00" * 64
    return Delivery({s.path.name: bytes(data)})


def zip_climbing(s: Sample) -> Delivery:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../../" + (s.member or "x.csv"), s.text)
    return Delivery({s.path.name: buffer.getvalue()})


def workbook_without_sheet(s: Sample) -> Delivery:
    book = openpyxl.load_workbook(s.path)
    for sheet in list(book.sheetnames):
        if sheet in s.spec.workbook_sheets:
            book[sheet].title = "Renamed by hand"
    buffer = io.BytesIO()
    book.save(buffer)
    return Delivery({s.path.name: buffer.getvalue()})


def big_field(column: str) -> Callable[[Sample], Delivery]:
    return cell(column, "x" * 1_000_000)


def utf16(s: Sample) -> Delivery:
    return raw_bytes(s, s.text.encode("utf-16"), name=_csv_name(s))


def cp1252_name(field_index: int) -> Callable[[Sample], Delivery]:
    """An Excel re-save: a name gains an en dash and a curly apostrophe, in Windows-1252."""

    def change(s: Sample) -> Delivery:
        lines = list(s.lines)
        fields = lines[3].split(s.delimiter)
        quoted = fields[field_index].endswith('"')
        fields[field_index] = fields[field_index].rstrip('"') + " – St John’s" + ('"' if quoted else "")
        lines[3] = s.delimiter.join(fields)
        return raw_bytes(s, s.joined(lines).encode("cp1252"), name=_csv_name(s))

    return change


# ---- the samples each family starts from ------------------------------------------------------

QUIN = lambda: sample(GP_REGISTERED_PATIENTS, "2021-02", "2021-01")  # noqa: E731
MAP = lambda: sample(GP_PRACTICE_MAP, "2021-02", "2021-01")  # noqa: E731
EPRACCUR = lambda: sample(ODS_EPRACCUR, "2021-04", "2021-01")  # noqa: E731
SITREP = lambda: sample(AE_MONTHLY, "2021-02", "2021-01")  # noqa: E731
ECDS_ = lambda: sample(ECDS, "2022-02", "2022-01")  # noqa: E731
APC = lambda: sample(HES_APC, "2022-02", "2022-01")  # noqa: E731
OPA = lambda: sample(HES_OPA, "2022-02", "2022-01")  # noqa: E731
EPD_ = lambda: sample(EPD, "2022-02", "2022-01")  # noqa: E731
FFT = lambda: sample(FFT_AE, "2021-02", "2021-01")  # noqa: E731
GPPS = lambda: sample(GPPS_PRACTICE, "2022-07", "2021-07")  # noqa: E731
FINGERTIPS = lambda: sample(FINGERTIPS_DATA, "2022-12", "2021-01", "indicator-data_241.csv")  # noqa: E731
IOD = lambda: sample(IOD_FILE7, "2025-10", "2019-09")  # noqa: E731
POPULATION = lambda: sample(  # noqa: E731
    ONS_POPULATION, "2022-06", "2022-06", "nomis_mid_year_estimates_2021_sub_icb.csv"
)
LSOA = lambda: sample(LSOA_LOOKUP, "2022-07", "2022-07")  # noqa: E731
NCC = lambda: sample(NCC_ORG_UNIT_COSTS, "2021-04", "2020-04")  # noqa: E731
TARIFF = lambda: sample(TARIFF_APC_PRICES, "2021-04", "2020-04")  # noqa: E731
QOF_PREV = lambda: sample(QOF_PREVALENCE, "2021-04", "2020-04")  # noqa: E731
QOF_ACH = lambda: sample(QOF_ACHIEVEMENT, "2021-04", "2020-04")  # noqa: E731


def other_years_file(name: str) -> Callable[[Sample], Delivery]:
    """Another year's file, under its own name, in this year's folder (a file filed by hand)."""

    def change(s: Sample) -> Delivery:
        (other,) = (SAMPLE / s.spec.name / s.neighbour).glob(name)
        return Delivery({other.name: other.read_bytes()})

    return change


def beside_itself(name: str) -> Callable[[Sample], Delivery]:
    """The file landed twice, under its own name and another (a superseded copy left in place)."""
    return lambda s: Delivery({s.path.name: s.path.read_bytes(), name: s.path.read_bytes()})


CASES = [
    # reference: registered patients (zipped CSV, CRLF)
    Case(
        "quin/truncated",
        QUIN,
        cut_mid_record,
        Refused(TruncatedFile, r"gp-reg-pat-prac-quin-age\.zip: the file ends mid-record at line \d"),
    ),
    Case(
        "quin/0-byte",
        QUIN,
        lambda s: raw_bytes(s, b"", name=_csv_name(s)),
        Refused(EmptyFeedFile, r"gp-reg-pat-prac-quin-age\.csv: the file is empty"),
    ),
    Case("quin/header-only", QUIN, header_only, Refused(EmptyFeedFile, r"has a header but no data rows")),
    Case("quin/bom", QUIN, with_bom, Loaded()),
    Case("quin/utf-16", QUIN, utf16, Refused(NotTextFile, r"is UTF-16LE text")),
    Case(
        "quin/wrong-delimiter",
        QUIN,
        other_delimiter,
        Refused(UnknownSchemaVariant, r"The first line has no ',': is the delimiter wrong\?"),
    ),
    Case(
        "quin/renamed-column",
        QUIN,
        renamed("NUMBER_OF_PATIENTS", "PATIENTS"),
        Refused(UnknownSchemaVariant, r"missing \['NUMBER_OF_PATIENTS'\], unexpected \['PATIENTS'\]"),
    ),
    Case(
        "quin/missing-column",
        QUIN,
        dropped("POSTCODE"),
        Refused(UnknownSchemaVariant, r"missing \['POSTCODE'\], unexpected nothing"),
    ),
    Case(
        "quin/extra-column",
        QUIN,
        extra_column,
        Refused(UnknownSchemaVariant, r"unexpected \['EXTRA_FIELD'\]"),
    ),
    Case(
        "quin/reordered-columns",
        QUIN,
        swapped(2, 3),
        Refused(
            UnknownSchemaVariant, r"in another order: column 3 is 'ORG_CODE' where the layout has 'ORG_TYPE'"
        ),
    ),
    Case(
        "quin/duplicate-column",
        QUIN,
        repeated_header("ORG_CODE", "ORG_TYPE"),
        Refused(UnknownSchemaVariant, r"Repeated column name\(s\): \['ORG_CODE'\]"),
    ),
    Case("epd/text-in-number", EPD_, cell("ITEMS", "many"), Quarantined(1, r"^ITEMS: many is not a valid")),
    Case(
        "sitrep/thousands-separator",
        SITREP,
        cell("A&E attendances Type 1", '"1,234"'),
        Quarantined(1, r"^A&E attendances Type 1: 1,234 is not a valid"),
    ),
    Case(
        "quin/negative-count",
        QUIN,
        cell("NUMBER_OF_PATIENTS", "-5"),
        Refused(
            DeliveryRefused,
            r"structure: \[error\] expect_column_values_to_be_between on number_of_patients: "
            r"1 unexpected \(e\.g\. \[-5\]\)",
        ),
    ),
    Case(
        "quin/wrong-period",
        QUIN,
        another_month("2021-01"),
        Refused(
            DeliveryRefused,
            r"expect_column_values_to_be_in_set on extract_month_matches_period: 7,826 unexpected",
        ),
    ),
    Case(
        "quin/unbalanced-quote",
        QUIN,
        open_quote("ORG_CODE"),
        Refused(UnbalancedQuote, r"line 4 opens a quote that is never closed"),
    ),
    Case(
        "apc/quote-spanning-lines",
        APC,
        lambda s: as_delivered(
            s, s.joined(s.cell(s.cell(s.lines, 3, "SITETRET", '"RXX01'), 5, "SITETRET", 'RXX01"'))
        ),
        Quarantined(1, r"^SITETRET: the value spans lines", loaded=None),
    ),
    Case(
        "apc/1MB-field",
        APC,
        big_field("SITETRET"),
        Quarantined(1, r"^SITETRET: a value of 1,000,000 characters \(over 4,096\)"),
    ),
    Case("quin/byte-identical-redelivery", QUIN, identical, Loaded()),
    Case(
        "sitrep/redelivered-changed",
        SITREP,
        cell("A&E attendances Type 1", "99999", row=2),
        Loaded(same_rows=False),
    ),
    Case(
        "quin/another-feeds-file",
        QUIN,
        another_feeds_file(GP_PRACTICE_MAP, "2021-02", "gp-reg-pat-prac-map.csv"),
        Refused(UnknownSchemaVariant, r"the header is not a known Patients registered"),
    ),
    Case(
        "quin/invalid-month-folder",
        QUIN,
        in_folder("2021-2"),
        Refused(MisfiledDelivery, r"not named as a month .*2021-2 \(gp-reg-pat-prac-quin-age\.zip\)"),
    ),
    Case(
        "quin/climbing-zip-member",
        QUIN,
        zip_climbing,
        Refused(UnsafeArchiveMember, r"climbs out of the folder"),
    ),
    Case("quin/corrupt-zip", QUIN, zip_corrupted, Refused(BadArchive, r"gp-reg-pat-prac-quin-age\.zip")),
    Case(
        "quin/unknown-sex-code",
        QUIN,
        cell("SEX", "X"),
        Refused(
            DeliveryRefused, r"expect_column_values_to_be_in_set on sex: 1 unexpected \(e\.g\. \['X'\]\)"
        ),
    ),
    # reference: practice map and ODS (headerless, Latin-1)
    Case(
        "map/duplicate-rows",
        MAP,
        duplicated_rows,
        Refused(DeliveryRefused, r"expect_compound_columns_to_be_unique: \d+ unexpected"),
    ),
    Case(
        "map/malformed-practice-codes",
        MAP,
        every_nth_cell("PRACTICE_CODE", lambda v: v.lower()),
        Refused(DeliveryRefused, r"expect_column_values_to_match_regex on practice_code"),
    ),
    Case("epraccur/cp1252-name", EPRACCUR, cp1252_name(1), Loaded(same_rows=False, encoding="cp1252")),
    # urgent care
    Case(
        "sitrep/truncated",
        SITREP,
        cut_mid_record,
        Refused(TruncatedFile, r"ends mid-record at line \d+ \(with \d+ of its \d+ fields\)"),
    ),
    Case("sitrep/cut-at-line-break", SITREP, first_rows(3), Refused(ShrunkDelivery, r"3 rows would replace")),
    Case(
        "sitrep/text-in-number",
        SITREP,
        cell("A&E attendances Type 1", "n/a"),
        Quarantined(1, r"^A&E attendances Type 1: n/a is not a valid"),
    ),
    Case(
        "sitrep/wrong-period",
        SITREP,
        another_month("2021-01"),
        Refused(DeliveryRefused, r"on stated_month_is_period"),
    ),
    Case(
        "ecds/missing-column",
        ECDS_,
        dropped("Der_Provider_Code"),
        Refused(UnknownSchemaVariant, r"missing \['Der_Provider_Code'\]"),
    ),
    # activity
    Case(
        "apc/invalid-date",
        APC,
        cell("ADMIDATE", "2022-13-45"),
        Quarantined(1, r"^ADMIDATE: 2022-13-45 is not a valid date$"),
    ),
    Case("apc/truncated", APC, cut_mid_record, Refused(TruncatedFile, r"ends mid-record")),
    Case(
        "apc/comma-delimited",
        APC,
        lambda s: other_delimiter(s, ","),
        Refused(TooManyRejectedRows, r"rows could not be read or typed .* TOO MANY COLUMNS"),
    ),
    Case(
        "opa/duplicate-rows", OPA, duplicated_rows, Refused(DeliveryRefused, r"on repeated_appointment_keys")
    ),
    # prescribing
    Case("epd/negative-items", EPD_, cell("ITEMS", "-3"), Refused(DeliveryRefused, r"on negative_item_rows")),
    Case(
        "epd/malformed-bnf-codes",
        EPD_,
        every_nth_cell("BNF_CODE", lambda v: "x" + v[1:], n=3),
        Refused(DeliveryRefused, r"expect_column_values_to_match_regex on bnf_code"),
    ),
    # experience
    Case(
        "fft/text-in-count",
        FFT,
        lambda s: cell(s.lines[0].split(",")[7], "seven")(s),
        Quarantined(1, r"is not a valid"),
    ),
    Case(
        "gpps/wrong-delimiter",
        GPPS,
        lambda s: other_delimiter(s, "\t"),
        Refused(UnknownSchemaVariant, r"delimiter wrong"),
    ),
    # public health
    Case(
        "fingertips/value-not-a-number",
        FINGERTIPS,
        cell("Value", "high"),
        Quarantined(1, r"^Value: high is not a valid double$"),
    ),
    # population
    Case(
        "iod/duplicate-lsoa",
        IOD,
        duplicated_rows,
        Refused(DeliveryRefused, r"expect_column_values_to_be_unique on lsoa_code"),
    ),
    Case("lsoa/header-only", LSOA, header_only, Refused(EmptyFeedFile, r"header but no data rows")),
    Case(
        "population/wrong-delimiter",
        POPULATION,
        other_delimiter,
        Refused(UnknownSchemaVariant, r"delimiter wrong"),
    ),
    # cost
    Case("ncc/corrupt-zip", NCC, zip_corrupted, Refused(BadArchive, r"Organisation_level_source_data")),
    Case(
        "tariff/workbook-without-its-sheet",
        TARIFF,
        workbook_without_sheet,
        Refused(FeedLoadError, r"none of the sheets .* is in the workbook"),
    ),
    # primary care: QOF prevalence and achievement (plain CSV as extracted from the year's zip)
    Case(
        "qof/renamed-list-size",
        QOF_PREV,
        renamed("PRACTICE_LIST_SIZE", "LIST_SIZE"),
        Refused(UnknownSchemaVariant, r"missing \['PRACTICE_LIST_SIZE'\], unexpected \['LIST_SIZE'\]"),
    ),
    Case("qof/2019-20-layout", QOF_PREV, renamed("PRACTICE_LIST_SIZE", "PATIENT_LIST_SIZE"), Loaded()),
    Case(
        "qof/text-in-register",
        QOF_PREV,
        cell("REGISTER", "n/a"),
        Quarantined(1, r"^REGISTER: n/a is not a valid whole number or \* \(suppressed\)$"),
    ),
    Case("qof/suppressed-register", QOF_PREV, cell("REGISTER", "*"), Loaded(same_rows=False)),
    Case(
        "qof/negative-register",
        QOF_PREV,
        cell("REGISTER", "-4"),
        Refused(DeliveryRefused, r"expect_column_values_to_be_between on register_count"),
    ),
    Case(
        "qof/another-years-file",
        QOF_PREV,
        other_years_file("PREVALENCE_2021_v2.csv"),
        Refused(DeliveryRefused, r"on file_year_is_folder_year"),
    ),
    Case(
        "qof/repeated-rows",
        QOF_PREV,
        duplicated_rows,
        Refused(DeliveryRefused, r"on rows_for_practice_group"),
    ),
    Case(
        "qof-achievement/unknown-measure",
        QOF_ACH,
        cell("MEASURE", "PCA_COUNT"),
        Refused(
            DeliveryRefused,
            r"expect_column_values_to_be_in_set on measure: 1 unexpected \(e\.g\. \['PCA_COUNT'\]",
        ),
    ),
    Case(
        "qof-achievement/superseded-file-left-beside",
        QOF_ACH,
        beside_itself("ACHIEVEMENT_2122_v1.csv"),
        Refused(DeliveryRefused, r"on rows_for_measure"),
    ),
    Case(
        "qof-achievement/text-in-value",
        QOF_ACH,
        cell("VALUE", "12..5"),
        Quarantined(1, r"^VALUE: 12\.\.5 is not a valid number or \* \(suppressed\)$"),
    ),
]


# ---- running a case ---------------------------------------------------------------------------


def _digest(conn: duckdb.DuckDBPyConnection, spec: FeedSpec, period: date) -> tuple:
    """Rows, content checksum, load log and quarantine of one period."""
    rows = conn.execute(
        f"select count(*), bit_xor(hash(columns(* exclude (_loaded_at)))) from {spec.raw_table} "
        "where _period = ?",
        [period],
    ).fetchone()
    log = conn.execute(
        "select source_file, sha256, rows_loaded, rows_quarantined from meta.load_log "
        "where feed = ? and _period = ? order by all",
        [spec.name, period],
    ).fetchall()
    quarantine = conn.execute(
        "select count(*), bit_xor(hash(line, reason)) from meta.quarantine where feed = ? and _period = ?",
        [spec.name, period],
    ).fetchone()
    return rows, log, quarantine


def _content(conn: duckdb.DuckDBPyConnection, spec: FeedSpec, period: date) -> tuple:
    """The published values of a period: every canonical column (not the file, line or time)."""
    columns = ", ".join(c.name for c in spec.columns)
    return conn.execute(
        f"select count(*), bit_xor(hash({columns})) from {spec.raw_table} where _period = ?", [period]
    ).fetchone()


def _month(text: str) -> date:
    return date.fromisoformat(f"{text}-01")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, tmp_path, monkeypatch, record_property):
    s = case.sample()
    spec = s.spec
    monkeypatch.setenv("WAREHOUSE_PATH", str(tmp_path / "warehouse.duckdb"))
    root = tmp_path / "landing"
    for month in {s.month, s.neighbour}:
        shutil.copytree(SAMPLE / spec.name / month, root / spec.name / month)
    conn = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    judge = blocking_judge(spec)
    for month in sorted({s.month, s.neighbour}):
        loader.load_period(
            conn, spec, _month(month), landing.files_for_period(spec, _month(month), root).files, judge
        )
    target, neighbour = _month(s.month), _month(s.neighbour)
    before = {p: _digest(conn, spec, p) for p in {target, neighbour}}
    published = _content(conn, spec, target)

    delivery = case.deliver(s)
    folder = root / spec.name / (delivery.folder or s.month)
    (root / spec.name / s.month / s.path.name).unlink()  # the month's other files stay
    if delivery.folder:
        shutil.rmtree(root / spec.name / s.month)
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in delivery.files.items():
        (folder / name).write_bytes(data)

    outcome = case.outcome
    error: Exception | None = None
    result = None
    try:
        misfiled = landing.misfiled_folders(spec, root)
        if misfiled:
            raise MisfiledDelivery(landing.misfiled_message(spec, misfiled))
        files = landing.files_for_period(spec, target, root).files
        result = loader.load_period(conn, spec, target, files, judge)
    except (FeedLoadError, MissingSubmission) as exc:
        error = exc

    if isinstance(outcome, Refused):
        assert error is not None, f"expected {outcome.error.__name__}, the file loaded: {result}"
        assert isinstance(error, outcome.error), f"{type(error).__name__}: {error}"
        assert re.search(outcome.words, str(error)), str(error)
        assert len(str(error)) < 3000, "a message the reader can read"
        after = {p: _digest(conn, spec, p) for p in {target, neighbour}}
        assert after == before, "a refused delivery changes nothing"
        shown = f"{type(error).__name__}: {_one_line(str(error))}"
    else:
        assert error is None, f"{type(error).__name__}: {error}"
        assert _digest(conn, spec, neighbour) == before[neighbour] or neighbour == target
        reasons = [
            r
            for (r,) in conn.execute(
                "select reason from meta.quarantine where feed = ? and _period = ? order by line",
                [spec.name, target],
            ).fetchall()
        ]
        if isinstance(outcome, Quarantined):
            assert result.rows_quarantined == outcome.rows == len(reasons), reasons
            assert all(re.search(outcome.reason, r) for r in reasons), reasons
            expected = outcome.loaded if outcome.loaded is not None else None
            if expected is not None:
                assert result.rows_loaded == expected
            elif case.id != "apc/quote-spanning-lines":  # the spanned lines are one record
                assert result.rows_loaded == published[0] - outcome.rows
            first = _one_line(reasons[0])
            shown = f"quarantined {result.rows_quarantined}: {first}; loaded {result.rows_loaded:,}"
        else:
            assert reasons == []
            if outcome.same_rows:
                assert _content(conn, spec, target) == published
            else:
                assert _content(conn, spec, target)[1] != published[1]
            if outcome.encoding:
                assert result.encoding == outcome.encoding
            shown = f"loaded {result.rows_loaded:,} ({result.encoding})" + (
                ", rows as published" if outcome.same_rows else ", rows replaced"
            )
    record_property("bad_input_case", f"{case.id} | {outcome.describe()} | {shown}")
    conn.close()


def _one_line(text: str) -> str:
    line = re.sub(r"/\S*/", "…/", text.splitlines()[0])
    return line if len(line) <= 150 else line[:149] + "…"
