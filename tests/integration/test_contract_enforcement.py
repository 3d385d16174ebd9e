"""dbt refuses to build a published model whose SQL no longer yields its contract.

On copies of the sample warehouse and of the dbt project, `dbt run --select dim_region` builds
as it stands, and fails with dbt's contract error, naming the column, once the model's SQL
retypes or drops a column its yml promises.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT

DBT = Path(sys.executable).parent / "dbt"
MODEL = Path("models/marts/reference/dim_region.sql")
SELECTED = "        region_name,\n        ons_region_code\n"

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("sample")]  # one worker: conftest.py


@pytest.fixture
def project(sample_warehouse: Path, tmp_path: Path) -> Path:
    """A copy of the dbt project (with the seeds it reads at ../seeds/reference) beside a copy of
    the built sample warehouse; the dbt project folder."""
    shutil.copytree(
        REPO_ROOT / "dbt_project", tmp_path / "dbt_project", ignore=shutil.ignore_patterns("target", "logs")
    )
    shutil.copytree(REPO_ROOT / "seeds" / "reference", tmp_path / "seeds" / "reference")
    shutil.copy(sample_warehouse, tmp_path / "warehouse.duckdb")
    return tmp_path / "dbt_project"


def dbt_run(project: Path, select: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "WAREHOUSE_PATH": str(project.parent / "warehouse.duckdb"),
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    env.pop("DBT_TARGET_PATH", None)  # the copy's own target/
    return subprocess.run(
        [str(DBT), "run", "--select", select, "--profiles-dir", "."],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def rewrite_model(project: Path, new_columns: str) -> None:
    path = project / MODEL
    sql = path.read_text()
    assert SELECTED in sql, f"{MODEL} no longer selects its columns as this test expects"
    path.write_text(sql.replace(SELECTED, new_columns))


def contract_error(result: subprocess.CompletedProcess) -> str:
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-4000:]
    assert "This model has an enforced contract that failed." in output, output[-4000:]
    return output


def test_the_model_as_it_stands_meets_its_contract(project):
    result = dbt_run(project, "dim_region")
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    assert "PASS=1" in result.stdout


def test_a_retyped_column_fails_the_contract_and_names_the_column(project):
    rewrite_model(
        project, "        region_name,\n        try_cast(ons_region_code as integer) as ons_region_code\n"
    )
    output = contract_error(dbt_run(project, "dim_region"))
    (row,) = [line for line in output.splitlines() if "| ons_region_code" in line]
    assert "INTEGER" in row and "VARCHAR" in row and "data type mismatch" in row


def test_a_dropped_column_fails_the_contract_and_names_the_column(project):
    rewrite_model(project, "        region_name\n")
    output = contract_error(dbt_run(project, "dim_region"))
    (row,) = [line for line in output.splitlines() if "| ons_region_code" in line]
    assert "missing in definition" in row
