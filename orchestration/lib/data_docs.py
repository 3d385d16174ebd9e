"""Keep every validation run and render the runs as GX Data Docs, a static site.

Two steps, so that checks running in parallel processes never share a GX context:

- `store(outcomes, docs_root)` writes each suite outcome's GX validation result as one JSON
  file under `docs_root/results/<suite>/<run name>/<run time>.json` (GX's own serialisation,
  written atomically). It needs no Data Context and is safe to call from concurrent checks.
- `build(docs_root)` opens a file-mode GX Data Context at `docs_root/gx`, adds the suites and
  the results not yet in its validation results store, and runs GX's own site builder
  (`build_data_docs`). The site is `docs_root/gx/uncommitted/data_docs/local_site/index.html`.

The pages are static files that open from disk with no network. GX's templates load their
stylesheets, scripts and icon font from public CDNs (offline the index, a table that jQuery and
bootstrap-table fill in, was empty and every page unstyled), so after GX has built the site
`build` copies the same files, vendored unmodified under `orchestration/lib/vendor/gx_data_docs/`
(see its README for versions and licences), into the site's `static/vendor/` and rewrites each
page's CDN addresses to relative paths. GX's logo, fetched from its web-assets bucket with the
context id in the query string, is pointed at the copy GX already puts in `static/images/`.
`validation_pages` finds the validation result pages, so the gap report links to them directly.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orchestration.lib.validation import SuiteOutcome

_log = logging.getLogger(__name__)

RESULTS_DIR = "results"
GX_DIR = "gx"
SITE_NAME = "local_site"
SITE_DIR = Path("uncommitted", "data_docs", SITE_NAME)
_RUN_TIME_FORMAT = "%Y%m%dT%H%M%S.%fZ"  # GX's RunIdentifier.to_tuple() format

VENDOR_DIR = Path(__file__).parent / "vendor" / "gx_data_docs"
SITE_VENDOR_DIR = Path("static", "vendor")
# Every CDN address in GX 1.24.1's page templates (page.j2, page_minimal.j2, index_page.j2,
# js_script_imports.j2) → the vendored files that replace it, in order; () drops the tag. vega
# draws charts only for distribution and profiling expectations, which no suite here uses, and
# bootstrap-prefers-dark only restyles for readers whose system prefers a dark theme.
_BT = "https://unpkg.com/bootstrap-table@"
_CDN_ASSETS: dict[str, tuple[str, ...]] = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": ("bootstrap/bootstrap.min.css",),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": ("bootstrap/bootstrap.min.js",),
    "https://code.jquery.com/jquery-3.7.1.min.js": ("jquery/jquery.min.js",),
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": ("popper.js/popper.min.js",),
    f"{_BT}1.19.1/dist/bootstrap-table.min.css": ("bootstrap-table/bootstrap-table.min.css",),
    f"{_BT}1.19.1/dist/bootstrap-table.min.js": ("bootstrap-table/bootstrap-table.min.js",),
    f"{_BT}1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css": (
        "bootstrap-table/bootstrap-table-filter-control.min.css",
    ),
    f"{_BT}1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css": (
        "bootstrap-table/bootstrap-table-filter-control.min.css",
    ),
    f"{_BT}1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js": (
        "bootstrap-table/bootstrap-table-filter-control.min.js",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css": (
        "bootstrap-datepicker/bootstrap-datepicker.min.css",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js": (
        "bootstrap-datepicker/bootstrap-datepicker.min.js",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": (
        "fontawesome-free/css/fontawesome.min.css",
        "fontawesome-free/css/solid.min.css",
    ),
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css": (),
    "https://cdn.jsdelivr.net/npm/vega@5": (),
    "https://cdn.jsdelivr.net/npm/vega-lite@5": (),
    "https://cdn.jsdelivr.net/npm/vega-embed@6": (),
}
# A <link> or <script> element that loads an absolute http(s) address (GX writes each on one
# line, attributes double-quoted).
_REMOTE_TAG = re.compile(
    r'<(?P<tag>link|script)\b[^>]*?\b(?:href|src)="(?P<url>https?://[^"]+)"[^>]*>(?:\s*</script>)?'
)
_FAVICON = re.compile(r'href="(?:\.{1,2}/)*static/images/favicon\.ico"')
# GX's logo (img src and the dark theme's CSS background) from its bucket; the query string
# carries the data context id. The site has its own copy in static/images/.
_GX_WEB_ASSET = re.compile(
    r"https://great-expectations-web-assets\.s3\.us-east-2\.amazonaws\.com/(?P<name>[\w.-]+)(?:\?[^\"')\s]*)?"
)


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
    remote = serve_assets_locally(index.parent)
    if remote:
        _log.warning("GX Data Docs still load %s from the network: add them to _CDN_ASSETS", remote)
    return index


def serve_assets_locally(site: Path) -> list[str]:
    """Copy the vendored CSS, JS and font into `site` and point every page at them instead of the
    CDNs; returns the remote addresses left in place (none for the pages GX 1.24.1 writes).

    Rewriting a page a second time changes nothing, so a rebuild that leaves some pages as they
    were is safe.
    """
    shutil.copytree(VENDOR_DIR, site / SITE_VENDOR_DIR, dirs_exist_ok=True)
    unknown: set[str] = set()
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        rewritten = _rewrite_page(html, Path(os.path.relpath(site, page.parent)).as_posix(), site, unknown)
        if rewritten != html:
            page.write_text(rewritten, encoding="utf-8")
    return sorted(unknown)


def _rewrite_page(html: str, to_site: str, site: Path, unknown: set[str]) -> str:
    """One page with its CDN elements and GX web-asset images made local; `to_site` is the
    relative path from the page's folder to the site root."""
    html = _REMOTE_TAG.sub(lambda m: _local_tags(m, to_site, unknown), html)
    html = _GX_WEB_ASSET.sub(lambda m: _local_image(m["name"], site, to_site), html)
    # GX links a validation page's favicon one folder short of the site root.
    return _FAVICON.sub(f'href="{to_site}/static/images/favicon.ico"', html)


def _local_tags(match: re.Match[str], to_site: str, unknown: set[str]) -> str:
    """The vendored element(s) replacing one CDN <link>/<script>, without the integrity and
    crossorigin attributes (a CORS-mode request for a file:// page is refused)."""
    url = match["url"]
    if url not in _CDN_ASSETS:
        unknown.add(url)  # not a CDN asset we know (a GX upgrade): left as it is, and reported
        return match[0]
    tags = []
    for asset in _CDN_ASSETS[url]:
        href = f"{to_site}/{SITE_VENDOR_DIR.as_posix()}/{asset}"
        if asset.endswith(".css"):
            tags.append(f'<link rel="stylesheet" href="{href}"/>')
        else:
            tags.append(f'<script src="{href}"></script>')
    return "".join(tags)


def _local_image(name: str, site: Path, to_site: str) -> str:
    """GX's copy of a web-assets image; the dark-theme logo, which GX does not ship, becomes the
    ordinary one."""
    images = site / "static" / "images"
    local = name if (images / name).is_file() else "logo-long.png"
    return f"{to_site}/static/images/{local}"


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
