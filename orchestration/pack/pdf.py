"""Print each pack page to PDF in headless Chromium (Debian's, driven by Playwright).

Every page is opened from disk with every request outside the pack folder refused, waits for
its charts (`window.packRendered`), and is printed with the page's own A4 landscape size: one
PDF page per sheet. A page with a console error, a failed chart or a request that tried to
leave the folder is not printed: `PackPrintError` names it. Pages print a few at a time in one
browser (Chromium renders each in its own process, so both cores work).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
# Without the background-networking switches Chromium tries Google's hosts at every start.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
PDF_FOLDER = "pdf"
CONCURRENT_PAGES = max(2, (os.cpu_count() or 1) * 2)
RENDER_TIMEOUT_MS = 60_000


class ChromiumMissing(RuntimeError):
    """No Chromium to print with."""


class PackPrintError(RuntimeError):
    """A page did not render cleanly in the browser."""


@dataclass
class PageReport:
    path: str
    pdf: str | None = None
    rendered: int = 0
    console_errors: list[str] = field(default_factory=list)
    blocked_requests: list[str] = field(default_factory=list)
    failed_charts: str = ""

    @property
    def problems(self) -> list[str]:
        return (
            [f"console error: {e}" for e in self.console_errors]
            + [f"request outside the pack folder: {u}" for u in self.blocked_requests]
            + ([f"charts failed: {self.failed_charts}"] if self.failed_charts else [])
        )


def pdf_name(page_path: str) -> str:
    """The PDF file of a pack page: `sub_icb/02T.html` → `sub_icb_02T.pdf`, England `index.pdf`."""
    return page_path.removesuffix(".html").replace("/", "_") + ".pdf"


def chromium_path() -> Path:
    if CHROMIUM.is_file():
        return CHROMIUM
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise ChromiumMissing(
            f"No Chromium at {CHROMIUM} or on PATH: install Debian's `chromium` package "
            "(`apt-get install chromium`; `make test` does it), or set CHROMIUM to its path."
        )
    return Path(found)


async def _open(context, folder: Path, relative: str) -> tuple[object, PageReport]:
    """Open one pack page with requests outside the folder refused; wait for its charts."""
    report = PageReport(relative)
    page = await context.new_page()
    page.on("console", lambda m: report.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: report.console_errors.append(str(e)))
    root = folder.resolve().as_uri()

    async def guard(route):
        if route.request.url.startswith(root + "/"):
            await route.continue_()
        else:
            report.blocked_requests.append(route.request.url)
            await route.abort()

    await page.route("**/*", guard)
    await page.goto((folder / relative).resolve().as_uri())
    report.rendered = (
        await page.evaluate("window.packRendered", None)
        if await page.evaluate("typeof window.packRendered !== 'undefined'")
        else 0
    )
    report.failed_charts = await page.evaluate("document.body.getAttribute('data-failed') || ''")
    return page, report


async def _print_all(
    folder: Path, pages: list[str], out: Path, inspect, concurrency: int
) -> list[PageReport]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(chromium_path()), args=CHROMIUM_ARGS)
        context = await browser.new_context(offline=True)
        context.set_default_timeout(RENDER_TIMEOUT_MS)
        gate = asyncio.Semaphore(concurrency)

        async def one(relative: str) -> PageReport:
            async with gate:
                page, report = await _open(context, folder, relative)
                try:
                    if inspect:
                        await inspect(page, report)
                    if out is not None and not report.problems:
                        target = out / pdf_name(relative)
                        await page.pdf(path=str(target), prefer_css_page_size=True, print_background=True)
                        report.pdf = str(target)
                finally:
                    await page.close()
                return report

        try:
            return list(await asyncio.gather(*(one(p) for p in pages)))
        finally:
            await browser.close()


def print_pack(folder: Path, pages: list[str], *, log: Callable[[str], None] = print) -> list[PageReport]:
    """Print every page of the pack in `folder` into `folder/pdf`: into a staged folder first,
    switched in whole, so a failed print leaves the previous PDFs."""
    staged = folder / f".{PDF_FOLDER}.{os.getpid()}.tmp"
    shutil.rmtree(staged, ignore_errors=True)
    reports = print_pages(folder, pages, staged, log=log)
    shutil.rmtree(folder / PDF_FOLDER, ignore_errors=True)
    os.replace(staged, folder / PDF_FOLDER)
    return reports


def print_pages(
    folder: Path,
    pages: list[str],
    out: Path | None,
    *,
    inspect: Callable | None = None,
    concurrency: int = CONCURRENT_PAGES,
    log: Callable[[str], None] = print,
) -> list[PageReport]:
    """Open each page of the pack in `folder` in headless Chromium, optionally run `inspect(page,
    report)` on it (tests), and print it to `out` when it rendered cleanly. Raises PackPrintError
    naming every page that did not."""
    started = time.perf_counter()
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    reports = asyncio.run(_print_all(folder, pages, out, inspect, concurrency))
    bad = [r for r in reports if r.problems]
    if bad:
        raise PackPrintError(
            "; ".join(f"{r.path}: {', '.join(r.problems[:3])}" for r in bad[:10])
            + (f" (and {len(bad) - 10} more pages)" if len(bad) > 10 else "")
        )
    log(f"Printed {len(reports)} pages to PDF in {time.perf_counter() - started:.1f} s")
    return reports
