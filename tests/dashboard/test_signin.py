"""Sign-in under AppTest through the router: open, signed out, allowed (with and without the SQL page), refused,
and misconfigured; no secret from ``[auth]`` ever reaches a page or the log."""

from __future__ import annotations

import logging

import pytest

from dashboard.ui import signin

CLIENT_SECRET = "client-SECRET-4f9a2c7e1b"
COOKIE_SECRET = "cookie-SECRET-8d3e6b0a5f"
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": COOKIE_SECRET,
        "client_id": "spendscope-dashboard", "client_secret": CLIENT_SECRET,
        "server_metadata_url": "https://idp.example.org/.well-known/openid-configuration"}
SECRETS = {"auth": AUTH}
PAGES = ("overview", "spend_vs_market", "event_study", "data_health", "sql_console")


def rendered(at) -> str:
    """Everything the run sent to the browser, main area and sidebar, as text."""
    def walk(node) -> list[str]:
        own = [str(node.proto)] if getattr(node, "proto", None) is not None else []
        return own + [text for child in getattr(node, "children", {}).values() for text in walk(child)]

    return "\n".join(walk(at._tree))


def routable(at, page: str) -> bool:
    """Whether the router lists ``page``: AppTest, like a browser, cannot switch to a page outside
    ``st.navigation``."""
    try:
        at.switch_page(f"app_pages/{page}.py")
    except ValueError as exc:
        assert "Could not find a navigation page" in str(exc)
        return False
    return True


def signed_in(email: str, **claims: object) -> dict:
    return {"is_logged_in": True, "email": email, "name": "Ana", **claims}


@pytest.fixture
def allow(monkeypatch: pytest.MonkeyPatch):
    """Sets ``access.allow`` and ``access.sql_allow`` through their environment variables."""
    def set_lists(allow: str = "", sql_allow: str = "") -> None:
        monkeypatch.setenv("SPENDSCOPE_ACCESS__ALLOW", allow)
        monkeypatch.setenv("SPENDSCOPE_ACCESS__SQL_ALLOW", sql_allow)

    return set_lists


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """The gate's log, with its once-per-process messages forgotten so this test sees them."""
    signin._log_once.cache_clear()
    caplog.set_level(logging.INFO, logger="dashboard.ui.signin")
    return caplog


def banners(at) -> list[str]:
    return [w.value for w in at.warning if w.value.startswith("**Open to the network.**")]


