"""Keep every validation run and render the runs as GX Data Docs, a static site.

Two steps, so that checks running in parallel processes never share a GX context:

- `store(outcomes, docs_root)` writes each suite outcome's GX validation result as one JSON
  file under `docs_root/results/<suite>/<run name>/<run time>.json` (GX's own serialisation,
  written atomically). It needs no Data Context and is safe to call from concurrent checks.
- `build(docs_root)` opens a file-mode GX Data Context at `docs_root/gx`, adds the suites and
  the results not yet in its validation results store, and runs GX's own site builder
  (`build_data_docs`). The site is `docs_root/gx/uncommitted/data_docs/local_site/index.html`.

The pages are static files. The site index lists its runs with JavaScript and stylesheets that
GX loads from public CDNs: offline it shows its links to "Validation Results" and "Expectation
Suites" but no table. Each validation result page is plain HTML and reads offline (unstyled);
`validation_pages` finds them, so the gap report links to them directly.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orchestration.lib.validation import SuiteOutcome

RESULTS_DIR = "results"
GX_DIR = "gx"
SITE_NAME = "local_site"
SITE_DIR = Path("uncommitted", "data_docs", SITE_NAME)
_RUN_TIME_FORMAT = "%Y%m%dT%H%M%S.%fZ"  # GX's RunIdentifier.to_tuple() format


def store(
    outcomes: Iterable[SuiteOutcome],
    docs_root: Path,
    run_name: str | None = None,
    run_time: datetime | None = None,
) -> list[Path]:
    """Persist the GX validation result of each outcome; returns the JSON files written.

    `run_name` groups results in the Data Docs (e.g. the partition key `2024-01`); it defaults
    to the run time. Outcomes without a GX result (not produced by `validation.run_suite`) are
    skipped.
    """
    run_time = (run_time or datetime.now(UTC)).astimezone(UTC)
    run_name = run_name or run_time.strftime("%Y-%m-%dT%H:%M:%SZ")
    written = []
    for outcome in outcomes:
        if outcome.gx_result is None:
            continue
        result = outcome.gx_result.to_json_dict()
        result["meta"]["run_id"] = {"run_name": run_name, "run_time": run_time.isoformat()}
        result["meta"]["validation_time"] = run_time.isoformat()
        record = {
            "suite": outcome.suite.name,
            "feed": outcome.suite.feed,
            "description": outcome.suite.description,
            "expectations": outcome.suite.raw["expectations"],
            "run_name": run_name,
            "run_time": run_time.strftime(_RUN_TIME_FORMAT),
            "result": result,
        }
        path = docs_root / RESULTS_DIR / outcome.suite.name / _safe(run_name) / f"{record['run_time']}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.part")
        partial.write_text(json.dumps(record, indent=1, default=str))
        partial.replace(path)
        written.append(path)
    return written


def build(docs_root: Path) -> Path:
    """Render GX Data Docs from every stored result; returns the site's index.html.

    Results already in the context's store are not re-added; the whole site is rebuilt, so the
    index lists every run kept under `docs_root`.
    """
    records = [json.loads(p.read_text()) for p in sorted((docs_root / RESULTS_DIR).glob("*/*/*.json"))]
    context, previous = _file_context(docs_root / GX_DIR)
    try:
        _add_to_stores(context, records)
        context.build_data_docs(site_names=[SITE_NAME])
    finally:
        _restore_current_context(previous)
    index = docs_root / GX_DIR / SITE_DIR / "index.html"
    if not index.exists():
        raise FileNotFoundError(f"GX built no Data Docs index at {index}")
    return index


def validation_pages(index: Path) -> dict[str, Path]:
    """Suite name → its latest validation result page in a built site (by run time)."""
    latest: dict[str, tuple[str, Path]] = {}
    for page in (index.parent / "validations").glob("*/*/*/*.html"):
        suite, run_time = page.parts[-4], page.parts[-2]
        if suite not in latest or run_time > latest[suite][0]:
            latest[suite] = (run_time, page)
    return {suite: page for suite, (_, page) in sorted(latest.items())}


def _safe(name: str) -> str:
    """A run name as a single path segment."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "run"


def _file_context(root: Path) -> tuple[Any, Any]:
    """The file-mode Data Context under `root` (scaffolded on first use) and the context that
    was current before (get_context makes the new one current; the validation module's cached
    ephemeral context is put back afterwards)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.data_context.data_context.context_factory import project_manager
    from great_expectations.exceptions import DataContextRequiredError

    try:
        previous = project_manager.get_current_project()
    except DataContextRequiredError:
        previous = None
    root.parent.mkdir(parents=True, exist_ok=True)
    return gx.get_context(mode="file", project_root_dir=str(root.parent)), previous


def _restore_current_context(previous: Any) -> None:
    from great_expectations.data_context.data_context.context_factory import project_manager

    project_manager.set_project(previous)


def _add_to_stores(context: Any, records: list[dict[str, Any]]) -> None:
    from great_expectations.core.expectation_suite import ExpectationSuite
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResultSchema,
    )
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    schema = ExpectationSuiteValidationResultSchema()
    results_store = context.validation_results_store
    latest_suites: dict[str, dict[str, Any]] = {}
    for record in records:
        run_time = datetime.strptime(record["run_time"], _RUN_TIME_FORMAT).replace(tzinfo=UTC)
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=record["suite"]),
            run_id=RunIdentifier(run_name=record["run_name"], run_time=run_time),
            batch_identifier=record["feed"],
        )
        if not results_store.has_key(key):
            results_store.store_validation_results(schema.load(record["result"]), key)
        if record["run_time"] >= latest_suites.get(record["suite"], {}).get("run_time", ""):
            latest_suites[record["suite"]] = record  # the suite as of its latest run
    for name, record in latest_suites.items():
        expectations = [{k: v for k, v in e.items() if k != "id"} for e in record["expectations"]]
        suite = ExpectationSuite(
            name=name,
            expectations=expectations,
            meta={"notes": f"Feed {record['feed']}. {record['description']}".strip()},
        )
        context.suites.add_or_update(suite)
