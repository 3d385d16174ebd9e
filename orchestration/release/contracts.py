"""The contract lock of the published models: what BI tools and partners may rely on.

Every published model (schema `marts`, named `dim_*`, `fct_*`, `mart_*` or `dq_*`) enforces a dbt
contract, so a build fails when its SQL yields other columns or types than its yml says. That
stops accidents, not decisions: editing the yml changes the contract too. The lock,
`dbt_project/published_contracts.json`, records each model version's columns, types, access and
partitioning as released, and `compare()` says which differences would break a reader:

- breaking: a column removed or retyped on the same model version, a model version no longer
  published, a table moved from the open to the restricted release, a new partition column
  (the release's folders change). The way out is a new model version (dbt `versions:`), so
  readers of the old version keep it while they move, or restoring what was there.
- not in the lock: a new model, version or column, or a restricted table opened. Nothing breaks;
  review it and record it with `python -m orchestration.release.contracts --update`.

`python -m orchestration.release.contracts` checks the lock against `dbt_project/target/
manifest.json` (or `$DBT_TARGET_PATH/manifest.json`; `--manifest` to name another) and exits 1
with the problems; `--update` rewrites the lock from the manifest.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from orchestration.release import tables as published

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
LOCK_PATH = DBT_PROJECT_DIR / "published_contracts.json"
OPEN = published.OPEN
UPDATE_COMMAND = "python -m orchestration.release.contracts --update"
NEW_VERSION = "add a new model version (dbt `versions:`) or restore"


def default_manifest_path() -> Path:
    """Where dbt wrote the manifest: `$DBT_TARGET_PATH` (relative to the dbt project, as dbt
    reads it) when set, else the project's `target/`."""
    target = Path(os.environ.get("DBT_TARGET_PATH", "target")).expanduser()
    return (target if target.is_absolute() else DBT_PROJECT_DIR / target) / "manifest.json"


def published_models(manifest: dict) -> list[dict]:
    """The published dbt models (tables.published_tables, without the `share` source tables,
    which have no dbt contract), by name and version, with their release metadata and columns."""
    return [
        {
            "name": t.name,
            "schema": t.schema,
            "version": t.version,
            "access": t.access,
            "partition_by": t.partition_by,
            "order_by": list(t.order_by),
            "description": t.description,
            "contract_enforced": t.contract_enforced,
            "columns": [
                {"name": c.name, "data_type": c.data_type, "description": c.description} for c in t.columns
            ],
        }
        for t in sorted(published.published_tables(manifest), key=lambda t: (t.name, str(t.version or "")))
        if t.schema == published.PUBLISHED_SCHEMA
    ]


def lock_key(name: str, version: int | str | None) -> str:
    """`fct_x` for an unversioned model, `fct_x.v2` for version 2 (as dbt names the node)."""
    return name if version is None else f"{name}.v{version}"


def lock_from_manifest(manifest: dict) -> dict:
    """The lock as the manifest would write it: per model version, its access, partition column
    and columns in order with their types."""
    return {
        "models": {
            lock_key(m["name"], m["version"]): {
                "name": m["name"],
                "version": m["version"],
                "access": m["access"],
                "partition_by": m["partition_by"],
                "columns": [{"name": c["name"], "data_type": c["data_type"]} for c in m["columns"]],
            }
            for m in published_models(manifest)
        }
    }


def contract_problems(manifest: dict) -> list[str]:
    """Published models a lock cannot describe: no enforced contract, or a column without a type."""
    problems = []
    for m in published_models(manifest):
        key = lock_key(m["name"], m["version"])
        if not m["contract_enforced"]:
            problems.append(f"no contract: {key} must set `config: {{contract: {{enforced: true}}}}`")
        untyped = [c["name"] for c in m["columns"] if not c["data_type"]]
        if untyped:
            problems.append(f"no contract: {key} has columns without a data_type: {', '.join(untyped)}")
    return problems


def _not_in_lock(what: str) -> str:
    return f"not in the lock: {what}: run `{UPDATE_COMMAND}`"


