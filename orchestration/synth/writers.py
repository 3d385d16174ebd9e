"""Write files exactly as the publishers do: header spellings, date styles, quoting, CRLF.

Layouts mirror the real files in ../shared/real_formats (see orchestration/defs/reference/feeds.py
for the variants and their provenance).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from orchestration.defs.reference.feeds import GP_PRACTICE_MAP, GP_REGISTERED_PATIENTS, ODS_FIELDS
from orchestration.synth.population import BANDS

# Fixed timestamp inside zip archives so a regenerated sample is byte-identical.
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def write_zip(path: Path, member: str, text: str) -> None:
    """A publisher-style zip holding one CSV (deterministic bytes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    info = zipfile.ZipInfo(member, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(info, text.encode("latin-1", errors="replace"))


def extract_date(month: date, style: str) -> str:
    """EXTRACT_DATE as NHS England writes it: 01SEP2017 (quin-age) or 01Jan2022 (map)."""
    if style == "upper":
        return month.strftime("%d%b%Y").upper()
    if style == "title":
        return month.strftime("%d%b%Y")
    return month.isoformat()


def ods_csv(rows: Iterable[Sequence[str]]) -> str:
    """ODS standard layout: 27 fields, all quoted, no header, CRLF."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    for row in rows:
        if len(row) != len(ODS_FIELDS):
            raise ValueError(f"ODS rows have {len(ODS_FIELDS)} fields, got {len(row)}")
        writer.writerow(row)
    return buffer.getvalue()


def ods_row(values: dict[str, str]) -> list[str]:
    """An ODS row from a dict keyed by ODS_FIELDS names; fields not given are blank."""
    unknown = set(values) - set(ODS_FIELDS)
    if unknown:
        raise ValueError(f"not ODS fields: {sorted(unknown)}")
    return [values.get(name, "") for name in ODS_FIELDS]


def practice_map_csv(month: date, variant: str, columns: dict[str, Sequence[str]]) -> str:
    """gp-reg-pat-prac-map in the layout of the named variant (LF, unquoted unless needed)."""
    header = GP_PRACTICE_MAP.variant(variant).columns
    frame = pd.DataFrame({name: columns[name] for name in header})
    return frame.to_csv(index=False, lineterminator="\n")


def quin_age_csv(
    month: date,
    variant: str,
    codes: np.ndarray,
    postcodes: np.ndarray,
    counts: np.ndarray,
    commissioners: np.ndarray,
    ons_commissioners: np.ndarray,
) -> str:
    """gp-reg-pat-prac-quin-age rows: per practice ALL/ALL, FEMALE bands + ALL, MALE bands + ALL.

    `counts` is practices × 40 (female 20 bands then male 20 bands). CRLF, as published.
    """
    n = len(codes)
    female, male = counts[:, :20], counts[:, 20:]
    values = np.hstack(
        [
            counts.sum(axis=1, keepdims=True),
            female,
            female.sum(axis=1, keepdims=True),
            male,
            male.sum(axis=1, keepdims=True),
        ]
    )
    sexes = ["ALL"] + ["FEMALE"] * 21 + ["MALE"] * 21
    ages = ["ALL", *BANDS, "ALL", *BANDS, "ALL"]
    per = len(sexes)
    layout = GP_REGISTERED_PATIENTS.variant(variant)
    data = {
        "PUBLICATION": np.full(n * per, "GP_PRAC_PAT_LIST"),
        "EXTRACT_DATE": np.full(n * per, extract_date(month, "upper")),
        "SEX": np.tile(sexes, n),
        "NUMBER_OF_PATIENTS": values.reshape(-1),
        "POSTCODE": np.repeat(postcodes, per),
    }
    mapping = {name: published for name, published in layout.mapping.items()}
    data[mapping["org_type"]] = np.full(n * per, "GP")
    data[mapping["org_code"]] = np.repeat(codes, per)
    data[mapping["age_band"]] = np.tile(ages, n)
    if "ons_code" in mapping:
        data[mapping["ons_code"]] = np.full(n * per, "")
    if "commissioner_code" in mapping:
        data[mapping["commissioner_code"]] = np.repeat(commissioners, per)
        data[mapping["ons_commissioner_code"]] = np.repeat(ons_commissioners, per)
    frame = pd.DataFrame({name: data[name] for name in layout.columns})
    return frame.to_csv(index=False, lineterminator="\r\n")
