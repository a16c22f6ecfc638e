"""Every page of the running app in a real headless Chromium: no Streamlit exception, no console error.

Starts ``streamlit run dashboard/app.py`` as a separate process against a warehouse built from the project's
fixtures (spend, FX rates, prices and an event catalog), drives Debian's Chromium with Playwright and saves a
full-page PNG per page under ``tests/artifacts/`` (ignored by git). Skipped, with the reason, where Chromium is
not installed; ``.ci/run`` installs it.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from etl.finops import anomalies
from etl.finops.anomalies import AnomalySettings
from etl.warehouse import Warehouse
from tests.conftest import REPO
from tests.dashboard import builders

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = REPO / "tests" / "artifacts"
PAGES = {"overview": "Overview", "anomalies": "Anomalies", "market": "Spend vs market", "events": "Event study",
         "commitments": "Commitments", "budgets": "Budgets", "health": "Data health", "sql": "SQL"}  # url path: title
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason="Chromium is not installed (Debian package `chromium`; .ci/run installs it)"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def running_app(spend_db: Path, tmp_path: Path) -> Iterator[str]:
    builders.create_events(Warehouse(spend_db))
    with Warehouse(spend_db).write("test anomalies") as session:  # the fixture's small amounts: a floor of 10
        anomalies.run(session, "USD", AnomalySettings(min_excess=10))
    builders.add_forecasts(spend_db, tmp_path / "forecasts")
    with serve_app(spend_db, tmp_path) as url:
        yield url


@contextmanager
def serve_app(db_path: Path, workdir: Path, port: int | None = None, **settings: str) -> Iterator[str]:
    """``streamlit run dashboard/app.py`` on 127.0.0.1 in ``workdir`` (where it reads ``.streamlit/``), on the
    warehouse ``db_path`` with no config file and the ``SPENDSCOPE_*`` variables ``settings``; yields its URL.
    The server's output goes to ``workdir/streamlit.log``."""
    port = port or _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPENDSCOPE_")}
    env |= {"SPENDSCOPE_DB": str(db_path), "SPENDSCOPE_CONFIG": str(workdir / "none.toml"), **settings}
    (workdir / "none.toml").write_text("")
    log = workdir / "streamlit.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(REPO / "dashboard" / "app.py"), "--server.headless=true",
             f"--server.port={port}", "--server.address=127.0.0.1", "--browser.gatherUsageStats=false"],
            cwd=workdir, env=env, stdout=output, stderr=subprocess.STDOUT, text=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"streamlit did not start: {log.read_text()}") from None
                time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        server.wait(20)


def test_every_page_renders_without_errors(running_app: str):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        _a_shared_link_on_a_fresh_server(browser, running_app)
        _three_events_draw_three_small_charts(browser, running_app)
        _a_filtered_overview_marks_its_partial_months(browser, running_app)
        page = browser.new_page(viewport=VIEWPORT)
        console_errors: list[str] = []
        page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
        page.on("pageerror", lambda error: console_errors.append(str(error)))
        colours: dict[str, dict[str, str]] = {}
        page.goto(running_app, wait_until="networkidle")
        nav = page.locator('[data-testid="stSidebarNav"]')
        # the app's own navigation
        nav.get_by_role("link", name="SQL", exact=True).wait_for(timeout=RENDER_TIMEOUT_MS)
        for path, title in PAGES.items():
            # Navigate as a user does. (Opening a deep link works too, but Streamlit's frontend itself logs
            # 404s while it probes for the base path, which would hide real console errors.)
            nav.get_by_role("link", name=title, exact=True).click()
            page.locator('[data-testid="stMainBlockContainer"] h1', has_text=title).wait_for(timeout=RENDER_TIMEOUT_MS)
            _wait_until_rendered(page)
            assert page.locator('[data-testid="stException"]').count() == 0, path
            _full_page_screenshot(page, ARTIFACTS / f"{path}.png", charts=CHARTS.get(path, 0))
            _assert_tables_read_well(page, path)
            colours[path] = _provider_colours(page)
        browser.close()
    assert console_errors == []
    assert colours["overview"] == colours["market"] == {"CoreWeave": "#CC79A7", "Google Cloud": "#009E73",
                                                         "Microsoft": "#0072B2"}


