"""Run Great Expectations 1.x suites kept as JSON under `expectations/` over warehouse data.

A suite file is a GX `ExpectationSuite` (name, expectations with `type`, `kwargs`, `meta`)
whose `meta` also says what to validate:

    "meta": {"feed": "gp_registered_patients",
             "description": "why this suite exists",
             "query": "select … from raw.gp_registered_patients
                       where _period between $period_start and $period_end"}

`{reference_seeds}` in a query is replaced by the path of seeds/reference, so a suite can check
codes against the same seed dbt loads.

The query runs on a read-only DuckDB connection (large feeds aggregate in SQL first and let GX
validate the aggregate). Each expectation's `meta.severity` is `error` (blocks downstream
assets) or `warn` (reported with counts); the suite's check result takes the worst severity
among the expectations that failed.

GX is imported lazily: it costs ~4 s, which unit tests of everything else should not pay.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Literal

import duckdb

from orchestration.lib import settings

Severity = Literal["error", "warn"]


@dataclass(frozen=True)
class SuiteFile:
    name: str
    path: Path
    feed: str
    query: str
    description: str
    raw: dict[str, Any]

    @property
    def severity(self) -> Severity:
        levels = {e.get("meta", {}).get("severity", "error") for e in self.raw["expectations"]}
        return "error" if "error" in levels else "warn"


@dataclass
class FailedExpectation:
    expectation: str
    column: str | None
    severity: Severity
    unexpected_count: int | None
    unexpected_percent: float | None
    examples: list[Any]
    why: str

    def describe(self) -> str:
        target = f" on {self.column}" if self.column else ""
        count = f": {self.unexpected_count:,} unexpected" if self.unexpected_count is not None else ""
        examples = f" (e.g. {self.examples[:5]})" if self.examples else ""
        return f"[{self.severity}] {self.expectation}{target}{count}{examples}"


@dataclass
class SuiteOutcome:
    suite: SuiteFile
    rows_validated: int
    evaluated: int
    failed: list[FailedExpectation] = field(default_factory=list)
    # The GX ExpectationSuiteValidationResult, kept so a run can be stored and rendered as Data
    # Docs (orchestration/lib/data_docs.py).
    gx_result: Any = None

    @property
    def passed(self) -> bool:
        return not self.failed

    @property
    def severity(self) -> Severity:
        return "error" if any(f.severity == "error" for f in self.failed) else "warn"


def suite_files(feed: str | None = None, directory: Path | None = None) -> list[SuiteFile]:
    """Every suite in `expectations/` (optionally those of one feed), sorted by name."""
    folder = directory or settings.EXPECTATIONS_DIR
    suites = []
    for path in sorted(folder.glob("*.json")):
        raw = json.loads(path.read_text())
        meta = raw.get("meta", {})
        missing = [k for k in ("feed", "query") if k not in meta]
        if missing:
            raise ValueError(f"{path}: suite meta lacks {missing}")
        suite = SuiteFile(raw["name"], path, meta["feed"], meta["query"], meta.get("description", ""), raw)
        if feed is None or suite.feed == feed:
            suites.append(suite)
    return suites


@cache
def _context():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("warehouse")
    return context, source.add_dataframe_asset("query_result").add_batch_definition_whole_dataframe("whole")


def run_suite(
    conn: duckdb.DuckDBPyConnection,
    suite: SuiteFile,
    period_start: date | None = None,
    period_end: date | None = None,
) -> SuiteOutcome:
    """Validate the suite's query result for a period window [start, end] (inclusive months)."""
    from great_expectations.core.expectation_suite import ExpectationSuite

    # Suites may read reference seeds (one source of truth with dbt): {reference_seeds}.
    query = suite.query.replace("{reference_seeds}", str(settings.SEEDS_DIR / "reference"))
    params = {}
    if "$period_start" in query:
        params["period_start"] = period_start or date(1900, 1, 1)
    if "$period_end" in query:
        params["period_end"] = period_end or date(2999, 12, 1)
    frame = conn.execute(query, params).df()

    _, batch_definition = _context()
    expectations = [{k: v for k, v in e.items() if k != "id"} for e in suite.raw["expectations"]]
    gx_suite = ExpectationSuite(name=suite.name, expectations=expectations)
    result = batch_definition.get_batch(batch_parameters={"dataframe": frame}).validate(gx_suite)

    failed = []
    for item in result.results:
        if item.success:
            continue
        config = item.expectation_config
        details = item.result or {}
        failed.append(
            FailedExpectation(
                expectation=config.type,
                column=config.kwargs.get("column"),
                severity=(config.meta or {}).get("severity", "error"),
                unexpected_count=details.get("unexpected_count"),
                unexpected_percent=details.get("unexpected_percent"),
                examples=[_plain(v) for v in details.get("partial_unexpected_list", [])][:10],
                why=(config.meta or {}).get("why", ""),
            )
        )
        if item.exception_info and item.exception_info.get("raised_exception"):
            failed[-1].why = f"expectation raised: {item.exception_info.get('exception_message')}"
    return SuiteOutcome(
        suite, rows_validated=len(frame), evaluated=len(result.results), failed=failed, gx_result=result
    )


def _plain(value: Any) -> Any:
    """JSON-friendly example values for Dagster metadata."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
