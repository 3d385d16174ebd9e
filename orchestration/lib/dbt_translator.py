"""How dbt resources appear in Dagster: keyed `schema/table`, grouped by folder.

Sources are keyed `raw/<table>`, the same keys the load assets carry, so the asset graph runs
unbroken from the landing file to the mart. Every model and seed carries its column schema,
typed from its contract, its seed types or dbt's catalog (`orchestration/lib/column_schema.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtProject

from orchestration.lib import column_schema


class CommissioningTranslator(DagsterDbtTranslator):
    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        resource_type = props["resource_type"]
        if resource_type == "source":
            return spec.replace_attributes(key=dg.AssetKey([props["schema"], props["name"]]))
        key = dg.AssetKey([props["schema"], props.get("alias") or props["name"]])
        metadata = dict(spec.metadata)
        schema = column_schema.dbt_column_schema(props, self._catalog.get(unique_id))
        if schema is not None:
            metadata["dagster/column_schema"] = schema
        return spec.replace_attributes(key=key, group_name=self._group(props), metadata=metadata)

    @cached_property
    def _catalog(self) -> dict[str, Mapping[str, Any]]:
        """dbt's catalog (`make docs` writes it), read once: the types of columns no yml declares."""
        return column_schema.load_catalog()

    @staticmethod
    def _group(props: Mapping[str, Any]) -> str:
        """`reference` for models under models/*/reference/, `seeds` for seeds, and so on."""
        if props["resource_type"] == "seed":
            return "reference_data"
        folders = props.get("fqn", [])[1:-1]  # drop the project name and the model name
        if len(folders) >= 2:
            return folders[1]
        return folders[0] if folders else "default"
