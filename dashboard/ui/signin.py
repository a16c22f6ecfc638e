"""The sign-in gate of the router: Streamlit's OIDC sign-in (``st.login``) in front of every page.

:func:`gate` runs in ``dashboard/app.py`` before ``st.navigation``. It reads the ``[auth]`` table of
``.streamlit/secrets.toml``, ``st.user`` and the ``access.*`` settings, asks :mod:`dashboard.services.access`
for the decision, and either returns it (the router then lists the pages it allows) or shows one screen as the
app's only page and stops: the sign-in buttons, the refusal, or what is wrong with the configuration. A page that
is not in ``st.navigation`` cannot be reached, not even by its URL.

Nothing secret leaves this module: the screens and the log name missing keys and the user's e-mail address,
never a value from secrets.toml or a token.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any, NoReturn

import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from dashboard.services.access import OPEN, Access, AccessPolicy, SignInSetup, decide, is_local_address, sign_in_setup
from etl.config import Config

log = logging.getLogger(__name__)

SQL_PAGES = {"sql"}  # url paths of the pages only `access.sql_allow` opens
OPEN_NOTE = ("Sign-in is not configured: anyone who can reach this server sees every page, the SQL page included. "
             "See README, \"Sign-in\".")


class ConfigurationError(Exception):
    """Sign-in cannot work as configured; the message names what to fix and holds no secret."""


def gate(config: Config) -> Access:
    """The visitor's access; shows the sign-in, refusal or configuration screen and stops when it is not a pass."""
    try:
        policy = AccessPolicy.from_config(config)
        setup = _setup()
        if setup is None:
            return _open(policy)
        if setup.missing:
            raise ConfigurationError("`.streamlit/secrets.toml` has an `[auth]` table, but it lacks "
                                     + ", ".join(f"`{key}`" for key in setup.missing) + ".")
        if importlib.util.find_spec("authlib") is None:
            raise ConfigurationError("Sign-in needs Authlib: install `requirements.txt` "
                                     "(`pip install -r requirements.txt -c constraints.txt`).")
    except (ConfigurationError, ValueError) as exc:
        _log_once(logging.ERROR, f"sign-in is misconfigured, no page is served: {exc}")
        _screen(_misconfigured, "Configuration", str(exc))
    if not st.user.get("is_logged_in"):
        _screen(_sign_in, "Sign in", setup)
    access = decide(st.user.to_dict(), policy)
    _log_session(access)
    if not access.allowed:
        _screen(_refused, "Not allowed", access)
    return access


def visible(pages: list[st.Page], access: Access) -> list[st.Page]:
    """The pages ``access`` may open (the SQL page only with ``access.sql``)."""
    return [page for page in pages if access.sql or page.url_path not in SQL_PAGES]


def sidebar(access: Access) -> None:
    """Who is signed in, with a sign-out button; or that the dashboard is open."""
    if access.email is None:
        st.caption(":material/lock_open: Open: sign-in is not configured.")
        return
    st.caption(f":material/account_circle: Signed in as {access.email}")
    st.button("Sign out", on_click=st.logout, icon=":material/logout:", key="signin-sign-out")


def open_note() -> None:
    """For the Data health page: says that the dashboard is open, when sign-in is not configured."""
    try:
        configured = _setup() is not None
    except ConfigurationError:
        configured = True  # the gate has already refused to serve this page
    if not configured:
        st.info(OPEN_NOTE, icon=":material/lock_open:")


def _setup() -> SignInSetup | None:
    """The ``[auth]`` table as :func:`sign_in_setup` reads it. A secrets file that exists but cannot be parsed is
    a configuration error, not open mode."""
    try:
        auth: Mapping[str, Any] | None = st.secrets.get("auth")
    except StreamlitSecretNotFoundError:
        unreadable = [path for path in st.get_option("secrets.files") if Path(path).is_file()]
        if unreadable:
            raise ConfigurationError(f"`{unreadable[0]}` cannot be read as TOML.") from None
        return None
    return sign_in_setup(auth)


def _open(policy: AccessPolicy) -> Access:
    if policy.configured:
        raise ConfigurationError("`access.allow` or `access.sql_allow` is set, but sign-in is not configured (no "
                                 "`[auth]` table in `.streamlit/secrets.toml`), so no one could be checked.")
    address = st.get_option("server.address")
    if not is_local_address(address):
        where = f"on {address}" if address else "on every network interface (Streamlit's default)"
        _log_once(logging.WARNING, f"the dashboard listens {where} without sign-in: anyone who can reach it sees "
                                   "every page; configure sign-in or run with --server.address localhost")
        st.warning(f"**Open to the network.** This server listens {where} and sign-in is not configured: anyone "
                   "who can reach it sees every page. Configure sign-in (README, \"Sign-in\") or start it with "
                   "`--server.address localhost`.", icon=":material/warning:")
    return OPEN


@cache
def _log_once(level: int, message: str) -> None:
    """Logs each configuration message once per server process, not on every rerun of every session."""
    log.log(level, message)


def _log_session(access: Access) -> None:
    """One line per session and decision: who signed in, with or without the SQL page, or who was refused."""
    if st.session_state.get("signin-logged") == access:
        return
    st.session_state["signin-logged"] = access
    if access.allowed:
        log.info("signed in: %s (SQL page: %s)", access.email, "yes" if access.sql else "no")
    else:
        log.warning("sign-in refused for %s: %s", access.email or "an account without an e-mail address",
                    access.reason)


def _screen(show: Callable[..., None], title: str, *args: object) -> NoReturn:
    """``show`` as the app's only page; the run stops there."""
    st.navigation([st.Page(lambda: show(*args), title=title, url_path="signin", icon=":material/lock:")]).run()
    st.stop()
    raise AssertionError("unreachable")  # st.stop raises


def _sign_in(setup: SignInSetup) -> None:
    st.title("SpendScope")
    st.markdown("Sign in to see the dashboard.")
    for provider in setup.providers:
        label = "Sign in" if provider == "default" else f"Sign in with {provider}"
        st.button(label, on_click=st.login, args=(provider,), type="primary", icon=":material/login:",
                  key=f"signin-{provider}")


def _refused(access: Access) -> None:
    st.title("SpendScope")
    who = f"Signed in as **{access.email}**" if access.email else "Signed in"
    st.error(f"{who}: this account may not see the dashboard because {access.reason}. Sign in with another "
             "account, or ask an administrator to add this one to `access.allow`.", icon=":material/block:")
    st.button("Sign out", on_click=st.logout, icon=":material/logout:", key="signin-sign-out")


def _misconfigured(message: str) -> None:
    st.title("SpendScope")
    st.error(f"**Sign-in is misconfigured, so no page is shown.** {message}", icon=":material/settings:")