def _assert_tables_read_well(page, path: str) -> None:
    """The rendered tables' headers are words, not snake_case column names, and no cell reads ``None``."""
    tables = page.locator('[data-testid="stDataFrame"]')
    headers = tables.locator('[role="columnheader"]').all_inner_texts()
    cells = tables.locator('[role="gridcell"]').all_inner_texts()
    assert not [h for h in headers if re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", h.strip())], (path, headers)
    assert "None" not in [c.strip() for c in cells], path


def _provider_colours(page) -> dict[str, str]:
    """Provider -> colour of its spend bars in the page's plotly figures (read from the drawn figures' data:
    stacked bars are named after the provider, small multiples carry it in ``meta``)."""
    bars = page.evaluate("""() => Array.from(document.querySelectorAll('.js-plotly-plot'))
        .flatMap(plot => plot.data.filter(t => t.type === 'bar' && t.marker && typeof t.marker.color === 'string')
                                  .map(t => [t.meta || t.name, t.marker.color]))""")
    return {name.removesuffix(" spend"): colour for name, colour in bars
            if name.removesuffix(" spend") in {"CoreWeave", "Google Cloud", "Microsoft"}}


VIEWPORT = {"width": 1400, "height": 900}
# An upper bound, not a measurement: a fresh server's first run (imports, the first queries) can take over 30 s
# when the suite keeps both cores of a CI machine busy.
RENDER_TIMEOUT_MS = 90_000
# plotly charts each page draws (fixture data)
CHARTS = {"overview": 4, "market": 2, "events": 1, "commitments": 1, "budgets": 1}


@pytest.mark.parametrize("path", ["", "anomalies", "market", "events", "commitments", "budgets", "health", "sql"])
def test_a_deep_link_as_the_first_request_of_a_fresh_server_opens_its_page(spend_db: Path, tmp_path: Path,
                                                                            path: str):
    """Each page's address (the Overview's is the root) opened first, in a new browser, on a server no one has
    visited: that page, with no "Page not found" popup. (With the pages in a ``pages/`` folder Streamlit ran that
    request as a legacy multipage app, which routes by file name: ``/events`` was "not found".)"""
    from playwright.sync_api import sync_playwright

    builders.create_events(Warehouse(spend_db))
    title = PAGES.get(path, "Overview")
    with serve_app(spend_db, tmp_path) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        page = _open_view(browser, f"{url}/{path}", title)
        page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="SQL", exact=True).wait_for(
            timeout=RENDER_TIMEOUT_MS)  # the router's navigation
        assert page.get_by_text("Page not found").count() == 0, path
        assert page.locator('[data-testid="stMainBlockContainer"] h1').first.inner_text() == title
        browser.close()


def _a_shared_link_on_a_fresh_server(browser, url: str) -> None:
    """The first request of a fresh server is a link with view parameters: it opens that view through the
    router, with the parameters applied."""
    page = _open_view(browser, f"{url}/?ov_basis=Billed+cost&ov_grain=Weekly", "Overview")
    nav = page.locator('[data-testid="stSidebarNav"]')
    # the router's navigation, and the chart of that view
    nav.get_by_role("link", name="Spend vs market", exact=True).wait_for(timeout=RENDER_TIMEOUT_MS)
    page.get_by_text("Weekly billed cost per provider (USD)").wait_for(timeout=RENDER_TIMEOUT_MS)
    page.close()


def _open_view(browser, url: str, title: str):
    """A new page at ``url`` (a shared link), rendered, without a Streamlit exception."""
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(url, wait_until="networkidle")
    page.locator('[data-testid="stMainBlockContainer"] h1', has_text=title).wait_for(timeout=RENDER_TIMEOUT_MS)
    _wait_until_rendered(page)
    assert page.locator('[data-testid="stException"]').count() == 0, url
    return page


def _three_events_draw_three_small_charts(browser, url: str) -> None:
    """Three events and three tickers: one CAR chart per event, each with every ticker's line and never more
    than three bands (read from the drawn figures)."""
    events = "&".join(f"es_events={e}" for e in ("ev-tpu", "ev-cw", "ev-msft"))
    tickers = "&".join(f"es_tickers={t}" for t in ("GOOGL", "MSFT", "CRWV"))
    page = _open_view(browser, f"{url}/events?{events}&{tickers}", "Event study")
    _full_page_screenshot(page, ARTIFACTS / "events-three.png", charts=3)
    drawn = page.evaluate("""() => Array.from(document.querySelectorAll('.js-plotly-plot'))
        .filter(plot => plot.layout.yaxis.title.text === 'Cumulative abnormal return (%)')
        .map(plot => [plot.layout.title.text.replace(/<[^>]+>/g, ''),  // Streamlit bolds the titles
                      plot.data.filter(t => t.mode === 'lines+markers').map(t => t.name).sort(),
                      plot.data.filter(t => t.fill === 'tonexty').length])""")
    assert drawn == [["Acme signs a TPU capacity deal with Google", ["CRWV", "GOOGL", "MSFT"], 3],
                     ["CoreWeave expands its GPU contract with Acme", ["CRWV", "GOOGL", "MSFT"], 3],
                     ["Microsoft prices a new GPU tier", ["CRWV", "GOOGL", "MSFT"], 3]]
    page.close()


