"""Cost reference files for the generated geography: tariff workbooks and NCC organisation costs.

For every financial year the months touch (April-March), three releases in folder `<YYYY>-04`:

- `tariff_apc_prices/` and `tariff_op_attendance_prices/`: the same tariff workbook (.xlsx), as
  one workbook is published for both sheets. Prices are orchestration/synth/hrg.py's, uplifted
  3% a year from 2022/23; the layout is the 2017/19 national tariff one (with its BPT block) before
  2023/24 and the (UNVERIFIED) NHS Payment Scheme one from 2023/24. Header cells read as the
  workbook cells the 3P transcriptions stand for (`feeds.workbook_heading`), with a space where the
  real cell probably has a line break (the loader cannot read those yet). Title rows sit above
  the header, which starts in column A (the 2017/19 and 2025/26 workbooks start in column B,
  which lib/workbook.py cannot read yet).
- `ncc_org_unit_costs/`: the NCC organisation-level File 1 for the trusts of
  `activity_base.acute_trusts(geo)`, zipped, UTF-8 with a BOM; tab-separated for even start years
  and comma-separated otherwise (which years were which is UNVERIFIED). Departments EL, DC, NEL,
  NES (APC HRGs), OPROC (outpatient procedures), CL (attendances WF01A-D by treatment function)
  and EM (A&E HRGs); a trust's unit cost is the national price times a trust factor and cell
  noise; about 3% of cells are suppressed (`*`).

Planted: `UZ01Z` has `-` for every price and no NCC row, in every release (gap "unpriced_hrg").
Deterministic: the workbooks are re-zipped with fixed timestamps; the NCC CSV is written in a
fixed order by DuckDB.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from openpyxl import Workbook

from orchestration.defs.cost import feeds
from orchestration.synth import activity_base, hrg
from orchestration.synth.context import RECORD_WEIGHT, WriteContext
from orchestration.synth.geography import Geography
from orchestration.synth.manifest import PlantedGap, Receive

BASE_YEAR = 2022  # hrg.py's prices are this financial year's
UPLIFT = 0.03
NHSPS_FROM = 2023  # the NHS Payment Scheme replaced the national tariff in April 2023
PUBLICATION_DAY = 1
UNPRICED_HRG = "UZ01Z"
SUPPRESSED_SHARE = 0.03
MISSING_CELL_SHARE = 0.1  # a trust does not report every currency

_FIXED_TIME = datetime(2020, 1, 1)
_FIXED_STAMP = b"2020-01-01T00:00:00Z"
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)

# HRG chapter (first letter, or two for W/U) → the service (treatment function) its NCC rows carry.
CHAPTER_SERVICE = {
    "A": "400",
    "B": "130",
    "C": "120",
    "D": "340",
    "E": "320",
    "F": "301",
    "G": "100",
    "H": "110",
    "J": "100",
    "K": "307",
    "L": "101",
    "N": "501",
    "P": "420",
    "W": "300",
    "U": "300",
}
EMERGENCY_MEDICINE_SERVICE = "180"

# Mean activity per trust and currency in a year, by NCC department.
VOLUME = {"EL": 60, "DC": 150, "NEL": 200, "NES": 80, "OPROC": 300, "EM": 4000}
# Outpatient attendance currencies: mean attendances per trust and service, and the share of the
# face-to-face first / follow-up price a non-face-to-face attendance costs.
CL_VOLUME = {"WF01B": 1200, "WF01A": 3000, "WF01D": 250, "WF01C": 600}
NON_FACE_TO_FACE = 0.6
# Treatment functions with no multi-professional attendance price (shown as `-`).
NO_MULTI_PROFESSIONAL = {"650", "800"}
MULTI_PROFESSIONAL = 1.35
# Best practice tariffs on a few HRGs (invented values in the 2017/19 BPT block).
BPT = {
    "HT12C": ("HRG", "Fragility hip fracture", "NE", "Yes", "BPT price", "Y"),
    "AA35C": ("HRG", "Acute stroke care", "NE", "No", "Non-BPT price", "Y"),
    "AA35F": ("HRG", "Acute stroke care", "NE", "No", "Non-BPT price", "Y"),
}


def financial_year_of(month: date) -> int:
    """The start year of the financial year (April-March) a month is in."""
    return month.year if month.month >= 4 else month.year - 1


def financial_years(months: list[date]) -> list[int]:
    return sorted({financial_year_of(m) for m in months})


def fy_label(fy: int) -> str:
    return f"{fy}/{(fy + 1) % 100:02d}"


def uplifted(value: float | None, fy: int) -> int | None:
    """A price of hrg.py (2022/23) in another year, in whole pounds."""
    if value is None:
        return None
    return round(value * (1 + UPLIFT) ** (fy - BASE_YEAR))


# --------------------------------------------------------------------------------------------
# Tariff workbook
# --------------------------------------------------------------------------------------------


def _dash(value: object) -> object:
    return "-" if value is None else value


def _combined(h: hrg.Hrg, fy: int) -> int | None:
    """NHSPS layout: one elective price; HRGs priced separately get the mean of the two."""
    if h.combined_day_case_elective is not None:
        return uplifted(h.combined_day_case_elective, fy)
    present = [p for p in (h.day_case, h.ordinary_elective) if p is not None]
    return uplifted(sum(present) / len(present), fy) if present else None


def apc_rows(fy: int) -> tuple[dict[str, str], list[list[object]]]:
    """Header (canonical → published) and the rows of the APC & OPROC sheet for one year."""
    nhsps = fy >= NHSPS_FROM
    variant = feeds.TARIFF_APC_PRICES.variant("nhsps_2023" if nhsps else "ntps_2017_19")
    rows = []
    for h in hrg.HRGS:
        values = {
            "hrg_code": h.code,
            "hrg_name": h.name,
            "outpatient_procedure_price": uplifted(h.outpatient_procedure, fy),
            "combined_day_case_elective_price": _combined(h, fy)
            if nhsps
            else uplifted(h.combined_day_case_elective, fy),
            "day_case_price": uplifted(h.day_case, fy),
            "ordinary_elective_price": uplifted(h.ordinary_elective, fy),
            "elective_trim_days": h.elective_trim_days,
            "non_elective_price": uplifted(h.non_elective, fy),
            "non_elective_trim_days": h.non_elective_trim_days,
            "per_day_long_stay_price": uplifted(h.per_day_long_stay, fy),
            "rsse_applicable": "Yes" if h.short_stay_emergency_applicable else "No",
            "rsse_share": (h.short_stay_emergency_percent / 100) if h.short_stay_emergency_percent else None,
            "rsse_price": uplifted(h.reduced_short_stay_emergency, fy),
        }
        bpt = BPT.get(h.code)
        for i, name in enumerate(
            ("bpt_level", "bpt_name", "bpt_settings", "bpt_sus_automation", "bpt_price_automated", "bpt_flag")
        ):
            values[name] = bpt[i] if bpt else ""
        rows.append([_dash(values[c]) if values[c] != "" else None for c in variant.mapping])
    return dict(variant.mapping), rows


def op_rows(fy: int) -> tuple[dict[str, str], list[list[object]]]:
    variant = feeds.TARIFF_OP_ATTENDANCE_PRICES.variant("ntps_2017_19_outpatients")
    rows = []
    for code, (name, first, follow_up) in sorted(hrg.TREATMENT_FUNCTIONS.items()):
        multi = code not in NO_MULTI_PROFESSIONAL
        rows.append(
            [
                code,
                name,
                uplifted(first, fy),
                uplifted(first * MULTI_PROFESSIONAL, fy) if multi else "-",
                uplifted(follow_up, fy),
                uplifted(follow_up * MULTI_PROFESSIONAL, fy) if multi else "-",
            ]
        )
    return dict(variant.mapping), rows


def _sheet(book: Workbook, title: str, heading: str, header_row: int, columns, rows) -> None:
    sheet = book.create_sheet(title)
    sheet.cell(1, 1, heading)
    sheet.cell(2, 1, "Prices exclude the market forces factor.")
    for j, name in enumerate(columns, start=1):
        sheet.cell(header_row, j, feeds.workbook_heading(name))
    for i, row in enumerate(rows, start=header_row + 1):
        for j, value in enumerate(row, start=1):
            cell = sheet.cell(i, j, value)
            if isinstance(value, float) and value < 1:
                cell.number_format = "0%"
            elif isinstance(value, int) and value >= 1000:
                cell.number_format = "#,##0"


def save_workbook(book: Workbook, path: Path) -> Path:
    """Save with fixed document times and zip timestamps, so the bytes depend on content only
    (openpyxl stamps `dcterms:modified` with the time of saving, whatever the properties say)."""
    book.properties.created = _FIXED_TIME
    buffer = io.BytesIO()
    book.save(buffer)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + _FIXED_STAMP, data)
            info = zipfile.ZipInfo(item.filename, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, data)
    return path


def tariff_workbook_name(fy: int) -> str:
    yy, next_yy = fy % 100, (fy + 1) % 100
    if fy >= NHSPS_FROM:
        return f"{yy:02d}-{next_yy:02d}NHSPS-prices.xlsx"
    return f"{yy:02d}{next_yy:02d}_national_tariff_workbook.xlsx"


def write_tariff_workbook(fy: int, path: Path) -> Path:
    book = Workbook()
    book.active.title = "Contents"
    scheme = "NHS Payment Scheme" if fy >= NHSPS_FROM else "National Tariff Payment System"
    book["Contents"].cell(1, 1, f"{fy_label(fy)} {scheme}: prices workbook (synthetic)")
    header, rows = apc_rows(fy)
    _sheet(
        book,
        feeds.APC_SHEETS[0],
        f"{fy_label(fy)} admitted patient care and outpatient procedure prices",
        6 if fy >= NHSPS_FROM else 4,
        header.values(),
        rows,
    )
    header, rows = op_rows(fy)
    _sheet(book, feeds.OP_SHEETS[0], f"{fy_label(fy)} outpatient attendance prices", 4, header.values(), rows)
    return save_workbook(book, path)


# --------------------------------------------------------------------------------------------
# National Cost Collection organisation-level File 1
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Currency:
    department: str
    code: str
    service: str
    price: float  # the national price this year's unit costs scatter around
    volume: float  # mean activity per trust


def ncc_currencies(fy: int) -> list[Currency]:
    """Every department × currency × service the NCC file reports, with its price basis."""
    out = []
    for h in hrg.HRGS:
        if h.code == UNPRICED_HRG:
            continue
        service = CHAPTER_SERVICE[h.code[0]]
        nes = h.reduced_short_stay_emergency or (h.non_elective * 0.4 if h.non_elective else None)
        basis = {
            "EL": h.ordinary_elective or h.combined_day_case_elective,
            "DC": h.day_case or h.combined_day_case_elective,
            "NEL": h.non_elective,
            "NES": nes,
            "OPROC": h.outpatient_procedure,
        }
        for department, price in basis.items():
            if price is not None:
                out.append(Currency(department, h.code, service, uplifted(price, fy), VOLUME[department]))
    for code, (_, first, follow_up) in sorted(hrg.TREATMENT_FUNCTIONS.items()):
        prices = {
            "WF01B": first,
            "WF01A": follow_up,
            "WF01D": first * NON_FACE_TO_FACE,
            "WF01C": follow_up * NON_FACE_TO_FACE,
        }
        for currency, price in prices.items():
            out.append(Currency("CL", currency, code, uplifted(price, fy), CL_VOLUME[currency]))
    for currency, (_, price) in hrg.AE_HRGS.items():
        out.append(Currency("EM", currency, EMERGENCY_MEDICINE_SERVICE, uplifted(price, fy), VOLUME["EM"]))
    return out


def ncc_header(fy: int) -> dict[str, str]:
    """canonical → published column names of the year's File 1 (order as written; UNVERIFIED)."""
    layout = "org_code" if fy >= 2024 else "national_underscore" if fy == 2022 else "provider_code"
    mapping = feeds.NCC_ORG_UNIT_COSTS.variant(f"{layout}_comma").mapping
    return {c: mapping[c] for c in mapping if c != "scaled_mff"}


