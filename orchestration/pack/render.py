"""Write the pack folder from a release.

    <out>/<release id>/
      index.html            England
      icb/<code>.html       each ICB
      sub_icb/<code>.html   each sub-ICB location
      assets/vega.js        Vega, Vega-Lite and Vega-Embed in one file (vl-convert's bundle)
      assets/pack.js        renders every chart of a page as SVG; sets data-rendered when done
      assets/pack.css
      pdf/<level>_<code>.pdf  (orchestration/pack/pdf.py)
      pack.json             what was written: pages, sheets and charts per page, timings
    <out>/latest.html       points at the newest pack

The folder opens from disk (file://) with no server and no network: the only scripts and
styles are the folder's own. A pack is written beside its final place and renamed into it, so
a failed render leaves the previous pack.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import jinja2

from orchestration.pack import charts
from orchestration.pack.data import read_release
from orchestration.pack.pages import LEVEL_NAMES, PackBuilder, Page
from orchestration.release.store import ReleaseStore

TEMPLATES = Path(__file__).parent / "templates"
ASSETS = Path(__file__).parent / "assets"
LATEST = "latest.html"
MANIFEST = "pack.json"
VEGA_BUNDLE = "vega.js"


@dataclass(frozen=True)
class PackResult:
    release_id: str
    path: Path
    pages: list[dict]
    seconds: float

    @property
    def charts(self) -> int:
        return sum(p["charts"] for p in self.pages)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["relative"] = lambda target, page: os.path.relpath(target, os.path.dirname(page.path) or ".")
    return env


def vega_bundle(cache_dir: Path) -> Path:
    """The Vega bundle for this vl-convert version, built once (about 2 s) and cached."""
    import vl_convert

    path = cache_dir / f"vega-bundle-{vl_convert.__version__}.js"
    if not path.is_file():
        cache_dir.mkdir(parents=True, exist_ok=True)
        staged = path.with_suffix(f".{os.getpid()}.tmp")
        staged.write_text(vl_convert.javascript_bundle())
        os.replace(staged, path)
    return path


def gap_report_pages(reports_dir: Path, pack_dir: Path) -> dict[str, str]:
    """The newest gap report's pages (England and per sub-ICB location), as paths relative to the
    pack folder, so each pack page can link to its area's page."""
    root = reports_dir / "gap_report"
    runs = sorted(p for p in root.glob("*") if p.is_dir()) if root.is_dir() else []
    if not runs:
        return {}
    newest = runs[-1]
    pages = {"england": newest / "index.html"}
    pages.update({p.stem: p for p in (newest / "sub_icb").glob("*.html")})
    return {code: os.path.relpath(path, pack_dir) for code, path in pages.items()}


def render_configured(
    *, out_root: Path | None = None, release_id: str | None = None, log: Callable[[str], None] = print
) -> PackResult:
    """`render_pack` as the settings place it: the publish folder's release, PACK_DIR, the dbt
    project's manifest, the gap report under REPORTS_DIR."""
    from orchestration.lib import settings
    from orchestration.release import tables

    return render_pack(
        ReleaseStore(settings.publish_dir()),
        out_root or settings.pack_dir(),
        manifest=tables.load_manifest(settings.DBT_PROJECT_DIR / "target" / "manifest.json"),
        cache_dir=settings.warehouse_path().parent / "cache",
        reports_dir=settings.reports_dir(),
        release_id=release_id,
        log=log,
    )


def render_pack(
    store: ReleaseStore,
    out_root: Path,
    *,
    manifest: dict,
    cache_dir: Path,
    reports_dir: Path | None = None,
    release_id: str | None = None,
    areas: Callable[[list[tuple[str, str, str]]], list[tuple[str, str, str]]] | None = None,
    log: Callable[[str], None] = print,
) -> PackResult:
    """Render the pack of a release (the current one by default) under `out_root/<release id>`;
    `manifest` (the dbt project's) gives the disclosure rules its counts pass through."""
    started = time.perf_counter()
    data = read_release(store, manifest, release_id)
    final = out_root / data.release_id
    staged = out_root / f".{data.release_id}.{os.getpid()}.tmp"
    shutil.rmtree(staged, ignore_errors=True)
    (staged / "assets").mkdir(parents=True)
    for sub in ("icb", "sub_icb"):
        (staged / sub).mkdir()
    builder = PackBuilder(data, gap_report_pages(reports_dir, final) if reports_dir else {})
    wanted = builder.areas() if areas is None else areas(builder.areas())
    env = _environment()
    template = env.get_template("area.html.j2")
    shutil.copyfile(vega_bundle(cache_dir), staged / "assets" / VEGA_BUNDLE)
    for name in ("pack.js", "pack.css"):
        shutil.copyfile(ASSETS / name, staged / "assets" / name)
    log(f"Pack of release {data.release_id}: {len(wanted)} pages …")

    def write(area: tuple[str, str, str]) -> dict:
        page: Page = builder.page(*area)
        html = template.render(
            page=page,
            level_name=LEVEL_NAMES[page.level],
            release=data,
            specs_json=charts.to_script_json(page.specs),
            colours=charts.SIGNIFICANCE_COLOURS,
        )
        (staged / page.path).write_text(html)
        return {
            "level": page.level,
            "code": page.code,
            "name": page.name,
            "path": page.path,
            "sheets": len(page.sheets),
            "charts": len(page.specs),
            "sheet_kinds": [s.kind for s in page.sheets],
        }

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        pages = list(pool.map(write, wanted))
    seconds = time.perf_counter() - started
    (staged / MANIFEST).write_text(
        json.dumps(
            {
                "release_id": data.release_id,
                "built_at": data.built_at,
                "pages": pages,
                "render_seconds": seconds,
            },
            indent=1,
        )
    )
    if final.exists():
        shutil.rmtree(final)
    os.replace(staged, final)
    latest = out_root / LATEST
    latest.write_text(
        '<!DOCTYPE html><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="0; url={data.release_id}/index.html">'
        f'<title>Commissioning pack</title><a href="{data.release_id}/index.html">Latest commissioning pack '
        f"(release {data.release_id})</a>\n"
    )
    log(
        f"Pack written: {final} ({len(pages)} pages, {sum(p['charts'] for p in pages)} charts, "
        f"{seconds:.1f} s)"
    )
    return PackResult(data.release_id, final, pages, seconds)