def _a_filtered_overview_marks_its_partial_months(browser, url: str) -> None:
    """Two providers from 2025-03-12 to 2025-06-20, per month: March (20 of 31 days) and June (20 of 30) are
    hatched with their note, the months between are not, and the page's caption names both."""
    view = ("ov_dates=2025-03-12&ov_dates=2025-06-20&ov_providers=Google+Cloud&ov_providers=Microsoft"
            "&ov_grain=Monthly")
    page = _open_view(browser, f"{url}/?{view}", "Overview")  # the default page's address is the root
    _full_page_screenshot(page, ARTIFACTS / "overview-filtered.png", charts=CHARTS["overview"])
    bars = page.evaluate("""() => Array.from(document.querySelectorAll('.js-plotly-plot'))
        .filter(plot => plot.layout.xaxis.title.text === 'Month')
        .flatMap(plot => plot.data.filter(t => t.type === 'bar')  // not the anomaly marks
                                  .map(t => [t.name, (t.marker.pattern || {}).shape || '', t.x.length,
                                             t.customdata.join(' ')]))""")
    notes = "<br>partial: 20 of 31 days <br>partial: 20 of 30 days"
    assert sorted(bars) == [["Google Cloud", "", 2, " "], ["Google Cloud", "/", 2, notes],
                            ["Microsoft", "", 2, " "], ["Microsoft", "/", 2, notes]]
    page.get_by_text("2025-03-01 partial: 20 of 31 days; 2025-06-01 partial: 20 of 30 days").wait_for()
    page.close()


def _full_page_screenshot(page, path: Path, charts: int = 0) -> None:
    """Streamlit scrolls inside its main container, so grow the viewport to the content, wait until the page's
    ``charts`` plotly charts are drawn, then shoot."""
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": VIEWPORT["width"], "height": max(VIEWPORT["height"], height + 40)})
    _wait_until_rendered(page)
    page.wait_for_function("n => Array.from(document.querySelectorAll('.js-plotly-plot'))"
                           ".filter(plot => plot.querySelector('.main-svg')).length >= n", arg=charts,
                           timeout=RENDER_TIMEOUT_MS)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(VIEWPORT)


def _wait_until_rendered(page) -> None:
    """The script run has finished and no element is still a loading placeholder."""
    page.wait_for_function(
        """() => !document.querySelector('[data-testid="stStatusWidget"]')
                 && !document.querySelector('[data-testid="stSkeleton"]')""",
        timeout=RENDER_TIMEOUT_MS,
    )
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)  # let charts finish their first paint before the screenshot


def test_the_commitments_page_with_real_commitment_rows(db_path: Path, tmp_path: Path, load_billing):
    """The Commitments page on the billing fixtures that carry commitments (AWS Savings Plan and RI, Azure
    reservations and savings plan, a Google CUD): three charts, readable tables, provider colours, unused in red."""
    from playwright.sync_api import sync_playwright

    from tests.billing.test_commitments import AWS_LEGACY, AZURE_PAIR, FOCUS_1_0, GCP_DETAILED

    files = [FOCUS_1_0, AWS_LEGACY, AZURE_PAIR / "ea_actualcost_202407.csv",
             AZURE_PAIR / "ea_amortizedcost_202407.csv", GCP_DETAILED]
    load_billing(*files)
    ARTIFACTS.mkdir(exist_ok=True)
    with serve_app(db_path, tmp_path) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        page = _open_view(browser, f"{url}/commitments", "Commitments")
        _full_page_screenshot(page, ARTIFACTS / "commitments-fixtures.png", charts=3)
        _assert_tables_read_well(page, "commitments")
        bars = dict(page.evaluate("""() => Array.from(document.querySelectorAll('.js-plotly-plot'))
            .flatMap(plot => plot.data.filter(t => t.type === 'bar').map(t => [t.name, t.marker.color]))"""))
        assert bars == {"Used: AWS": "#E69F00", "Used: Microsoft": "#0072B2", "Unused (all commitments)": "#d62728"}
        page.get_by_text("USD 24.70 of commitments unused").wait_for()
        browser.close()
