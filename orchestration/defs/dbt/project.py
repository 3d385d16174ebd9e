"""The one cached dbt project and its CLI resource."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from orchestration.lib import settings

settings.export_environment()

dbt_project = DbtProject(project_dir=settings.DBT_PROJECT_DIR, profiles_dir=settings.DBT_PROJECT_DIR)
# Under `dagster dev` the manifest is re-parsed at load; elsewhere `make` prepares it first.
dbt_project.prepare_if_dev()

# The dbt installed beside this interpreter, so the venv works without being activated.
_venv_dbt = Path(sys.executable).parent / "dbt"
dbt_resource = DbtCliResource(
    project_dir=dbt_project,
    profiles_dir=str(settings.DBT_PROJECT_DIR),
    dbt_executable=str(_venv_dbt) if _venv_dbt.exists() else (shutil.which("dbt") or "dbt"),
)
