"""Excel workbooks as publishers ship them (.xlsx/.xlsm): one sheet written out as CSV, so the
loader reads it with DuckDB like any other file. Used by `loader.readable_csv` for feeds whose
FeedSpec names `workbook_sheets`.
"""

from __future__ import annotations

import csv
import math
import tempfile
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

from orchestration.lib.feed_spec import FeedSpec

# --------------------------------------------------------------------------------------------
# Excel sheet → CSV, so the CSV loader reads workbooks unchanged
# --------------------------------------------------------------------------------------------


class WorkbookSheetError(ValueError):
    """A workbook sheet could not be turned into a CSV; the message names the file and sheet."""


def _cell_text(value: object) -> str:
    """A cell as the publisher's CSV export would write it (whole numbers without '.0')."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _trim(row: Sequence[str]) -> list[str]:
    cells = list(row)
    while cells and cells[-1] == "":
        cells.pop()
    return cells


def _header_cell(value: str) -> str:
    """A header cell as one line: in-cell line breaks and runs of spaces become one space."""
    return " ".join(value.split())


def _leading_blanks(row: Sequence[str]) -> int:
    return next((i for i, c in enumerate(row) if c.strip()), len(row))


def find_header_row(rows: Sequence[Sequence[str]], first_columns: Sequence[Sequence[str]]) -> int | None:
    """Index of the first row whose leading cells (after any empty leading columns: some
    workbooks start their table in column B) equal one of the given column prefixes."""
    wanted = [[_header_cell(c) for c in prefix] for prefix in first_columns if prefix]
    for index, row in enumerate(rows):
        cells = [_header_cell(c) for c in row[_leading_blanks(row) :]]
        if any(cells[: len(prefix)] == prefix for prefix in wanted):
            return index
    return None


def flatten_header(top: Sequence[str], below: Sequence[str] | None) -> list[str]:
    """Merge a header split over two rows: a sub-title (`Very Good`) replaces its group title.

    `below` counts as a second header row only when the cells under the first header's leading
    names are blank and it names at least two columns (so an `England` totals row is data).
    """
    top = [_header_cell(c) for c in top]
    if below is None:
        return _trim(top)
    below = [_header_cell(c) for c in below] + [""] * max(0, len(top) - len(below))
    leading = next((i for i, c in enumerate(top) if c == ""), len(top))
    is_subheader = all(c == "" for c in below[: min(leading, 2)]) and sum(bool(c) for c in below) >= 2
    if not is_subheader:
        return _trim(top)
    width = max(len(top), len(_trim(below)))
    top = top + [""] * (width - len(top))
    return _trim([below[i] or top[i] for i in range(width)])


def workbook_sheet_to_csv(
    path: Path,
    sheet: str,
    header_row: int | None = None,
    first_columns: Sequence[Sequence[str]] = (),
    out_dir: Path | None = None,
) -> Path:
    """Write one sheet of an .xlsx/.xlsm workbook as a UTF-8 CSV and return its path.

    The header is row `header_row` (1-based, as Excel numbers rows) or the first row whose cells
    start with one of `first_columns` (e.g. the first columns of each schema variant); a second
    header row below it (the published `Breakdown of Responses` / `Very Good` split) is merged in.
    Rows after the header that are entirely blank (templates carry hundreds of formatted empty
    rows) are dropped; formula cells are written as their cached values. The CSV goes to `out_dir`
    or a new temporary folder, which the caller removes.
    """
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True, keep_vba=False)
    except Exception as exc:  # openpyxl raises several kinds for a non-workbook
        raise WorkbookSheetError(f"{path}: not a readable .xlsx/.xlsm workbook: {exc}") from exc
    try:
        if sheet not in workbook.sheetnames:
            raise WorkbookSheetError(f"{path}: no sheet {sheet!r}; the sheets are {workbook.sheetnames}")
        rows = [[_cell_text(v) for v in row] for row in workbook[sheet].iter_rows(values_only=True)]
    finally:
        workbook.close()

    if header_row is not None:
        if not 1 <= header_row <= len(rows):
            raise WorkbookSheetError(f"{path} [{sheet}]: header row {header_row} is outside 1..{len(rows)}")
        start = header_row - 1
    else:
        found = find_header_row(rows, first_columns)
        if found is None:
            wanted = " or ".join(", ".join(p) for p in first_columns) or "nothing (no first_columns given)"
            raise WorkbookSheetError(f"{path} [{sheet}]: no row starts with {wanted}")
        start = found
    offset = _leading_blanks(rows[start])  # a table that starts in column B or later
    rows = [row[offset:] for row in rows]
    below = rows[start + 1] if start + 1 < len(rows) else None
    header = flatten_header(rows[start], below)
    merged = below is not None and header != _trim([_header_cell(c) for c in rows[start]])
    body = rows[start + (2 if merged else 1) :]

    width = len(header)
    data = []
    for row in body:
        if not any(row):
            continue
        extra = [c for c in row[width:] if c]
        if extra:
            raise WorkbookSheetError(
                f"{path} [{sheet}]: a data row has values beyond the {width} header columns: {extra[:3]}"
            )
        data.append((row + [""] * width)[:width])

    folder = out_dir or Path(tempfile.mkdtemp(prefix="cw-xlsx-"))
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{path.stem}__{''.join(c if c.isalnum() else '_' for c in sheet)}.csv"
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(data)
    return target


def variant_first_columns(spec: FeedSpec, n: int = 3) -> tuple[tuple[str, ...], ...]:
    """The first `n` published column names of each headed variant: what header detection looks for."""
    return tuple(v.columns[:n] for v in spec.variants if v.header)


def workbook_sheets(path: Path) -> list[str]:
    """The sheet names of a workbook (a clear error when the file is not one)."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, keep_vba=False)
    except Exception as exc:  # openpyxl raises several kinds for a non-workbook
        raise WorkbookSheetError(f"{path}: not a readable .xlsx/.xlsm workbook: {exc}") from exc
    try:
        return list(workbook.sheetnames)
    finally:
        workbook.close()