def compare(lock: dict, current: dict) -> list[str]:
    """What differs between the lock and the current contracts, breaking changes first."""
    locked, now = lock.get("models", {}), current.get("models", {})
    breaking, unlocked = [], []
    for key, old in locked.items():
        new = now.get(key)
        if new is None:
            others = sorted(k for k, m in now.items() if m["name"] == old["name"])
            if others:
                unlocked.append(
                    _not_in_lock(f"{key} is gone; the published versions are {', '.join(others)}")
                )
            else:
                breaking.append(
                    f"breaking: {key} is no longer published (removed, renamed or moved out of "
                    f"{published.PUBLISHED_SCHEMA}): restore it, or publish its successor as a new "
                    "model version"
                )
            continue
        new_types = {c["name"]: c["data_type"] for c in new["columns"]}
        old_names = [c["name"] for c in old["columns"]]
        for column in old["columns"]:
            name, old_type = column["name"], column["data_type"]
            if name not in new_types:
                breaking.append(f"breaking: {key}.{name} ({old_type}) was removed: {NEW_VERSION} the column")
            elif new_types[name] != old_type:
                breaking.append(
                    f"breaking: {key}.{name} changed type from {old_type} to {new_types[name]}: "
                    f"{NEW_VERSION} the column's type"
                )
        for column in new["columns"]:
            if column["name"] not in old_names:
                unlocked.append(_not_in_lock(f"{key}.{column['name']} ({column['data_type']}) is new"))
        kept = [c for c in old_names if c in new_types]
        if kept != [c["name"] for c in new["columns"] if c["name"] in old_names]:
            unlocked.append(_not_in_lock(f"{key}'s columns are in a new order"))
        if old["access"] != new["access"]:
            change = f"{key} access changed from {old['access']} to {new['access']}"
            if old["access"] == OPEN:
                breaking.append(f"breaking: {change}, out of the open release: {NEW_VERSION} its access")
            else:
                unlocked.append(_not_in_lock(change))
        if old["partition_by"] != new["partition_by"]:
            breaking.append(
                f"breaking: {key} partition_by changed from {old['partition_by']} to "
                f"{new['partition_by']} (the release's folders change): {NEW_VERSION} its partitioning"
            )
    for key, new in now.items():
        if key not in locked:
            unlocked.append(_not_in_lock(f"{key} ({len(new['columns'])} columns) is a new published model"))
    return breaking + unlocked


def dumps(lock: dict) -> str:
    """The lock as JSON with one column per line, so a change reads as a one-line diff."""
    lines = ["{", '  "models": {']
    models = sorted(lock["models"].items())
    for i, (key, model) in enumerate(models):
        lines.append(f"    {json.dumps(key)}: {{")
        for field in ("name", "version", "access", "partition_by"):
            lines.append(f"      {json.dumps(field)}: {json.dumps(model[field])},")
        lines.append('      "columns": [')
        columns = model["columns"]
        for j, column in enumerate(columns):
            comma = "," if j < len(columns) - 1 else ""
            lines.append(f"        {json.dumps(column, ensure_ascii=False)}{comma}")
        lines.append("      ]")
        lines.append("    }" + ("," if i < len(models) - 1 else ""))
    lines += ["  }", "}"]
    return "\n".join(lines) + "\n"


def load_lock(path: Path = LOCK_PATH) -> dict:
    if not path.is_file():
        return {"models": {}}
    return json.loads(path.read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.release.contracts",
        description="Check the published models' contracts against their lock, or rewrite the lock.",
    )
    parser.add_argument("--update", action="store_true", help="rewrite the lock from the manifest")
    parser.add_argument("--manifest", type=Path, default=None, help="dbt manifest.json to read")
    parser.add_argument("--lock", type=Path, default=LOCK_PATH, help="the lock file")
    args = parser.parse_args(argv)
    manifest_path = args.manifest or default_manifest_path()
    if not manifest_path.is_file():
        print(f"{manifest_path} not found: run `dbt parse` in {DBT_PROJECT_DIR} first", file=sys.stderr)
        return 2
    manifest = json.loads(manifest_path.read_text())
    incomplete = contract_problems(manifest)
    current = lock_from_manifest(manifest)
    changes = compare(load_lock(args.lock), current)
    if args.update:
        if incomplete:
            print("\n".join(["The lock was not written:", *incomplete]), file=sys.stderr)
            return 1
        args.lock.write_text(dumps(current))
        accepted = [c for c in changes if c.startswith("breaking")]
        print(f"Wrote {args.lock} ({len(current['models'])} published models).")
        if accepted:
            print("\n".join(["Breaking changes recorded in the lock:", *accepted]))
        return 0
    problems = incomplete + changes
    if problems:
        print("\n".join([f"The published contracts differ from {args.lock}:", *problems]), file=sys.stderr)
        return 1
    print(f"The published contracts match {args.lock} ({len(current['models'])} models).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