def ncc_file_names(fy: int) -> tuple[str, str]:
    """(zip name, csv name inside) as NHS England names the File 1 download."""
    if fy >= 2024:
        stem = f"NCC_FY{fy}-{(fy + 1) % 100:02d}_Org_File1"
        return f"{stem}.zip", f"{stem}.csv"
    stem = f"Organisation_level_source_data_1_{fy % 100:02d}{(fy + 1) % 100:02d}"
    return f"{stem}.zip", f"{stem} v2.csv"


def _ncc_cells(trusts: list[activity_base.Provider], currencies: list[Currency], rng) -> pd.DataFrame:
    """Trust × currency cells with activity and unit cost (numpy draws, one row per cell)."""
    n_trusts, n_cur = len(trusts), len(currencies)
    price = np.array([c.price for c in currencies])
    volume = np.array([c.volume for c in currencies])
    trust_factor = rng.lognormal(0, 0.08, n_trusts)
    trust_size = rng.lognormal(0, 0.4, n_trusts)
    noise = rng.lognormal(0, 0.12, (n_trusts, n_cur))
    activity = np.maximum(
        rng.poisson(np.outer(trust_size, volume) * rng.lognormal(0, 0.5, (n_trusts, n_cur))), 1
    )
    kept = rng.random((n_trusts, n_cur)) >= MISSING_CELL_SHARE
    suppressed = rng.random((n_trusts, n_cur)) < SUPPRESSED_SHARE
    trust_index, currency_index = np.indices((n_trusts, n_cur))
    frame = pd.DataFrame(
        {
            "trust": trust_index.ravel(),
            "currency": currency_index.ravel(),
            "activity": activity.ravel(),
            "unit_cost": (price[None, :] * trust_factor[:, None] * noise).ravel(),
            "suppressed": suppressed.ravel(),
        }
    )
    return frame[kept.ravel()]


