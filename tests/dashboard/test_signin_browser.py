"""Sign-in end to end: a real ``streamlit run`` with ``.streamlit/secrets.toml``, a loopback OpenID Connect
provider (tests/dashboard/oidc_stub.py) and Chromium clicking through ``st.login``.

Streamlit's own OAuth routes do the work (Authlib, the token exchange, the signed identity cookie); the test
checks what the dashboard makes of it: who gets which pages, that the SQL page's URL does not open it for a user
off ``access.sql_allow``, who is refused, and that no secret reaches a page, the provider's front channel or
the server's log.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dashboard.oidc_stub import OidcStub, serve
from tests.dashboard.test_browser import CHROMIUM, CHROMIUM_FLAGS, VIEWPORT, _free_port, serve_app

CLIENT_SECRET = "client-SECRET-e2e-7c1d9a4b3f"
COOKIE_SECRET = "cookie-SECRET-e2e-2b8f6e0c5a"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason="Chromium is not installed (Debian package `chromium`; .ci/run installs it)"),
]


def test_sign_in_through_a_provider(spend_db: Path, tmp_path: Path):
    from playwright.sync_api import sync_playwright

    port = _free_port()
    stub = OidcStub("spendscope-e2e", CLIENT_SECRET, {})
    with serve(stub):
        (tmp_path / ".streamlit").mkdir()
        (tmp_path / ".streamlit" / "secrets.toml").write_text(
            f'[auth]\nredirect_uri = "http://127.0.0.1:{port}/oauth2callback"\ncookie_secret = "{COOKIE_SECRET}"\n'
            f'client_id = "{stub.client_id}"\nclient_secret = "{CLIENT_SECRET}"\n'
            f'server_metadata_url = "{stub.metadata_url}"\n')
        settings = {"SPENDSCOPE_ACCESS__ALLOW": "example.com", "SPENDSCOPE_ACCESS__SQL_ALLOW": "cfo@example.com"}
        with serve_app(spend_db, tmp_path, port, **settings) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
            page = _sign_in(browser, url, stub, "ana@example.com")
            nav = page.locator('[data-testid="stSidebarNav"]')
            nav.get_by_role("link", name="Data health", exact=True).wait_for(timeout=30_000)
            assert nav.get_by_role("link", name="SQL", exact=True).count() == 0
            page.get_by_text("Signed in as ana@example.com").wait_for(timeout=30_000)
            page.goto(f"{url}/sql", wait_until="networkidle")  # the URL of a page she may not open
            _heading(page, "Overview")  # Streamlit's "page not found" falls back to the default page
            dialog = page.get_by_role("dialog")
            dialog.wait_for(timeout=30_000)
            assert dialog.inner_text().startswith("Page not found")
            assert page.locator("h1", has_text="SQL").count() == 0
            page.keyboard.press("Escape")
            dialog.wait_for(state="detached", timeout=30_000)
            page.get_by_role("button", name="Sign out").click()
            page.get_by_role("button", name="Sign in").wait_for(timeout=30_000)
            page.close()

            page = _sign_in(browser, url, stub, "cfo@example.com")
            page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="SQL", exact=True).click()
            _heading(page, "SQL")
            page.close()

            page = _sign_in(browser, url, stub, "eve@evil-example.com", expect=None)
            page.get_by_text("eve@evil-example.com is not on the allow-list").wait_for(timeout=30_000)
            assert page.locator('[data-testid="stSidebarNav"]').count() == 0
            page.close()
            browser.close()
    log = (tmp_path / "streamlit.log").read_text()
    assert "signed in: ana@example.com (SQL page: no)" in log and "signed in: cfo@example.com (SQL page: yes)" in log
    assert "sign-in refused for eve@evil-example.com" in log
    assert CLIENT_SECRET not in log and COOKIE_SECRET not in log
    authorize = [params for method, path, params in stub.requests if path == "/authorize"]
    assert len(authorize) == 3 and all(params["client_id"] == [stub.client_id] for params in authorize)
    assert not any(CLIENT_SECRET in str(params) for _, _, params in stub.requests)  # sent only as HTTP Basic
    assert sum(path == "/token" for _, path, _ in stub.requests) == 3


def _sign_in(browser, url: str, stub: OidcStub, email: str, expect: str | None = "Overview"):
    """A fresh browser session (no identity cookie) signing in as ``email``; returns the page after it."""
    page = browser.new_context(viewport=VIEWPORT).new_page()
    page.goto(url, wait_until="networkidle")
    _heading(page, "SpendScope")
    html = page.content()
    assert CLIENT_SECRET not in html and COOKIE_SECRET not in html
    stub.claims = {"email": email, "email_verified": True, "name": email.split("@")[0]}
    page.get_by_role("button", name="Sign in").click()
    if expect:
        _heading(page, expect)
        assert CLIENT_SECRET not in page.content() and COOKIE_SECRET not in page.content()
    return page


def _heading(page, title: str) -> None:
    page.locator('[data-testid="stMainBlockContainer"] h1', has_text=title).first.wait_for(timeout=30_000)
