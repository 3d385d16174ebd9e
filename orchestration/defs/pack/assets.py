"""The commissioning pack, built from every new release: static HTML pages for England, each ICB
and each sub-ICB location (`reports/commissioning_pack`), then a PDF of each
(`reports/commissioning_pack_pdf`, the slow part: a separate step, so the pages are there first
and a failed print leaves them). The checks open nothing in a browser (the tests do); they
re-read the folder: one page per area of the release, every PDF."""

import json
import time
from pathlib import Path

import dagster as dg

from orchestration.defs.data_quality.assets import gap_report
from orchestration.defs.dbt.project import dbt_project
from orchestration.defs.release.assets import KEY as RELEASE_KEY
from orchestration.lib import settings
from orchestration.pack import pdf
from orchestration.pack.pages import PackBuilder
from orchestration.pack.render import LATEST, MANIFEST, render_configured
from orchestration.release import tables
from orchestration.release.store import ReleaseStore

KEY = dg.AssetKey(["reports", "commissioning_pack"])
PDF_KEY = dg.AssetKey(["reports", "commissioning_pack_pdf"])


def _current_pack() -> tuple[Path, list[dict]]:
    folder = settings.pack_dir() / ReleaseStore(settings.publish_dir()).current_id()
    if not (folder / MANIFEST).is_file():
        raise FileNotFoundError(
            f"No commissioning pack of the current release under {folder}: run `make pack`."
        )
    return folder, json.loads((folder / MANIFEST).read_text())["pages"]


@dg.asset(
    key=KEY,
    deps=[RELEASE_KEY, gap_report.key],
    group_name="release",
    kinds={"html"},
    description=(
        "The commissioning pack of the current release: spine, funnel and trend charts of the OIS "
        "indicators, peers and opportunity, money, LTC programmes, prescribing measures and data gaps, "
        "for England, each ICB and each sub-ICB location, as static HTML (no server, no network)."
    ),
)
def commissioning_pack(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    settings.export_environment()
    out = settings.pack_dir()
    result = render_configured(log=context.log.info)
    return dg.MaterializeResult(
        metadata={
            "release_id": result.release_id,
            "pack": dg.MetadataValue.path(str(result.path / "index.html")),
            "latest": dg.MetadataValue.path(str(out / LATEST)),
            "pages": len(result.pages),
            "charts": result.charts,
            "render_seconds": round(result.seconds, 1),
        }
    )


@dg.asset(
    key=PDF_KEY,
    deps=[KEY],
    group_name="release",
    kinds={"pdf"},
    description=(
        "A PDF of every page of the commissioning pack (one A4 landscape page per sheet), printed by "
        "headless Chromium; PACK_PDF=none skips it. The PDFs are printed beside the pack and switched "
        "in as one folder, so a failed print leaves the previous ones."
    ),
)
def commissioning_pack_pdf(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    settings.export_environment()
    folder, pages = _current_pack()
    if settings.pack_pdf() == "none":
        return dg.MaterializeResult(
            metadata={"pdfs": 0, "pdf_folder": dg.MetadataValue.text("not printed (PACK_PDF=none)")}
        )
    started = time.perf_counter()
    reports = pdf.print_pack(folder, [p["path"] for p in pages], log=context.log.info)
    return dg.MaterializeResult(
        metadata={
            "pdfs": len(reports),
            "pdf_folder": dg.MetadataValue.text(str(folder / pdf.PDF_FOLDER)),
            "print_seconds": round(time.perf_counter() - started, 1),
        }
    )


@dg.asset_check(
    asset=KEY,
    description="The pack has a page for England and every ICB and sub-ICB location of the current release.",
)
def pack_covers_every_area() -> dg.AssetCheckResult:
    from orchestration.pack.data import read_release

    problems = []
    try:
        folder, pages = _current_pack()
    except FileNotFoundError as exc:
        problems.append(str(exc))
    else:
        store = ReleaseStore(settings.publish_dir())
        manifest = tables.load_manifest(Path(dbt_project.manifest_path))
        expected = {(level, code) for level, code, _ in PackBuilder(read_release(store, manifest)).areas()}
        written = {(p["level"], p["code"]) for p in pages}
        problems += [f"no page for {level} {code}" for level, code in sorted(expected - written)]
        problems += [f"page file missing: {p['path']}" for p in pages if not (folder / p["path"]).is_file()]
    return _verdict(problems)


@dg.asset_check(asset=PDF_KEY, description="Every page of the pack has its PDF (when PACK_PDF=all).")
def every_pack_page_has_its_pdf() -> dg.AssetCheckResult:
    problems = []
    if settings.pack_pdf() == "all":
        try:
            folder, pages = _current_pack()
        except FileNotFoundError as exc:
            problems.append(str(exc))
        else:
            problems += [
                f"PDF missing for {p['path']}"
                for p in pages
                if not (folder / pdf.PDF_FOLDER / pdf.pdf_name(p["path"])).is_file()
            ]
    return _verdict(problems)


def _verdict(problems: list[str]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=not problems,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in problems[:100]) or "none")},
    )


assets = [commissioning_pack, commissioning_pack_pdf]
asset_checks = [pack_covers_every_area, every_pack_page_has_its_pdf]
