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
from a temporary extraction.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from orchestration.lib import faults, scratch
from orchestration.lib.feed_spec import FeedSpec, SchemaVariant
from orchestration.lib.load_errors import (  # callers also catch them from here
    EmptyFeedFile,
    FeedLoadError,
    MissingSubmission,
    TooManyRejectedRows,
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
    sheet of an Excel workbook written out as CSV (the original file is never touched)."""
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        from orchestration.lib.workbook import variant_first_columns, workbook_sheet_to_csv, workbook_sheets

        sheets = spec.workbook_sheets if spec else ()
        present = [s for s in sheets if s in workbook_sheets(path)]
        if not present:
            raise FeedLoadError(
                f"{path}: none of the sheets {list(sheets)} is in the workbook "
                f"(it has {workbook_sheets(path)})"
            )
        with scratch.folder("sheet") as tmp:  # a killed load's copy is removed by the next
            yield workbook_sheet_to_csv(
                path, present[0], first_columns=variant_first_columns(spec), out_dir=tmp
            )
        return
    if path.suffix.lower() != ".zip":
        yield path
        return
    with zipfile.ZipFile(path) as archive:
        members = [m for m in archive.namelist() if m.lower().endswith((".csv", ".txt"))]
        if len(members) != 1:
            raise FeedLoadError(
                f"{path}: expected exactly one .csv or .txt file inside the zip archive, "
                f"found {members or 'none'}"
            )
        with scratch.folder("unzip") as tmp:  # a killed load's copy is removed by the next
            target = tmp / Path(members[0]).name
            with archive.open(members[0]) as src, target.open("wb") as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
            yield target


def _first_record(path: Path, delimiter: str) -> list[str]:
    """The first CSV record of a file (its header, or its first row when headerless)."""
    with path.open("rb") as handle:
        head = handle.read(1 << 16)
    if not head.strip():
        raise EmptyFeedFile(f"{path}: the file is empty (0 bytes of data)")
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:  # an Excel "CSV" re-save is cp1252; the reader falls back too
        cut = exc.start >= len(head) - 4  # a character cut by the 64 KiB read, not a wrong encoding
        text = head[: exc.start].decode("utf-8-sig") if cut else head.decode("latin-1")
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        return next(reader)
    except (StopIteration, csv.Error) as exc:
        raise FeedLoadError(f"{path}: could not read a first record: {exc}") from exc


def _delimiters(spec: FeedSpec) -> list[str]:
    return list(dict.fromkeys([spec.delimiter, *(v.delimiter for v in spec.variants if v.delimiter)]))


def detect_variant(spec: FeedSpec, path: Path, csv_path: Path | None = None) -> SchemaVariant:
    """Which known layout a file is in, or a clear error naming what was found."""
    records = {d: _first_record(csv_path or path, d) for d in _delimiters(spec)}
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
    shown = ", ".join(found) if len(found) <= 40 else ", ".join(found[:40]) + f", … ({len(found) - 40} more)"
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
        extra = [] if closest.subset else [c for c in found if c not in closest.columns]
        hint = (
            f"\nClosest known variant is {closest.name}: missing {missing or 'nothing'}, "
            f"unexpected {extra or 'nothing'}."
        )
    if len(headers[spec.delimiter]) == 1 and any(
        sep in record[0] for sep in ("|", ";", "\t", ",") if sep not in _delimiters(spec)
    ):
        hint += f"\nThe first line has no {spec.delimiter!r}: is the delimiter wrong?"
    raise UnknownSchemaVariant(
        f"{path}: the header is not a known {spec.title} layout.\n"
        f"Found {len(found)} columns: {shown}\nKnown variants:\n{known}{hint}"
    )


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
                f"{_sql_str(label + ': ')} || {value} || "
                f"{_sql_str(' is not a valid ' + col.sql_type.lower())} end"
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
) -> str:
    """Stage one file into a temp table in file order; fall back from UTF-8 to Latin-1 as ODS
    files need."""
    encodings = [spec.encoding] + [e for e in ("utf-8", "latin-1") if e != spec.encoding]
    last_error: Exception | None = None
    with _in_file_order(conn):  # row ids in file order: see _number_lines
        for encoding in encodings:
            read_sql = _read_csv_sql(spec, variant, csv_path, encoding, tag)
            try:
                conn.execute(
                    f"create or replace temp table stage_{tag} as "
                    + _typed_select(spec, variant, read_sql, path.name)
                )
                misread = conn.execute(
                    f"select count(*) from rejects_{tag} where error_type = 'INVALID ENCODING'"
                ).fetchall()[0][0]
                if misread and encoding != encodings[-1]:
                    continue  # an Excel "CSV" re-save (cp1252): read it again as Latin-1
                return encoding
            except duckdb.InvalidInputException as exc:
                last_error = exc
                if "unicode" not in str(exc).lower() and "encoding" not in str(exc).lower():
                    break
    raise FeedLoadError(f"{path}: DuckDB could not read the file: {last_error}") from last_error


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


def load_period(
    conn: duckdb.DuckDBPyConnection, spec: FeedSpec, period: date, files: Sequence[Path]
) -> LoadResult:
    """Replace one period of a feed with the given files, or leave everything as it was."""
    if not files:
        raise MissingSubmission(f"{spec.title}: no file for {period:%Y-%m}")
    absent = [str(p) for p in files if not Path(p).is_file()]
    if absent:
        raise FeedLoadError(f"{spec.title} {period:%Y-%m}: file not found: {', '.join(absent)}")
    ensure_raw_table(conn, spec)

    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    detected: list[DetectedFile] = []
    encodings: set[str] = set()
    with ExitStack() as stack:
        hashing = stack.enter_context(ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256"))
        digests = [hashing.submit(sha256_of, Path(path)) for path in files]  # while DuckDB reads
        tags = []
        faults.checkpoint("load_read")
        for index, path in enumerate(files):
            csv_path = stack.enter_context(readable_csv(path, spec))
            variant = detect_variant(spec, path, csv_path)
            tag = f"{spec.name}_{index}"
            encodings.add(_read_with_encoding(conn, spec, path, variant, csv_path, tag))
            _number_lines(conn, variant, tag)
            detected.append(
                DetectedFile(path, variant, digests[index].result(), path.stat().st_size, received_at(path))
            )
            tags.append(tag)

        union = " union all by name ".join(f"select * from lines_{tag}" for tag in tags)
        conn.execute(f"create or replace temp view stage_{spec.name} as {union}")
        # DuckDB logs one reject per problem (a record cut short by 7 fields gives 7): one row
        # per refused record, its reasons joined.
        rejects = " union all ".join(
            f"select {_sql_str(item.path.name)} as source_file, line, "
            f"string_agg(distinct error_type || ': ' || error_message, '; ') as reason, "
            f"any_value(trim(csv_line, chr(10) || chr(13))) as record "
            f"from rejects_{tag} group by line"
            for tag, item in zip(tags, detected, strict=True)
        )
        conn.execute(f"create or replace temp table rejects_{spec.name} as {rejects}")

    per_file = {
        name: (good, typed_bad)
        for name, good, typed_bad in conn.execute(
            "select _source_file, count(*) filter (where len(_reasons) = 0), "
            f"count(*) filter (where len(_reasons) > 0) from stage_{spec.name} group by _source_file"
        ).fetchall()
    }
    structural = dict(
        conn.execute(f"select source_file, count(*) from rejects_{spec.name} group by source_file").fetchall()
    )
    good = sum(g for g, _ in per_file.values())
    bad = sum(b for _, b in per_file.values()) + sum(structural.values())
    names = ", ".join(str(p) for p in files)
    if good == 0 and bad == 0:
        raise EmptyFeedFile(f"{names}: the file has a header but no data rows ({spec.title}, {period:%Y-%m})")
    if bad / (good + bad) > spec.max_quarantine_share:
        sample = conn.execute(
            f"select reason from (select unnest(_reasons) as reason from stage_{spec.name} "
            f"union all select reason from rejects_{spec.name}) "
            "group by reason order by count(*) desc limit 3"
        ).fetchall()
        raise TooManyRejectedRows(
            f"{names}: {bad:,} of {good + bad:,} rows could not be read or typed "
            f"(over {spec.max_quarantine_share:.0%}); the load was refused and the previous data for "
            f"{period:%Y-%m} kept. Most common reasons: {[r[0] for r in sample]}"
        )

    canonical = ", ".join(c.name for c in spec.columns)
    faults.checkpoint("load_commit")
    conn.execute("begin transaction")
    try:
        conn.execute(f"delete from {spec.raw_table} where _period = ?", [period])
        conn.execute(
            f"insert into {spec.raw_table} by name select {canonical}, _source_file, "
            f"?::date as _period, ?::timestamp as _loaded_at, _schema_variant, _line "
            f"from stage_{spec.name} where len(_reasons) = 0",
            [period, loaded_at],
        )
        conn.execute("delete from meta.quarantine where feed = ? and _period = ?", [spec.name, period])
        conn.execute(
            "insert into meta.quarantine select ?, ?::date, _source_file, _line, "
            f"array_to_string(_reasons, '; '), _record, ? from stage_{spec.name} where len(_reasons) > 0",
            [spec.name, period, loaded_at],
        )
        conn.execute(
            "insert into meta.quarantine select ?, ?::date, source_file, line, reason, record, ? "
            f"from rejects_{spec.name}",
            [spec.name, period, loaded_at],
        )
        conn.execute("delete from meta.load_log where feed = ? and _period = ?", [spec.name, period])
        for item in detected:
            file_good, file_bad = per_file.get(item.path.name, (0, 0))
            rejected = structural.get(item.path.name, 0)
            conn.execute(
                "insert into meta.load_log values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    spec.name,
                    period,
                    str(item.path),
                    item.sha256,
                    item.bytes,
                    item.variant.name,
                    "/".join(sorted(encodings)),
                    file_good,
                    file_bad + rejected,
                    loaded_at,
                    item.received_at,
                ],
            )
        faults.checkpoint("load_before_commit")
        conn.execute("commit")
    except Exception:
        conn.execute("rollback")
        raise

    reasons = dict(
        conn.execute(
            "select regexp_replace(reason, ': .*$', '') as kind, count(*) from meta.quarantine "
            "where feed = ? and _period = ? group by kind order by kind",
            [spec.name, period],
        ).fetchall()
    )
    return LoadResult(
        feed=spec.name,
        period=period,
        files=detected,
        rows_loaded=good,
        rows_quarantined=bad,
        quarantine_reasons=reasons,
        encoding="/".join(sorted(encodings)),
    )
