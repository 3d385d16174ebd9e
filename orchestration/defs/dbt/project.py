"""The one cached dbt project and its CLI resource.

The manifest Dagster reads is `dbt_project/target/manifest.json`, which `make` re-parses when a
model, macro, seed or the project file changes (every make target that loads the definitions
depends on it). Nothing here re-parses it, so `make ui` never rewrites the target folder that
`make run` relies on.
"""

from __future__ import annotations

from dagster_dbt import DbtCliResource, DbtProject

from orchestration.lib import settings

settings.export_environment()

dbt_project = DbtProject(project_dir=settings.DBT_PROJECT_DIR, profiles_dir=settings.DBT_PROJECT_DIR)

# export_environment() put this interpreter's bin folder (with its dbt) first on PATH.
dbt_resource = DbtCliResource(project_dir=dbt_project, profiles_dir=str(settings.DBT_PROJECT_DIR))