def gate_log(logs: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    """(level, message) of what the gate logged."""
    return [(r.levelname, r.getMessage()) for r in logs.records if r.name == signin.log.name]


def assert_no_secret(at, logs: pytest.LogCaptureFixture) -> None:
    for text in (rendered(at), logs.text):
        assert CLIENT_SECRET not in text and COOKIE_SECRET not in text


# --- open: no [auth] -------------------------------------------------------------------------------------------

def test_without_sign_in_every_page_is_there_and_data_health_says_it_is_open(app, spend_db, logs):
    at = app("data_health")
    assert at.title[0].value == "Data health"
    assert signin.OPEN_NOTE in [info.value for info in at.info]
    assert ":material/lock_open: Open: sign-in is not configured." in [c.value for c in at.sidebar.caption]
    assert not banners(at) and not gate_log(logs)  # bound to localhost: nothing to warn about
    assert all(routable(app(), page) for page in PAGES)


def test_bound_to_every_interface_without_sign_in_warns_once_per_process(app, spend_db, server_address, logs):
    server_address(None)  # Streamlit's default: every interface
    first, second = app(), app("data_health")
    for at in (first, second):
        assert banners(at) == ["**Open to the network.** This server listens on every network interface (Streamlit's "
                               "default) and sign-in is not configured: anyone who can reach it sees every page. "
                               "Configure sign-in (README, \"Sign-in\") or start it with `--server.address localhost`."]
    assert first.metric  # the page itself is still shown
    assert gate_log(logs) == [
        ("WARNING", "the dashboard listens on every network interface (Streamlit's default) without sign-in: anyone "
                    "who can reach it sees every page; configure sign-in or run with --server.address localhost")]


def test_bound_to_a_network_address_warns_and_names_it(app, spend_db, server_address, logs):
    server_address("0.0.0.0")
    [banner] = banners(app())
    assert "This server listens on 0.0.0.0 and sign-in is not configured" in banner
    assert "listens on 0.0.0.0 without sign-in" in logs.text


def test_allow_lists_without_sign_in_serve_no_page(app, spend_db, allow, logs):
    allow("example.com")
    at = app()
    [error] = at.error
    assert error.value.startswith("**Sign-in is misconfigured, so no page is shown.** `access.allow` or "
                                  "`access.sql_allow` is set, but sign-in is not configured")
    assert not at.metric and not at.dataframe
    assert not any(routable(at, page) for page in PAGES)


# --- configured: [auth] ----------------------------------------------------------------------------------------

def test_signed_out_sees_only_the_sign_in_button(app, spend_db, allow, logs):
    allow("example.com", "example.com")
    at = app(secrets=SECRETS, user={"is_logged_in": False})
    assert [t.value for t in at.title] == ["SpendScope"]
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.metric and not at.dataframe and not at.sidebar.caption  # not even the warehouse's path
    assert not any(routable(at, page) for page in PAGES)
    assert_no_secret(at, logs)


def test_named_providers_get_a_button_each(app, spend_db):
    provider = {key: AUTH[key] for key in ("client_id", "client_secret", "server_metadata_url")}
    secrets = {"auth": {"redirect_uri": AUTH["redirect_uri"], "cookie_secret": COOKIE_SECRET,
                        "google": provider, "microsoft": provider}}
    at = app(secrets=secrets, user={"is_logged_in": False})
    assert [b.label for b in at.button] == ["Sign in with google", "Sign in with microsoft"]


def test_an_allowed_user_gets_the_pages_but_not_the_sql_page(app, spend_db, allow, logs):
    allow("example.com, cfo@example.org", "cfo@example.org")
    at = app(secrets=SECRETS, user=signed_in("Ana@Example.com"))
    assert at.title[0].value == "Overview" and at.metric
    assert "Signed in as Ana@Example.com" in at.sidebar.caption[0].value
    assert [b.label for b in at.sidebar.button] == ["Sign out"]
    assert [routable(app(secrets=SECRETS, user=signed_in("ana@example.com")), page) for page in PAGES] == [
        True, True, True, True, False]
    assert "signed in: Ana@Example.com (SQL page: no)" in logs.text
    assert_no_secret(at, logs)


def test_a_user_on_the_sql_list_gets_the_sql_page(app, spend_db, allow, logs):
    allow("example.com, cfo@example.org", "cfo@example.org")
    at = app("sql_console", secrets=SECRETS, user=signed_in("cfo@example.org"))
    assert at.title[0].value == "SQL" and at.dataframe
    assert "signed in: cfo@example.org (SQL page: yes)" in logs.text
    assert_no_secret(at, logs)


def test_an_empty_sql_list_hides_the_sql_page_from_everyone(app, spend_db, allow):
    allow("cfo@example.org")
    assert not routable(app(secrets=SECRETS, user=signed_in("cfo@example.org")), "sql_console")


def test_the_data_health_page_does_not_call_a_signed_in_dashboard_open(app, spend_db, allow):
    allow("example.com")
    at = app("data_health", secrets=SECRETS, user=signed_in("ana@example.com"))
    assert at.title[0].value == "Data health" and signin.OPEN_NOTE not in [i.value for i in at.info]


@pytest.mark.parametrize(("claims", "reason"), [
    (signed_in("eve@evil-example.com"), "eve@evil-example.com is not on the allow-list `access.allow`"),
    (signed_in("eve@example.com.evil.org"), "eve@example.com.evil.org is not on the allow-list `access.allow`"),
    (signed_in("ana@example.com", email_verified=False), "the identity provider has not verified ana@example.com"),
    ({"is_logged_in": True, "name": "No Mail"}, "the identity provider sent no e-mail address"),
])
def test_a_refused_user_sees_why_and_no_data(app, spend_db, allow, logs, claims, reason):
    allow("example.com")
    at = app(secrets=SECRETS, user=claims)
    [error] = at.error
    assert reason in error.value
    if "email" in claims:
        assert error.value.startswith(f"Signed in as **{claims['email']}**: this account may not see the dashboard")
    assert [b.label for b in at.button] == ["Sign out"]
    assert not at.metric and not at.dataframe and not at.sidebar.caption
    assert not any(routable(at, page) for page in PAGES)
    [(level, message)] = gate_log(logs)
    assert level == "WARNING" and reason in message
    assert_no_secret(at, logs)


def test_with_an_empty_allow_list_no_one_gets_in(app, spend_db):
    at = app(secrets=SECRETS, user=signed_in("ana@example.com"))
    assert "no one is allowed in yet: the allow-list `access.allow` is empty" in at.error[0].value


def test_sign_out_returns_to_the_sign_in_screen(app, spend_db, allow):
    allow("example.com")
    at = app(secrets=SECRETS, user=signed_in("ana@example.com"))
    at.sidebar.button[0].click().run()
    assert at.user == {"is_logged_in": False}
    assert [b.label for b in at.button] == ["Sign in"] and not at.metric


def test_an_incomplete_auth_table_names_the_missing_keys_not_the_values(app, spend_db, allow, logs):
    allow("example.com")
    incomplete = {key: value for key, value in AUTH.items() if key not in ("cookie_secret", "server_metadata_url")}
    at = app(secrets={"auth": incomplete}, user=signed_in("ana@example.com"))
    [error] = at.error
    assert error.value.endswith("`.streamlit/secrets.toml` has an `[auth]` table, but it lacks `auth.cookie_secret`, "
                                "`auth.server_metadata_url`.")
    assert not at.metric and not any(routable(at, page) for page in PAGES)
    assert "sign-in is misconfigured, no page is served" in logs.text
    assert_no_secret(at, logs)


def test_a_secrets_file_that_is_not_toml_serves_no_page(app, spend_db, tmp_path, logs):
    from streamlit import config

    broken = tmp_path / "secrets.toml"
    broken.write_text(f'[auth]\nclient_secret = "{CLIENT_SECRET}"\ncookie_secret = \n')
    before, where = config.get_option("secrets.files"), config.get_where_defined("secrets.files")
    config.set_option("secrets.files", [str(broken)], "test")
    try:
        at = app()
    finally:
        config.set_option("secrets.files", before, where)
    [error] = at.error
    assert error.value.endswith(f"`{broken}` cannot be read as TOML.")
    assert not at.metric and not any(routable(at, page) for page in PAGES)
    assert_no_secret(at, logs)
