"""The commissioning pack, built from every new release: static HTML pages for England, each ICB
and each sub-ICB location, and a PDF of each (orchestration/pack). Its check opens nothing in a
browser (the tests do); it re-reads the folder: one page per area of the release, every PDF."""

import json

import dagster as dg

from orchestration.defs.data_quality.assets import gap_report
from orchestration.defs.release.assets import KEY as RELEASE_KEY
from orchestration.lib import settings
from orchestration.pack import pdf
from orchestration.pack.pages import PackBuilder
from orchestration.pack.render import LATEST, MANIFEST, render_pack
from orchestration.release.store import ReleaseStore

KEY = dg.AssetKey(["reports", "commissioning_pack"])


@dg.asset(
    key=KEY,
    deps=[RELEASE_KEY, gap_report.key],
    group_name="release",
    kinds={"html", "pdf"},
    description=(
        "The commissioning pack of the current release: spine, funnel and trend charts of the OIS "
        "indicators, peers and opportunity, money, LTC programmes, prescribing measures and data gaps, "
        "for England, each ICB and each sub-ICB location; static HTML (no server, no network) and a PDF "
        "of each page."
    ),
)
def commissioning_pack(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    settings.export_environment()
    store = ReleaseStore(settings.publish_dir())
    out = settings.pack_dir()
    result = render_pack(
        store,
        out,
        cache_dir=settings.warehouse_path().parent / "cache",
        reports_dir=settings.reports_dir(),
        log=context.log.info,
    )
    printed, pdf_note = 0, "not printed (PACK_PDF=none)"
    if settings.pack_pdf() == "all":
        try:
            reports = pdf.print_pages(
                result.path, [p["path"] for p in result.pages], result.path / "pdf", log=context.log.info
            )
            printed, pdf_note = len(reports), str(result.path / "pdf")
        except pdf.ChromiumMissing as exc:
            context.log.warning(f"The pack's PDFs were not printed: {exc}")
            pdf_note = f"not printed: {exc}"
    return dg.MaterializeResult(
        metadata={
            "release_id": result.release_id,
            "pack": dg.MetadataValue.path(str(result.path / "index.html")),
            "latest": dg.MetadataValue.path(str(out / LATEST)),
            "pages": len(result.pages),
            "charts": result.charts,
            "pdfs": printed,
            "pdf_folder": dg.MetadataValue.text(pdf_note),
            "render_seconds": round(result.seconds, 1),
        }
    )


@dg.asset_check(
    asset=KEY,
    description="The pack has a page for England and every ICB and sub-ICB location of the "
    "current release, and a PDF of each when PDFs are printed.",
)
def pack_covers_every_area() -> dg.AssetCheckResult:
    from orchestration.pack.data import read_release

    store = ReleaseStore(settings.publish_dir())
    folder = settings.pack_dir() / store.current_id()
    problems = []
    if not (folder / MANIFEST).is_file():
        problems.append(f"no pack for release {store.current_id()} under {settings.pack_dir()}")
    else:
        expected = {(level, code) for level, code, _ in PackBuilder(read_release(store)).areas()}
        pages = json.loads((folder / MANIFEST).read_text())["pages"]
        written = {(p["level"], p["code"]) for p in pages}
        problems += [f"no page for {level} {code}" for level, code in sorted(expected - written)]
        problems += [f"page file missing: {p['path']}" for p in pages if not (folder / p["path"]).is_file()]
        if settings.pack_pdf() == "all" and (folder / "pdf").is_dir():
            problems += [
                f"PDF missing for {p['path']}"
                for p in pages
                if not (folder / "pdf" / pdf.pdf_name(p["path"])).is_file()
            ]
    return dg.AssetCheckResult(
        passed=not problems,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in problems[:100]) or "none")},
    )


assets = [commissioning_pack]
asset_checks = [pack_covers_every_area]
