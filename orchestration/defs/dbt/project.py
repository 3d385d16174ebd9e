"""The one cached dbt project and its CLI resource."""

from __future__ import annotations

from dagster_dbt import DbtCliResource, DbtProject

from orchestration.lib import settings

settings.export_environment()

dbt_project = DbtProject(project_dir=settings.DBT_PROJECT_DIR, profiles_dir=settings.DBT_PROJECT_DIR)
# Under `dagster dev` the manifest is re-parsed at load; elsewhere `make` prepares it first.
dbt_project.prepare_if_dev()

# export_environment() put this interpreter's bin folder (with its dbt) first on PATH.
dbt_resource = DbtCliResource(project_dir=dbt_project, profiles_dir=str(settings.DBT_PROJECT_DIR))
