"""Blocking checks judge the staged month before it replaces anything.

A load asset runs in-process over three months of the shipped practice-to-commissioner map;
then February is re-delivered broken (January's file dropped in February's folder, or with a
duplicated practice, or with malformed practice codes). The blocking structure suite refuses
the delivery inside the switch's transaction, so February keeps the rows it had, the check
fails as an error naming the month, and January and March, re-delivered in the same run,
load.
"""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG
from dagster_duckdb import DuckDBResource

from orchestration.defs.reference.assets import gp_practice_map
from orchestration.defs.reference.feeds import GP_PRACTICE_MAP
from orchestration.lib import faults
from tests.helpers import SAMPLE

MONTHS = ("2021-01", "2021-02", "2021-03")
FILE = "gp-reg-pat-prac-map.zip"


def _run(landing: Path, warehouse: Path, reports: Path) -> dg.ExecuteInProcessResult:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LANDING_DIR", str(landing))
        patch.setenv("WAREHOUSE_PATH", str(warehouse))
        patch.setenv("REPORTS_DIR", str(reports))
        return dg.materialize(
            [gp_practice_map],
            resources={"duckdb": DuckDBResource(database=str(warehouse))},
            instance=dg.DagsterInstance.ephemeral(),
            tags={
                ASSET_PARTITION_RANGE_START_TAG: f"{MONTHS[0]}-01",
                ASSET_PARTITION_RANGE_END_TAG: f"{MONTHS[-1]}-01",
            },
            raise_on_error=False,
        )


def _month_digest(warehouse: Path, month: str) -> tuple:
    """Rows and an order-independent checksum of one month (every column but the load time)."""
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return conn.execute(
            "select count(*), bit_xor(hash(columns(* exclude (_loaded_at)))) "
            "from raw.gp_practice_map where _period = ?::date",
            [f"{month}-01"],
        ).fetchone()


def _csv_of(month: str) -> str:
    with zipfile.ZipFile(SAMPLE / GP_PRACTICE_MAP.name / month / FILE) as archive:
        (member,) = archive.namelist()
        return archive.read(member).decode("utf-8-sig")


def _redeliver(landing: Path, month: str, text: str) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("gp-reg-pat-prac-map.csv", text)
    (landing / GP_PRACTICE_MAP.name / month / FILE).write_bytes(buffer.getvalue())


def _duplicated(text: str) -> str:
    lines = text.rstrip("\r\n").splitlines()
    return "\n".join([*lines, lines[1]]) + "\n"


def _malformed_codes(text: str) -> str:
    lines = text.rstrip("\r\n").splitlines()
    header = lines[0].split(",")
    at = next(i for i, name in enumerate(header) if name.strip('"') == "PRACTICE_CODE")
    broken = []
    for index, line in enumerate(lines):
        fields = line.split(",")
        if index and index % 10 == 0:
            fields[at] = "b8" + fields[at][2:].lower()  # not [A-Z][0-9]{5}
        broken.append(",".join(fields))
    return "\n".join(broken) + "\n"


@pytest.fixture
def loaded(tmp_path):
    landing = tmp_path / "landing"
    for month in MONTHS:
        shutil.copytree(SAMPLE / GP_PRACTICE_MAP.name / month, landing / GP_PRACTICE_MAP.name / month)
    warehouse = tmp_path / "warehouse.duckdb"
    assert _run(landing, warehouse, tmp_path / "reports").success
    return landing, warehouse, tmp_path / "reports"


@pytest.mark.parametrize(
    ("broken", "failing"),
    [
        (lambda: _csv_of("2021-01"), "extract_month_matches_period"),
        (lambda: _duplicated(_csv_of("2021-02")), "expect_compound_columns_to_be_unique"),
        (lambda: _malformed_codes(_csv_of("2021-02")), "match_regex on practice_code"),
    ],
    ids=["wrong_period", "duplicate_rows", "malformed_practice_codes"],
)
def test_a_refused_month_keeps_its_data_and_the_other_months_load(loaded, broken, failing):
    landing, warehouse, reports = loaded
    before = {month: _month_digest(warehouse, month) for month in MONTHS}
    _redeliver(landing, "2021-02", broken())

    result = _run(landing, warehouse, reports)

    (check,) = [
        c for c in result.get_asset_check_evaluations() if c.check_name == "structure"
    ]  # the blocking suite
    assert not check.passed
    assert check.severity == dg.AssetCheckSeverity.ERROR
    failures = check.metadata["failures"].value
    assert "2021-02 refused, previous data kept" in failures
    assert failing in failures
    # One materialisation per month of the range, each with the run's metadata.
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["months_refused"].value == "2021-02"
    assert metadata["periods_loaded"].value == "2021-01, 2021-03"
    assert {month: _month_digest(warehouse, month) for month in MONTHS} == before
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        loaded_at = conn.execute(
            "select _period, count(distinct _loaded_at) from raw.gp_practice_map group by _period order by 1"
        ).fetchall()
        log = conn.execute(
            "select strftime(_period, '%Y-%m'), count(*) from meta.load_log group by 1 order by 1"
        ).fetchall()
    assert [n for _, n in loaded_at] == [1, 1, 1]
    assert log == [(month, 1) for month in MONTHS]


def test_a_clean_redelivery_is_judged_once_for_the_whole_window(loaded, tmp_path, monkeypatch):
    """The common case costs one judgement: the batch of months switched together."""
    landing, warehouse, reports = loaded
    marks = tmp_path / "marks"
    monkeypatch.setenv(faults.ENV, str(marks))
    _redeliver(landing, "2021-02", _csv_of("2021-02").replace("\r\n", "\n"))  # new bytes, same rows
    result = _run(landing, warehouse, reports)
    assert result.success
    assert (marks / "load_validate").is_file()
    (check,) = [c for c in result.get_asset_check_evaluations() if c.check_name == "structure"]
    # Only the sample's planted warning (practices outside a PCN); nothing refused.
    assert check.passed or check.severity == dg.AssetCheckSeverity.WARN
    assert "refused" not in check.metadata["failures"].value
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["months_refused"].value == "none"
