"""GX Data Docs work with no network: the index lists its runs, every page is styled, nothing
is fetched from outside the site.

The site is built from real suite runs on the shipped sample and opened in headless Chromium
(Debian's `chromium`; `make test` installs it) with every host unresolvable and every request
sent to a proxy that does not exist. Chromium is driven over the DevTools protocol on a pipe
(`--remote-debugging-pipe`: NUL-separated JSON on file descriptors 3 and 4), so the tests read
what a reader's browser did: the requests it made, the scripts that failed, the styles it
computed and the table bootstrap-table built.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shlex
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from orchestration.defs.reference.feeds import GP_PRACTICE_MAP, GP_REGISTERED_PATIENTS
from orchestration.lib import data_docs, validation
from orchestration.lib.loader import load_period
from tests.helpers import CHROMIUM, sample_text, write

OFFLINE_FLAGS = [
    "--host-resolver-rules=MAP * ~NOTFOUND",  # no name resolves
    "--proxy-server=127.0.0.1:9",  # and every request that does not need one goes nowhere
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-domain-reliability",
    "--no-first-run",
    "--no-default-browser-check",
]

# What each page reports after its load event and its fonts: the rows bootstrap-table rendered,
# the resources its elements name, and styles that only the vendored stylesheets give.
PAGE_STATE = """
document.fonts.ready.then(() => JSON.stringify({
    title: document.title,
    text: document.body.innerText,
    tables: [...document.querySelectorAll("table[id]")].map(t => ({
        id: t.id,
        rows: [...t.querySelectorAll("tbody tr")].map(r => ({
            text: r.innerText, href: r.dataset.href || null,
            icons: [...r.querySelectorAll("i.fas")].map(i => i.className),
        })),
    })),
    resources: [...document.querySelectorAll("link[href], script[src], img[src]")].map(
        e => e.getAttribute("href") || e.getAttribute("src")),
    stylesheets: [...document.styleSheets].map(s => s.href).filter(Boolean),
    body_font: getComputedStyle(document.body).fontFamily,
    navbar_display: getComputedStyle(document.querySelector("nav.navbar")).display,
    icon_font: (() => {
        const icon = document.querySelector("i.fas");
        return icon ? getComputedStyle(icon, "::before").fontFamily : null;
    })(),
    icon_font_loaded: document.fonts.check('900 16px "Font Awesome 6 Free"'),
    jquery: typeof window.jQuery, bootstrap_table: typeof (window.jQuery || {fn: {}}).fn.bootstrapTable,
}))
"""


@dataclass
class Visit:
    """One page as Chromium loaded it."""

    state: dict[str, Any]
    requests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class OfflineChromium:
    """Headless Chromium with the network blocked, spoken to over `--remote-debugging-pipe`."""

    def __init__(self, profile: str):
        if not CHROMIUM.exists():
            pytest.fail(
                f"{CHROMIUM} is missing: run `make test`, which installs it (Debian package chromium)"
            )
        chrome_reads, self._to_chrome = os.pipe()
        self._from_chrome, chrome_writes = os.pipe()
        args = [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            *OFFLINE_FLAGS,
            f"--user-data-dir={profile}",
            "--remote-debugging-pipe",
            "about:blank",
        ]
        # Chromium reads commands on fd 3 and answers on fd 4.
        command = f"exec {shlex.join(args)} 3<&{chrome_reads} 4>&{chrome_writes}"
        self.process = subprocess.Popen(
            ["bash", "-c", command],
            pass_fds=(chrome_reads, chrome_writes),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(chrome_reads)
        os.close(chrome_writes)
        self._buffer = b""
        self._last_id = 0
        self._events: list[dict[str, Any]] = []

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self.send("Browser.close", timeout=10)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        os.close(self._to_chrome)
        os.close(self._from_chrome)

    def _message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_chrome], [], [], left)[0]:
                raise TimeoutError("chromium did not answer on the DevTools pipe")
            chunk = os.read(self._from_chrome, 1 << 16)
            if not chunk:
                raise RuntimeError(f"chromium closed the DevTools pipe (exit {self.process.poll()})")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout=30.0):
        self._last_id += 1
        message: dict[str, Any] = {"id": self._last_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            answer = self._message(deadline)
            if answer.get("id") != self._last_id:
                self._events.append(answer)
            elif "error" in answer:
                raise RuntimeError(f"{method}: {answer['error']}")
            else:
                return answer["result"]

    def _wait_for(self, method: str, session: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method and e.get("sessionId") == session for e in self._events):
            self._events.append(self._message(deadline))

    def _settle(self, quiet: float = 0.5) -> None:
        """Collect events until none has come for `quiet` seconds (the favicon is requested
        after the load event)."""
        while True:
            try:
                self._events.append(self._message(time.monotonic() + quiet))
            except TimeoutError:
                return

    def visit(self, page: Path) -> Visit:
        """Load one local page in a fresh tab; its state after the load event and its fonts."""
        self._events = []
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Network", "Runtime", "Page", "Log"):
            self.send(f"{domain}.enable", session=session)
        self.send("Page.navigate", {"url": page.resolve().as_uri()}, session=session)
        self._wait_for("Page.loadEventFired", session)
        evaluated = self.send(
            "Runtime.evaluate",
            {"expression": PAGE_STATE, "awaitPromise": True, "returnByValue": True},
            session=session,
        )
        assert "exceptionDetails" not in evaluated, f"{page}: {evaluated['exceptionDetails']}"
        visit = Visit(json.loads(evaluated["result"]["value"]))
        self._settle()
        urls: dict[str, str] = {}
        for event in self._events:
            if event.get("sessionId") != session:
                continue
            params = event.get("params", {})
            match event.get("method"):
                case "Network.requestWillBeSent":
                    urls[params["requestId"]] = params["request"]["url"]
                    visit.requests.append(params["request"]["url"])
                case "Network.loadingFailed":
                    visit.failed.append(f"{urls.get(params['requestId'])}: {params['errorText']}")
                case "Runtime.exceptionThrown":
                    details = params["exceptionDetails"]
                    visit.errors.append(details.get("exception", {}).get("description") or details["text"])
                case "Log.entryAdded" if params["entry"]["level"] == "error":
                    visit.errors.append(f"{params['entry'].get('url')}: {params['entry']['text']}")
        self.send("Target.closeTarget", {"targetId": target})
        return visit


# --- a site built from two real suite runs --------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> dict[str, Any]:
    """Data Docs of two suites on the shipped sample: the practice map landed in the wrong month
    (its structure suite fails) and the registered-patient list sizes of January 2021."""
    root = tmp_path_factory.mktemp("data_docs_offline")
    conn = duckdb.connect()
    practice_map = write(root / "in" / "map.csv", sample_text(GP_PRACTICE_MAP.name, "2021-01"))
    load_period(conn, GP_PRACTICE_MAP, date(2021, 2, 1), [practice_map])
    patients = write(root / "in" / "quin.csv", sample_text(GP_REGISTERED_PATIENTS.name, "2021-01"))
    load_period(conn, GP_REGISTERED_PATIENTS, date(2021, 1, 1), [patients])

    def structure(feed: str) -> validation.SuiteFile:
        (suite,) = [s for s in validation.suite_files(feed) if s.name.endswith("__structure")]
        return suite

    runs = [
        (structure(GP_PRACTICE_MAP.name), "2021-02", date(2021, 2, 1)),
        (structure(GP_REGISTERED_PATIENTS.name), "2021-01", date(2021, 1, 1)),
    ]
    docs = root / "docs"
    for suite, run_name, month in runs:
        data_docs.store([validation.run_suite(conn, suite, month, month)], docs, run_name=run_name)
    conn.close()
    index = data_docs.build(docs)
    return {"index": index, "runs": {suite.name: run_name for suite, run_name, _ in runs}}


@pytest.fixture(scope="module")
def visits(site) -> dict[str, Visit]:
    """The index, every validation result page and every expectation suite page, each loaded
    once in one offline browser."""
    index: Path = site["index"]
    pages = {"index": index}
    for suite, page in data_docs.validation_pages(index).items():
        pages[f"validation {suite}"] = page
    for page in sorted((index.parent / "expectations").glob("*.html")):
        pages[f"suite {page.stem}"] = page
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        browser = OfflineChromium(profile)
        try:
            return {name: browser.visit(page) for name, page in pages.items()}
        finally:
            browser.close()


def test_the_index_lists_every_run_with_its_status_offline(site, visits):
    index = visits["index"].state
    tables = {t["id"]: t["rows"] for t in index["tables"]}
    runs = tables["section-1-content-block-2-1-body-table"]  # the "Validation Results" tab
    assert sorted(r["text"].split("\t")[-1].strip() for r in runs) == sorted(site["runs"])
    for row in runs:
        suite = row["text"].split("\t")[-1].strip()
        assert f"\t{site['runs'][suite]}\t" in row["text"]  # the run name column
        assert (site["index"].parent / row["href"]).is_file()  # clicking the row opens its page
        assert len(row["icons"]) == 1  # the pass/fail icon
    failed = [r for r in runs if r["text"].split("\t")[-1].strip().startswith("gp_practice_map")]
    assert "fa-times" in failed[0]["icons"][0]
    suites = tables["section-1-content-block-2-2-body-table"]  # the "Expectation Suites" tab
    assert sorted(r["text"].strip() for r in suites) == sorted(site["runs"])


def test_no_page_requests_anything_from_the_network(visits):
    for name, visit in visits.items():
        remote = [u for u in visit.requests if not u.startswith(("file://", "data:"))]
        assert not remote, f"{name} requested {remote}"
        assert not [r for r in visit.state["resources"] if r.startswith(("http:", "https:", "//"))], name
        assert not visit.failed, f"{name}: {visit.failed}"
        assert not visit.errors, f"{name}: {visit.errors}"
        assert visit.state["jquery"] == "function" and visit.state["bootstrap_table"] == "function", name


def test_every_page_is_styled_by_the_vendored_stylesheets(site, visits):
    vendor = (site["index"].parent / data_docs.SITE_VENDOR_DIR).resolve()
    for name, visit in visits.items():
        sheets = [Path(s.removeprefix("file://")) for s in visit.state["stylesheets"]]
        assert vendor / "bootstrap" / "bootstrap.min.css" in sheets, name
        assert all(s.is_file() and s.is_relative_to(vendor) for s in sheets), f"{name}: {sheets}"
        # Bootstrap's font stack and flex navbar, not the browser's Times and block.
        assert visit.state["body_font"].startswith("-apple-system"), f"{name}: {visit.state['body_font']}"
        assert visit.state["navbar_display"] == "flex", name
    # The status icons are drawn with the vendored Font Awesome font, and it loaded.
    for name in ("index", *[n for n in visits if n.startswith("validation ")]):
        assert visits[name].state["icon_font"] == '"Font Awesome 6 Free"', name
        assert visits[name].state["icon_font_loaded"], name


def test_a_validation_page_reads_offline(site, visits):
    page = visits["validation gp_practice_map__structure"].state
    assert "Expectation Suite: gp_practice_map__structure" in page["text"]
    assert "Failed" in page["text"] and "2021-02" in page["text"]


def test_rewriting_a_built_site_again_changes_nothing_and_reports_unknown_cdns(site, tmp_path):
    before = {p: p.read_text() for p in site["index"].parent.rglob("*.html")}
    assert data_docs.serve_assets_locally(site["index"].parent) == []
    assert {p: p.read_text() for p in before} == before

    page = write(
        tmp_path / "site" / "index.html",
        '<link rel="stylesheet" href="https://cdn.example.org/x.css">'
        '<script src="https://code.jquery.com/jquery-3.7.1.min.js" crossorigin="anonymous"></script>',
        encoding="utf-8",
    )
    assert data_docs.serve_assets_locally(page.parent) == ["https://cdn.example.org/x.css"]
    assert page.read_text() == (
        '<link rel="stylesheet" href="https://cdn.example.org/x.css">'
        '<script src="./static/vendor/jquery/jquery.min.js"></script>'
    )
    assert (page.parent / "static" / "vendor" / "jquery" / "LICENSE.txt").is_file()