def write_ncc_file(
    fy: int, trusts: list[activity_base.Provider], rng: np.random.Generator, folder: Path
) -> tuple[Path, int]:
    """Write the year's File 1 zip; return its path and the number of suppressed rows."""
    currencies = ncc_currencies(fy)
    cells = _ncc_cells(trusts, currencies, rng)
    header = ncc_header(fy)
    delimiter = "\t" if fy % 2 == 0 else ","
    zip_name, csv_name = ncc_file_names(fy)
    conn = duckdb.connect()
    try:
        conn.register("cells", cells)
        conn.register("trusts", pd.DataFrame({"trust": range(len(trusts)), "code": [t.code for t in trusts]}))
        conn.register(
            "currencies",
            pd.DataFrame(
                {
                    "currency": range(len(currencies)),
                    "department": [c.department for c in currencies],
                    "code": [c.code for c in currencies],
                    "service": [c.service for c in currencies],
                }
            ),
        )
        star = "'*'"
        query = f"""
            with costed as (
                select t.code as provider, c.department, c.service, c.code as currency, x.activity,
                    round(x.activity * x.unit_cost, 2) as cost, x.suppressed
                from cells as x
                join trusts as t using (trust)
                join currencies as c using (currency)
            ),
            national as (
                select department, currency, round(sum(cost) / sum(activity), 2) as national_mean
                from costed group by department, currency
            )
            select
                provider as "{header["provider_code"]}",
                department as "{header["department_code"]}",
                service as "{header["service_code"]}",
                currency as "{header["currency_code"]}",
                case when suppressed then {star} else cast(activity as varchar) end as "{header["activity"]}",
                case when suppressed then {star} else printf('%.2f', cost) end as "{header["actual_cost"]}",
                case when suppressed then {star} else printf('%.2f', activity * national_mean) end
                    as "{header["expected_cost"]}",
                printf('%.2f', national_mean) as "{header["national_mean"]}"
            from costed join national using (department, currency)
            order by provider, department, service, currency
        """
        staged = folder / f".{csv_name}.tmp"
        activity_base.copy_to_csv(conn, query, staged, delimiter=delimiter)
        suppressed = int(cells["suppressed"].sum())
    finally:
        conn.close()
    csv_path = folder / csv_name
    csv_path.write_bytes(b"\xef\xbb\xbf" + staged.read_bytes())  # UTF-8 with BOM, as published
    staged.unlink()
    return activity_base.zip_file(csv_path, folder / zip_name, csv_name), suppressed


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def write_cost(
    geo: Geography,
    seed: int,
    out: Path,
    months: list[date],
    receive: Receive,
    scale: str = "sample",
) -> list[PlantedGap]:
    """Write the tariff and NCC releases of every financial year the months touch; return the
    planted gaps. Annual reference data are not thinned,
    so `scale` changes only the number of trusts (through the geography)."""
    del scale
    trusts = activity_base.acute_trusts(geo)
    rng = activity_base.feed_rng(seed, feeds.NCC_ORG_UNIT_COSTS.name)
    gaps = []
    for fy in financial_years(months):
        release = date(fy, 4, 1)
        folder_name = f"{release:%Y-%m}"
        name = tariff_workbook_name(fy)
        first = out / feeds.TARIFF_APC_PRICES.name / folder_name / name
        write_tariff_workbook(fy, first)
        receive(feeds.TARIFF_APC_PRICES.name, release, first, PUBLICATION_DAY)
        second = out / feeds.TARIFF_OP_ATTENDANCE_PRICES.name / folder_name / name
        second.parent.mkdir(parents=True, exist_ok=True)
        second.write_bytes(first.read_bytes())
        receive(feeds.TARIFF_OP_ATTENDANCE_PRICES.name, release, second, PUBLICATION_DAY)

        folder = out / feeds.NCC_ORG_UNIT_COSTS.name / folder_name
        folder.mkdir(parents=True, exist_ok=True)
        path, suppressed = write_ncc_file(fy, trusts, rng, folder)
        receive(feeds.NCC_ORG_UNIT_COSTS.name, release, path, PUBLICATION_DAY)
        gaps.append(
            PlantedGap(
                "unpriced_hrg",
                feeds.TARIFF_APC_PRICES.name,
                folder_name,
                "",
                f"{UNPRICED_HRG} (Data Invalid for Grouping) shows '-' for every price in the "
                f"{fy_label(fy)} APC & OPROC sheet and has no NCC row; the release also has "
                f"{suppressed} suppressed ('*') NCC rows",
            )
        )
    return gaps


class CostWriter:
    label = "cost"

    def steps(self, ctx: WriteContext) -> int:
        return RECORD_WEIGHT * len(ctx.months)

    def write(self, ctx: WriteContext) -> list[PlantedGap]:
        return write_cost(ctx.geo, ctx.seed, ctx.out, ctx.months, ctx.receive, ctx.scale)
