"""Load a landing file as the publisher ships it into the warehouse, atomically.

Every feed follows the same steps:

1. detect the header variant (clear error naming the file, the columns found and the variants
   known when it is none of them);
2. read the file with DuckDB's CSV reader, everything as text, malformed records captured by
   `store_rejects` instead of aborting the read;
3. type the values in one SQL statement; a row whose present value does not parse, or whose
   required value is missing, goes to `meta.quarantine` with its reason;
4. in one transaction, replace the partition (`_period`) in the raw table, its quarantine rows
   and its `meta.load_log` entry. A failure anywhere rolls back, so the previous data stay.

Each row keeps the line it was published on (`_line`). The typed rows are staged in file order
and numbered from their row ids, stepping over the lines the reader refused: a window function
over the read would number them single-threaded, which cost a national EPD month 30 seconds.
The file's sha256 is computed in a thread while DuckDB reads the same bytes.

The raw file is only ever read; zip archives (as NHS England ships several feeds) are read
from an extraction bounded by size limits (archives.py), into a scratch folder beside the
warehouse that is removed however the load ends (scratch.py).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from orchestration.lib import archives, faults, scratch, settings, sniff
from orchestration.lib.feed_spec import FeedSpec, SchemaVariant
from orchestration.lib.load_errors import (  # callers also catch them from here
    BadArchive,
    DeliveryRefused,
    EmptyFeedFile,
    FeedLoadError,
    MissingSubmission,
    NotTextFile,
    ShrunkDelivery,
    TooManyRejectedRows,
    TruncatedFile,
    UnbalancedQuote,
    UnknownSchemaVariant,
)
from orchestration.lib.receipts import received_at

META_DDL = """
create schema if not exists raw;
create schema if not exists meta;
create table if not exists meta.load_log (
    feed varchar not null,
    _period date not null,
    source_file varchar not null,
    sha256 varchar not null,
    bytes bigint not null,
    schema_variant varchar not null,
    encoding varchar not null,
    rows_loaded bigint not null,
    rows_quarantined bigint not null,
    loaded_at timestamp not null,
    received_at timestamp
);
alter table meta.load_log add column if not exists received_at timestamp;
create table if not exists meta.feed_catalog (
    feed varchar primary key,
    title varchar not null,
    publisher varchar not null,
    cadence varchar not null,
    freshness_warn_days integer,
    freshness_error_days integer
);
create table if not exists meta.validation_result (
    feed varchar not null,
    suite varchar not null,
    check_name varchar not null,
    severity varchar not null,
    passed boolean not null,
    rows_validated bigint not null,
    expectations_evaluated integer not null,
    expectations_failed integer not null,
    unexpected_rows bigint,
    failures varchar,
    period_start date,
    period_end date,
    validated_at timestamp not null
);
create table if not exists meta.feed_absence (
    feed varchar not null,
    _period date,
    kind varchar not null,
    landing_folder varchar not null,
    window_start date,
    window_end date,
    detail varchar not null,
    run_id varchar,
    recorded_at timestamp not null
);
create table if not exists meta.quarantine (
    feed varchar not null,
    _period date not null,
    source_file varchar not null,
    line bigint,
    reason varchar not null,
    record varchar,
    quarantined_at timestamp not null
);
"""


@dataclass(frozen=True)
class DetectedFile:
    path: Path
    variant: SchemaVariant
    sha256: str
    bytes: int
    received_at: datetime


@dataclass
class LoadResult:
    feed: str
    period: date
    files: list[DetectedFile]
    rows_loaded: int
    rows_quarantined: int
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    encoding: str = "utf-8"

    @property
    def variants(self) -> list[str]:
        return sorted({f.variant.name for f in self.files})


def ensure_meta(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(META_DDL)


# --------------------------------------------------------------------------------------------
# Reading the file as shipped
# --------------------------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@contextmanager
def readable_csv(path: Path, spec: FeedSpec | None = None) -> Iterator[Path]:
    """Yield a path DuckDB can read: the file itself, the one CSV inside a zip archive, or the data
    sheet of an Excel workbook written out as CSV (the original file is never touched).

    What is written out goes to a scratch folder beside the warehouse, removed on exit, failed or
    not; a file whose name DuckDB would read as a glob pattern is read through a plain link."""
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        from orchestration.lib.workbook import variant_first_columns, workbook_sheet_to_csv, workbook_sheets

        sheets = spec.workbook_sheets if spec else ()
        present = [s for s in sheets if s in workbook_sheets(path)]
        if not present:
            raise FeedLoadError(
                f"{path}: none of the sheets {list(sheets)} is in the workbook "
                f"(it has {workbook_sheets(path)})"
            )
        with scratch.folder("sheet") as tmp:
            sheet = workbook_sheet_to_csv(
                path, present[0], first_columns=variant_first_columns(spec), out_dir=tmp
            )
            yield sheet.rename(tmp / "sheet.csv")  # its name, from the workbook's, could read as a glob
        return
    if path.suffix.lower() != ".zip":
        with scratch.plainly_named(path) as plain:
            yield plain
        return
    with archives.extracted_member(path) as member:
        yield member


def _first_record(path: Path, delimiter: str, named: Path | None = None) -> list[str]:
    """The first CSV record of a file (its header, or its first row when headerless); `named` is
    the landing file to name in errors when `path` is its extraction."""
    with path.open("rb") as handle:
        head = handle.read(1 << 16)
    if not head.strip():
        raise EmptyFeedFile(f"{named or path}: the file is empty (0 bytes of data)")
    why = sniff.not_text(head)
    if why:
        raise NotTextFile(f"{named or path}: {why}; it begins {sniff.excerpt(head)}")
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:  # an Excel "CSV" re-save is cp1252; the reader falls back too
        cut = exc.start >= len(head) - 4  # a character cut by the 64 KiB read, not a wrong encoding
        text = head[: exc.start].decode("utf-8-sig") if cut else head.decode("latin-1")
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        return next(reader)
    except (StopIteration, csv.Error) as exc:
        raise FeedLoadError(f"{named or path}: could not read a first record: {exc}") from exc


def _delimiters(spec: FeedSpec) -> list[str]:
    return list(dict.fromkeys([spec.delimiter, *(v.delimiter for v in spec.variants if v.delimiter)]))


def detect_variant(spec: FeedSpec, path: Path, csv_path: Path | None = None) -> SchemaVariant:
    """Which known layout a file is in, or a clear error naming what was found."""
    records = {d: _first_record(csv_path or path, d, named=path) for d in _delimiters(spec)}
    headers = {d: tuple(name.strip() for name in r) for d, r in records.items()}
    for variant in spec.variants:
        found = headers[variant.delimiter or spec.delimiter]
        if variant.header and variant.matches(found):
            return variant.resolved(found)
    for variant in spec.variants:
        found = headers[variant.delimiter or spec.delimiter]
        if not variant.header and len(found) == len(variant.columns):
            return variant

    record = records[spec.delimiter]
    found = max(headers.values(), key=len)
    capped = [_capped(name) for name in found[:40]]
    shown = ", ".join(capped) + (f", … ({len(found) - 40} more)" if len(found) > 40 else "")
    known = "\n".join(
        f"  - {v.name}: "
        + (
            f"an extract holding at least {', '.join(c for c in v.mapping.values() if c not in v.optional)}"
            if v.subset
            else (", ".join(v.columns) if v.header else f"headerless, {len(v.columns)} fields")
        )
        for v in spec.variants
    )
    hint = ""
    headed = [v for v in spec.variants if v.header]
    if headed:
        closest = max(headed, key=lambda v: len(set(v.columns) & set(found)))
        missing = (
            closest.missing_from(found) if closest.subset else [c for c in closest.columns if c not in found]
        )
        extra = [] if closest.subset else [_capped(c) for c in found if c not in closest.columns][:40]
        hint = (
            f"\nClosest known variant is {closest.name}: missing {missing or 'nothing'}, "
            f"unexpected {extra or 'nothing'}."
        )
        repeated = sorted({_capped(c) for c in found if found.count(c) > 1})
        if repeated:
            hint += f"\nRepeated column name(s): {repeated}."
        if not closest.subset and not missing and not extra and not repeated:
            moved = next(i for i, (a, b) in enumerate(zip(found, closest.columns, strict=False)) if a != b)
            hint += (
                f"\nEvery column of {closest.name} is there, in another order: column {moved + 1} is "
                f"{_capped(found[moved])!r} where the layout has {closest.columns[moved]!r}. Publishers do "
                "not reorder their columns: was the file re-saved from a spreadsheet?"
            )
    if len(headers[spec.delimiter]) == 1 and any(
        sep in record[0] for sep in ("|", ";", "\t", ",") if sep not in _delimiters(spec)
    ):
        hint += f"\nThe first line has no {spec.delimiter!r}: is the delimiter wrong?"
    raise UnknownSchemaVariant(
        f"{path}: the header is not a known {spec.title} layout.\n"
        f"Found {len(found)} columns: {shown}\nKnown variants:\n{known}{hint}"
    )


def _capped(name: str, limit: int = 60) -> str:
    """A header name as echoed in a message: printable, at most `limit` characters."""
    shown = name if name.isprintable() else repr(name)[1:-1]
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _read_csv_sql(spec: FeedSpec, variant: SchemaVariant, path: Path, encoding: str, tag: str | None) -> str:
    """DuckDB's reader for a file in a known layout, every column as text; with a tag, malformed
    records go to `rejects_<tag>` instead of aborting the read."""
    columns = ", ".join(f"{_sql_str(c)}: 'VARCHAR'" for c in variant.columns)
    rejects = (
        f"store_rejects=true, rejects_table='rejects_{tag}', rejects_scan='rejects_scan_{tag}', "
        if tag
        else ""
    )
    return (
        f"read_csv({_sql_str(str(path))}, header={'true' if variant.header else 'false'}, "
        f"columns={{{columns}}}, delim={_sql_str(variant.delimiter or spec.delimiter)}, "
        "quote='\"', escape='\"', "
        f"auto_detect=false, encoding={_sql_str(encoding)}, {rejects}"
        f"max_line_size=10000000"
        + (", null_padding=true, parallel=false" if variant.pads_trailing_fields else "")
        + ")"
    )


def _value_sql(spec: FeedSpec, published: str) -> str:
    quoted = '"' + published.replace('"', '""') + '"'
    tokens = ", ".join(_sql_str(t) for t in spec.null_tokens)
    return (
        f"nullif(trim({quoted}), '')"
        if spec.null_tokens == ("",)
        else (f"(case when trim({quoted}) in ({tokens}) then null else trim({quoted}) end)")
    )


# No published text field is longer (names and addresses run to ~100 characters); a longer one is
# a quote left open that swallowed lines, or a file that is not this feed's.
MAX_FIELD_CHARS = 4096


def _shown(value: str) -> str:
    """A value as a quarantine reason shows it: at most 100 characters."""
    return f"(case when length({value}) > 100 then left({value}, 100) || '…' else {value} end)"


def _typed_select(spec: FeedSpec, variant: SchemaVariant, read_sql: str, source: str) -> str:
    """One query that types every canonical column and lists the reasons a row is refused.

    Three layers so each expression is computed once per row: the published values cleaned of
    null tokens (`v_*`), the typed values and a row-level `_ok`, and then, only for refused rows,
    the list of reasons and the row as published (for quarantine). Wide extracts of millions of
    rows depend on this: a flat select recomputed every value up to four times.
    """
    published = dict.fromkeys(variant.mapping.values())
    ident = {p: f"v{i}" for i, p in enumerate(published)}
    cleaned = [f"{_value_sql(spec, p)} as {ident[p]}" for p in published]
    typed, checks, reasons = [], [], []
    for col in spec.columns:
        source_col = variant.mapping.get(col.name)
        value = ident[source_col] if source_col else "cast(null as varchar)"
        typed.append(f"{col.typed_expression(value)} as {col.name}")
        label = source_col or col.name
        if source_col and (col.sql_type != "VARCHAR" or col.parse):
            checks.append(f"({value} is null or {col.name} is not null)")
            reasons.append(
                f"case when {value} is not null and {col.name} is null then "
                f"{_sql_str(label + ': ')} || {_shown(value)} || "
                f"{_sql_str(' is not a valid ' + (col.expected or col.sql_type.lower()))} end"
            )
        elif source_col:  # text: no value runs to kilobytes (strlen: DuckDB keeps it, no scan)
            checks.append(f"not coalesce(strlen({value}) > {MAX_FIELD_CHARS}, false)")
            reasons.append(
                f"case when strlen({value}) > {MAX_FIELD_CHARS} then {_sql_str(label + ': a value of ')} || "
                f"format('{{:,}}', length({value})) || "
                f"{_sql_str(f' characters (over {MAX_FIELD_CHARS:,}): a quote left open, or not this feed?')}"
                " end"
            )
        if col.required:
            checks.append(f"({value} is not null)")
            reasons.append(
                f"case when {value} is null then {_sql_str(label + ': required value is missing')} end"
            )
    ok = " and ".join(checks) or "true"
    reason_list = f"list_filter([{', '.join(reasons)}], lambda r: r is not null)" if reasons else "[]"
    record = ", ".join(f'"{p.replace(chr(34), chr(34) * 2)}" := {ident[p]}' for p in published)
    canonical = ", ".join(c.name for c in spec.columns)
    return (
        f"with cleaned as (select {', '.join(cleaned)} from {read_sql}), "
        f"typed as (select *, {', '.join(typed)} from cleaned), "
        f"checked as (select *, {ok} as _ok from typed) "
        f"select {canonical}, case when _ok then []::varchar[] else {reason_list} end as _reasons, "
        f"case when _ok then null else to_json(struct_pack({record}))::varchar end as _record, "
        f"{_sql_str(source)} as _source_file, {_sql_str(variant.name)} as _schema_variant "
        f"from checked"
    )


def _raw_table_ddl(spec: FeedSpec) -> str:
    cols = ", ".join(f"{c.name} {c.sql_type}" for c in spec.columns)
    return (
        f"create table if not exists {spec.raw_table} ({cols}, _source_file varchar, "
        f"_period date, _loaded_at timestamp, _schema_variant varchar, _line bigint)"
    )


def _read_with_encoding(
    conn: duckdb.DuckDBPyConnection,
    spec: FeedSpec,
    path: Path,
    variant: SchemaVariant,
    csv_path: Path,
    tag: str,
    stack: ExitStack,
) -> str:
    """Stage one file into a temp table in file order, trying the feed's encoding, then UTF-8,
    then Latin-1 (ODS files); a Windows-1252 file (an Excel "CSV" re-save with curly quotes or
    dashes, bytes DuckDB's Latin-1 refuses) is transcoded to UTF-8 first.

    Each attempt starts from empty rejects tables: the lines a wrong encoding refused must not
    survive into the quarantine of the attempt that reads them."""
    encodings = [spec.encoding] + [e for e in ("utf-8", "latin-1") if e != spec.encoding]
    last_error: Exception | None = None
    with _in_file_order(conn):  # row ids in file order: see _number_lines
        for encoding in [*encodings, CP1252]:
            source = csv_path
            if encoding == CP1252:
                source = stack.enter_context(_transcoded_from_cp1252(path, csv_path))
            conn.execute(f"drop table if exists rejects_{tag}")
            conn.execute(f"drop table if exists rejects_scan_{tag}")
            read_sql = _read_csv_sql(spec, variant, source, "utf-8" if encoding == CP1252 else encoding, tag)
            try:
                conn.execute(
                    f"create or replace temp table stage_{tag} as "
                    + _typed_select(spec, variant, read_sql, path.name)
                )
            except duckdb.InvalidInputException as exc:
                last_error = exc
                if "unicode" not in str(exc).lower() and "encod" not in str(exc).lower():
                    break
                continue
            misread = conn.execute(
                f"select count(*) from rejects_{tag} where error_type = 'INVALID ENCODING'"
            ).fetchall()[0][0]
            if misread and encoding != CP1252:
                continue  # not this encoding: read it again as the next one
            return encoding
    raise FeedLoadError(f"{path}: DuckDB could not read the file: {last_error}") from last_error


CP1252 = "cp1252"


@contextmanager
def _transcoded_from_cp1252(path: Path, csv_path: Path) -> Iterator[Path]:
    """A UTF-8 copy of a Windows-1252 file, decoded in 1 MiB chunks (a byte-level codec: no
    row is looked at). The five bytes Windows-1252 leaves undefined are refused with their
    offset rather than guessed."""
    with scratch.folder("cp1252") as tmp:
        target = tmp / csv_path.name
        decoder = codecs.getincrementaldecoder(CP1252)()
        offset = 0
        with csv_path.open("rb") as src, target.open("w", encoding="utf-8", newline="") as dst:
            while True:
                chunk = src.read(1 << 20)
                try:
                    dst.write(decoder.decode(chunk, final=not chunk))
                except UnicodeDecodeError as exc:
                    raise FeedLoadError(
                        f"{path}: the file is neither UTF-8 nor Latin-1, and byte {chunk[exc.start]:#04x} "
                        f"at offset {offset + exc.start:,} is not Windows-1252 either: which encoding "
                        "was it saved in?"
                    ) from exc
                if not chunk:
                    break
                offset += len(chunk)
        yield target


def _line_breaks(path: Path) -> tuple[int, bool]:
    """How many line feeds the file holds, and whether it ends with a line break (memchr speed,
    in a thread while DuckDB reads the same bytes)."""
    count, last = 0, b""
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 22):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count, last in (b"\n", b"\r")


def _quarantine_values_spanning_lines(
    conn: duckdb.DuckDBPyConnection,
    spec: FeedSpec,
    variant: SchemaVariant,
    tag: str,
    breaks: tuple[int, bool],
) -> None:
    """Quarantine the rows whose text holds a line break: a quote left open that closed a few
    lines on joins those lines into one record.

    Only looked for when the file has more lines than the reader gave records (blank lines,
    which the reader skips, are the harmless cause): a scan of every text value costs a
    national month seconds, the count of line feeds almost nothing."""
    count, ends_with_break = breaks
    lines = count + (0 if ends_with_break else 1) - (1 if variant.header else 0)
    records = conn.execute(
        f"select (select count(*) from stage_{tag}) + (select count(distinct line) from rejects_{tag})"
    ).fetchall()[0][0]
    if records >= lines:
        return
    text = [
        (c.name, variant.mapping[c.name])
        for c in spec.columns
        if c.sql_type == "VARCHAR" and c.name in variant.mapping
    ]
    if not text:
        return
    spans = {name: f"(strpos({name}, chr(10)) > 0 or strpos({name}, chr(13)) > 0)" for name, _ in text}
    why = ": the value spans lines (a quote left open?)"
    reasons = ", ".join(
        f"case when {spans[name]} then {_sql_str(published + why)} end" for name, published in text
    )
    record = ", ".join(f'"{published.replace(chr(34), chr(34) * 2)}" := {name}' for name, published in text)
    conn.execute(
        f"update stage_{tag} set "
        f"_reasons = list_concat(_reasons, list_filter([{reasons}], lambda r: r is not null)), "
        f"_record = coalesce(_record, to_json(struct_pack({record}))::varchar) "
        f"where {' or '.join(spans.values())}"
    )


def _refuse_if_quote_left_open(conn: duckdb.DuckDBPyConnection, path: Path, csv_path: Path, tag: str) -> None:
    """A quote opened and never closed makes the reader take the rest of the file as one value:
    one refused record would stand for thousands of lines. Refuse the file, naming the line."""
    opened = conn.execute(
        f"select line, line_byte_position from rejects_{tag} where error_type = 'UNQUOTED VALUE' "
        f"and line >= (select coalesce(max(_line), 0) from lines_{tag}) order by line desc limit 1"
    ).fetchall()
    if not opened:
        return
    line, start = opened[0]
    swallowed = 0
    with csv_path.open("rb") as handle:
        handle.seek(start or 0)
        while chunk := handle.read(1 << 20):
            swallowed += chunk.count(b"\n")
    if swallowed > 1:
        raise UnbalancedQuote(
            f"{path}: line {line:,} opens a quote that is never closed, so the reader took the "
            f"{swallowed:,} lines after it as one value. Nothing was loaded; the previous data are kept."
        )


def _cut_short(csv_path: Path, spec: FeedSpec, variant: SchemaVariant) -> str | None:
    """Why the file's last record looks cut in transfer, or None.

    A file that does not end with a line break and whose last line has fewer fields than the
    layout, or an unclosed quote, was cut mid-record: loading the rest would replace a month
    with part of it. (A complete last line without a final line break is normal.)"""
    with csv_path.open("rb") as handle:
        size = handle.seek(0, 2)
        handle.seek(max(0, size - (1 << 16)))
        tail = handle.read()
    if not tail or tail.endswith((b"\n", b"\r")):
        return None
    last = tail.rsplit(b"\n", 1)[-1].decode("utf-8", errors="replace")
    if last.count('"') % 2:
        return "inside a quoted value"
    fields = next(csv.reader([last], delimiter=variant.delimiter or spec.delimiter), [])
    if len(fields) < len(variant.columns):
        return f"with {len(fields)} of its {len(variant.columns)} fields"
    return None


@contextmanager
def _in_file_order(conn: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Keep insertion order for the statements inside (the warehouse's connections drop it).

    Also turn off DuckDB's IN-clause rewrite there: it plans every `x in (…)` of the typed select
    (null tokens, code checks) as a join against the list, and a wide extract (HES: ~100 such
    lists) ran as ~100 joins, 1 s for 2,000 rows; 0.07 s without them.
    """
    kept = conn.execute(
        "select current_setting('preserve_insertion_order'), current_setting('disabled_optimizers')"
    ).fetchall()[0]
    conn.execute("set preserve_insertion_order = true")
    conn.execute("set disabled_optimizers = 'in_clause'")
    try:
        yield
    finally:
        conn.execute(f"set preserve_insertion_order = {'true' if kept[0] else 'false'}")
        conn.execute(f"set disabled_optimizers = '{kept[1]}'")


def _number_lines(conn: duckdb.DuckDBPyConnection, variant: SchemaVariant, tag: str) -> None:
    """A view of the staged rows with the line each was published on.

    Row k (0-based, file order) is on line k + 1 + header, plus one for each line the reader
    refused before it. A refused line r_i (the i-th, 1-based) sits where row
    a_i = r_i - 1 - header - (i - 1) would be, so the lines refused before row k are those with
    a_i <= k: an as-of join of the row ids alone on the few refused lines, put beside the staged
    rows by position (an as-of join of the whole rows would sort them: 33 s more on an EPD month).
    """
    first = 1 + (1 if variant.header else 0)
    refused = conn.execute(f"select count(distinct line) from rejects_{tag}").fetchall()[0][0]
    if not refused:
        conn.execute(
            f"create or replace temp view lines_{tag} as select *, rowid + {first} as _line from stage_{tag}"
        )
        return
    conn.execute(
        f"create or replace temp table refused_{tag} as "
        f"select line - {first} - (row_number() over (order by line) - 1) as first_row, "
        f"row_number() over (order by line) as refused_before "
        f"from (select distinct line from rejects_{tag})"
    )
    with _in_file_order(conn):
        conn.execute(
            f"create or replace temp table line_numbers_{tag} as "
            f"select staged.rowid + {first} + coalesce(refused.refused_before, 0) as _line "
            f"from (select rowid from stage_{tag}) as staged asof left join refused_{tag} as refused "
            f"on staged.rowid >= refused.first_row order by staged.rowid"
        )
    conn.execute(
        f"create or replace temp view lines_{tag} as "
        f"select * from stage_{tag} positional join line_numbers_{tag}"
    )


def ensure_raw_table(conn: duckdb.DuckDBPyConnection, spec: FeedSpec) -> None:
    """The feed's raw table (empty until its first load), with every column of the spec."""
    ensure_meta(conn)
    conn.execute(_raw_table_ddl(spec))
    warn, error = spec.freshness or (None, None)
    conn.execute(
        "insert or replace into meta.feed_catalog values (?, ?, ?, ?, ?, ?)",
        [spec.name, spec.title, spec.publisher, spec.cadence, warn, error],
    )
    for col in spec.columns:  # a spec that gained a column keeps the existing table usable
        conn.execute(f"alter table {spec.raw_table} add column if not exists {col.name} {col.sql_type}")


@dataclass
class StagedPeriod:
    """One period's files read and typed into temp tables, not yet in the warehouse."""

    spec: FeedSpec
    period: date
    files: list[DetectedFile]
    view: str
    tags: list[str]
    rejects: str
    per_file: dict[str, tuple[int, int]]
    structural: dict[str, int]
    encoding: str

    @property
    def rows_good(self) -> int:
        return sum(g for g, _ in self.per_file.values())

    @property
    def rows_bad(self) -> int:
        return sum(b for _, b in self.per_file.values()) + sum(self.structural.values())


@dataclass
class CommitOutcome:
    """What `commit_periods` did: the periods switched in, those the blocking checks refused
    (the previous data kept) and every judgement made on the way."""

    loaded: list[LoadResult] = field(default_factory=list)
    refused: dict[date, list[Any]] = field(default_factory=dict)
    judgements: list[tuple[date | None, date | None, list[Any]]] = field(default_factory=list)


# Judge the month(s) as they would be after the switch, inside the switch's transaction:
# `judge(conn, first, last)` returns the outcomes of the feed's blocking checks and whether
# they refuse the delivery.
Judge = Callable[[duckdb.DuckDBPyConnection, date | None, date | None], tuple[bool, list[Any]]]


def stage_period(
    conn: duckdb.DuckDBPyConnection, spec: FeedSpec, period: date, files: Sequence[Path]
) -> StagedPeriod:
    """Read and type one period's files into temp tables, or raise saying why the delivery
    cannot be loaded. Nothing in the warehouse changes."""
    if not files:
        raise MissingSubmission(f"{spec.title}: no file for {period:%Y-%m}")
    absent = [str(p) for p in files if not Path(p).is_file()]
    if absent:
        raise FeedLoadError(f"{spec.title} {period:%Y-%m}: file not found: {', '.join(absent)}")
    ensure_raw_table(conn, spec)

    detected: list[DetectedFile] = []
    encodings: set[str] = set()
    stem = f"{spec.name}_{period:%Y%m}"
    faults.checkpoint("load_read")
    with ExitStack() as stack:
        hashing = stack.enter_context(ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256"))
        digests = [hashing.submit(sha256_of, Path(path)) for path in files]  # while DuckDB reads
        counting = stack.enter_context(ThreadPoolExecutor(max_workers=1, thread_name_prefix="lines"))
        tags = []
        for index, path in enumerate(files):
            try:  # an archive or a file that is not text: name the feed and the month too
                csv_path = stack.enter_context(readable_csv(path, spec))
                variant = detect_variant(spec, path, csv_path)
            except (BadArchive, NotTextFile) as exc:
                raise type(exc)(f"{spec.title}, {period:%Y-%m}: {exc}") from exc
            cut = _cut_short(csv_path, spec, variant)
            lines = counting.submit(_line_breaks, csv_path)
            tag = f"{stem}_{index}"
            encodings.add(_read_with_encoding(conn, spec, path, variant, csv_path, tag, stack))
            _number_lines(conn, variant, tag)
            _refuse_if_quote_left_open(conn, path, csv_path, tag)
            if not spec.multiline_values:
                _quarantine_values_spanning_lines(conn, spec, variant, tag, lines.result())
            if cut:
                line = conn.execute(
                    f"select greatest((select max(_line) from lines_{tag}), "
                    f"(select max(line) from rejects_{tag}))"
                ).fetchall()[0][0]
                raise TruncatedFile(
                    f"{path}: the file ends mid-record at line {line:,} ({cut}) and has no final line "
                    f"break: it looks cut short in transfer. Nothing was loaded and the previous data "
                    f"for {spec.title} {period:%Y-%m} are kept; ask the publisher for the file again."
                )
            detected.append(
                DetectedFile(path, variant, digests[index].result(), path.stat().st_size, received_at(path))
            )
            tags.append(tag)

    union = " union all by name ".join(f"select * from lines_{tag}" for tag in tags)
    conn.execute(f"create or replace temp view stage_{stem} as {union}")
    # DuckDB logs one reject per problem (a record cut short by 7 fields gives 7): one row per
    # refused record, its reasons joined.
    rejects = " union all ".join(
        f"select {_sql_str(item.path.name)} as source_file, line, "
        f"string_agg(distinct error_type || ': ' || error_message, '; ') as reason, "
        f"any_value(trim(csv_line, chr(10) || chr(13))) as record "
        f"from rejects_{tag} group by line"
        for tag, item in zip(tags, detected, strict=True)
    )
    conn.execute(f"create or replace temp table rejects_{stem} as {rejects}")
    per_file = {
        name: (good, typed_bad)
        for name, good, typed_bad in conn.execute(
            "select _source_file, count(*) filter (where len(_reasons) = 0), "
            f"count(*) filter (where len(_reasons) > 0) from stage_{stem} group by _source_file"
        ).fetchall()
    }
    structural = dict(
        conn.execute(f"select source_file, count(*) from rejects_{stem} group by source_file").fetchall()
    )
    staged = StagedPeriod(
        spec,
        period,
        detected,
        f"stage_{stem}",
        tags,
        f"rejects_{stem}",
        per_file,
        structural,
        "/".join(sorted(encodings)),
    )
    good, bad = staged.rows_good, staged.rows_bad
    names = ", ".join(str(p) for p in files)
    if good == 0 and bad == 0:
        raise EmptyFeedFile(f"{names}: the file has a header but no data rows ({spec.title}, {period:%Y-%m})")
    if bad / (good + bad) > spec.max_quarantine_share:
        sample = conn.execute(
            f"select reason from (select unnest(_reasons) as reason from {staged.view} "
            f"union all select reason from {staged.rejects}) "
            "group by reason order by count(*) desc limit 3"
        ).fetchall()
        raise TooManyRejectedRows(
            f"{names}: {bad:,} of {good + bad:,} rows could not be read or typed "
            f"(over {spec.max_quarantine_share:.0%}); the load was refused and the previous data for "
            f"{period:%Y-%m} kept. Most common reasons: {[r[0] for r in sample]}"
        )
    _refuse_if_shrunk(conn, staged, names)
    return staged


def _refuse_if_shrunk(conn: duckdb.DuckDBPyConnection, staged: StagedPeriod, names: str) -> None:
    """A re-delivery far smaller than the delivery it replaces is refused (a file cut at a line
    break, a partial extract) unless `ACCEPT_SMALLER_DELIVERY` names the feed and month."""
    spec, period = staged.spec, staged.period
    before = conn.execute(
        "select sum(rows_loaded) from meta.load_log where feed = ? and _period = ?", [spec.name, period]
    ).fetchall()[0][0]
    if not before or staged.rows_good >= spec.min_redelivery_share * before:
        return
    if f"{spec.name}/{period:%Y-%m}" in settings.accepted_smaller_deliveries():
        return
    raise ShrunkDelivery(
        f"{names}: {staged.rows_good:,} rows would replace the {before:,} loaded for {spec.title} "
        f"{period:%Y-%m} (under {spec.min_redelivery_share:.0%} of them): a re-delivery this much "
        f"smaller is more likely cut short than corrected. The previous data are kept. If the "
        f"publisher did withdraw rows, accept it with ACCEPT_SMALLER_DELIVERY={spec.name}/{period:%Y-%m}."
    )


def drop_staged(conn: duckdb.DuckDBPyConnection, staged: StagedPeriod) -> None:
    conn.execute(f"drop view if exists {staged.view}")
    conn.execute(f"drop table if exists {staged.rejects}")
    for tag in staged.tags:
        conn.execute(f"drop view if exists lines_{tag}")
        for name in (
            f"stage_{tag}",
            f"rejects_{tag}",
            f"rejects_scan_{tag}",
            f"refused_{tag}",
            f"line_numbers_{tag}",
        ):
            conn.execute(f"drop table if exists {name}")


def _switch_in(conn: duckdb.DuckDBPyConnection, staged: StagedPeriod, loaded_at: datetime) -> None:
    """Replace the period's raw rows, quarantine and load log with the staged ones (inside the
    caller's transaction)."""
    spec, period = staged.spec, staged.period
    canonical = ", ".join(c.name for c in spec.columns)
    conn.execute(f"delete from {spec.raw_table} where _period = ?", [period])
    conn.execute(
        f"insert into {spec.raw_table} by name select {canonical}, _source_file, "
        f"?::date as _period, ?::timestamp as _loaded_at, _schema_variant, _line "
        f"from {staged.view} where len(_reasons) = 0",
        [period, loaded_at],
    )
    conn.execute("delete from meta.quarantine where feed = ? and _period = ?", [spec.name, period])
    conn.execute(
        "insert into meta.quarantine select ?, ?::date, _source_file, _line, "
        f"array_to_string(_reasons, '; '), _record, ? from {staged.view} where len(_reasons) > 0",
        [spec.name, period, loaded_at],
    )
    conn.execute(
        "insert into meta.quarantine select ?, ?::date, source_file, line, reason, record, ? "
        f"from {staged.rejects}",
        [spec.name, period, loaded_at],
    )
    conn.execute("delete from meta.load_log where feed = ? and _period = ?", [spec.name, period])
    for item in staged.files:
        file_good, file_bad = staged.per_file.get(item.path.name, (0, 0))
        conn.execute(
            "insert into meta.load_log values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                spec.name,
                period,
                str(item.path),
                item.sha256,
                item.bytes,
                item.variant.name,
                staged.encoding,
                file_good,
                file_bad + staged.structural.get(item.path.name, 0),
                loaded_at,
                item.received_at,
            ],
        )


def _switch(
    conn: duckdb.DuckDBPyConnection,
    batch: Sequence[StagedPeriod],
    judge: Judge | None,
    window: tuple[date | None, date | None],
) -> tuple[bool, list[Any]]:
    """Switch a batch of staged periods in one transaction; commit it only if the judge accepts
    the result."""
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    faults.checkpoint("load_commit")
    conn.execute("begin transaction")
    try:
        for staged in batch:
            _switch_in(conn, staged, loaded_at)
        accepted, outcomes = True, []
        if judge is not None:
            faults.checkpoint("load_validate")
            accepted, outcomes = judge(conn, *window)
        if not accepted:
            conn.execute("rollback")
            return False, outcomes
        faults.checkpoint("load_before_commit")
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
    return True, outcomes


def _result(conn: duckdb.DuckDBPyConnection, staged: StagedPeriod) -> LoadResult:
    reasons = dict(
        conn.execute(
            "select regexp_replace(reason, ': .*$', '') as kind, count(*) from meta.quarantine "
            "where feed = ? and _period = ? group by kind order by kind",
            [staged.spec.name, staged.period],
        ).fetchall()
    )
    return LoadResult(
        feed=staged.spec.name,
        period=staged.period,
        files=staged.files,
        rows_loaded=staged.rows_good,
        rows_quarantined=staged.rows_bad,
        quarantine_reasons=reasons,
        encoding=staged.encoding,
    )


def commit_periods(
    conn: duckdb.DuckDBPyConnection,
    staged: Sequence[StagedPeriod],
    judge: Judge | None = None,
    *,
    windowed: bool = True,
) -> CommitOutcome:
    """Switch staged periods into the warehouse, judged by the feed's blocking checks first.

    The whole batch is switched in one transaction and judged as the warehouse would hold it
    (monthly feeds over the batch's months; snapshot feeds, `windowed=False`, over everything);
    if the checks refuse it, each period is switched and judged alone, so a bad month is refused
    and every good one loads. A refused period keeps its previous data."""
    outcome = CommitOutcome()
    if not staged:
        return outcome

    def window(batch: Sequence[StagedPeriod]) -> tuple[date | None, date | None]:
        return (min(s.period for s in batch), max(s.period for s in batch)) if windowed else (None, None)

    accepted, outcomes = _switch(conn, staged, judge, window(staged))
    outcome.judgements.append((*window(staged), outcomes))
    if accepted:
        outcome.loaded = [_result(conn, s) for s in staged]
    elif len(staged) == 1:
        outcome.refused[staged[0].period] = outcomes
    else:
        outcome.judgements.clear()
        for single in staged:
            accepted, outcomes = _switch(conn, [single], judge, window([single]))
            outcome.judgements.append((*window([single]), outcomes))
            if accepted:
                outcome.loaded.append(_result(conn, single))
            else:
                outcome.refused[single.period] = outcomes
    for single in staged:
        drop_staged(conn, single)
    return outcome


def load_period(
    conn: duckdb.DuckDBPyConnection,
    spec: FeedSpec,
    period: date,
    files: Sequence[Path],
    judge: Judge | None = None,
) -> LoadResult:
    """Replace one period of a feed with the given files, or leave everything as it was."""
    staged = stage_period(conn, spec, period, files)
    outcome = commit_periods(conn, [staged], judge)
    if outcome.refused:
        failed = [
            f"{o.suite.name}: {f.describe()}"
            for o in outcome.refused[period]
            for f in o.failed
            if f.severity == "error"
        ]
        raise DeliveryRefused(
            f"{', '.join(str(p) for p in files)}: the blocking checks refused {spec.title} {period:%Y-%m} "
            f"and the previous data are kept. Failed: {'; '.join(failed)}"
        )
    return outcome.loaded[0]
