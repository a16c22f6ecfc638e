"""Who may see the dashboard: the sign-in setup of ``.streamlit/secrets.toml``, the allow-lists, the decision.

No Streamlit here: :mod:`dashboard.ui.signin` reads the secrets, ``st.user`` and the bind address and passes
them in, so every rule below is a plain function tested on its own.

Rules (README, "Sign-in"):

- Sign-in is configured when secrets.toml has an ``[auth]`` table; without one the dashboard is open. An
  ``[auth]`` table that lacks a key Streamlit needs is a configuration error, not open mode.
- ``access.allow`` admits users to the dashboard and ``access.sql_allow`` to the SQL page as well; the SQL page
  needs both. An entry with ``@`` is an address, any other entry a domain; both match exactly and ignore case,
  so ``example.com`` admits ``ana@example.com`` but not ``ana@eu.example.com`` or ``ana@evil-example.com``.
  An empty list admits no one: with sign-in configured, nobody gets in until ``access.allow`` names someone.
- An e-mail claim the identity provider marks unverified (``email_verified`` false) is refused; a provider that
  sends no ``email_verified`` claim is trusted for the address it sends.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from etl.config import Config

SETTINGS = ("access.allow", "access.sql_allow")
_DOMAIN = re.compile(r"[^\s@*/:\\]+")
_SITE_KEYS = ("redirect_uri", "cookie_secret")  # shared by every provider
_PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


@dataclass(frozen=True)
class AccessList:
    """Addresses and domains of one allow-list setting, lower-cased."""

    addresses: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, entries: Iterable[str], setting: str) -> AccessList:
        """The entries of ``setting``; ValueError names a malformed entry (a wildcard, a URL, an empty part)."""
        addresses, domains = set(), set()
        for raw in entries:
            entry = raw.strip().lower()
            local, at, domain = entry.rpartition("@")
            if not _is_domain(domain) or (at and not _is_local_part(local)):
                raise ValueError(f"setting {setting!r}: {raw!r} is neither an e-mail address nor a domain "
                                 "(write `example.com` or `ana@example.com`; wildcards are not supported)")
            (addresses if at else domains).add(entry if at else domain)
        return cls(frozenset(addresses), frozenset(domains))

    def __bool__(self) -> bool:
        return bool(self.addresses or self.domains)

    def admits(self, email: str) -> bool:
        """Whether the address, or its domain (the part after the last ``@``), is on the list."""
        email = email.strip().lower()
        _, at, domain = email.rpartition("@")
        return bool(at) and (email in self.addresses or domain in self.domains)


@dataclass(frozen=True)
class AccessPolicy:
    """``access.allow`` (the dashboard) and ``access.sql_allow`` (the SQL page, for users on both lists)."""

    allow: AccessList
    sql_allow: AccessList

    @classmethod
    def from_config(cls, config: Config) -> AccessPolicy:
        return cls(*(AccessList.parse(config.get(key), key) for key in SETTINGS))

    @property
    def configured(self) -> bool:
        return bool(self.allow or self.sql_allow)


@dataclass(frozen=True)
class SignInSetup:
    """What ``[auth]`` declares: the providers ``st.login`` can be called with and the keys that are missing."""

    providers: tuple[str, ...]
    missing: tuple[str, ...]


def sign_in_setup(auth: Mapping[str, Any] | None) -> SignInSetup | None:
    """The ``[auth]`` table of secrets.toml read without keeping a value; None when there is none (open mode).

    A provider is ``default`` (``client_id`` … directly in ``[auth]``) or a sub-table ``[auth.<name>]``;
    ``missing`` names each absent key as ``auth.<key>`` or ``auth.<name>.<key>``, and ``auth.<provider>`` when
    no provider is declared."""
    if not auth:
        return None
    named = [name for name, value in auth.items() if isinstance(value, Mapping) and name != "client_kwargs"]
    providers = (["default"] if "client_id" in auth else []) + named
    missing = [f"auth.{key}" for key in _SITE_KEYS if not auth.get(key)]
    for name in providers:
        section = auth if name == "default" else auth[name]
        prefix = "auth." if name == "default" else f"auth.{name}."
        missing += [prefix + key for key in _PROVIDER_KEYS if not section.get(key)]
        if "_" in name:  # Streamlit refuses such a provider at st.login
            missing.append(f"auth.{name} (a provider name without underscores)")
    if not providers:
        missing.append("auth.<provider> (client_id, client_secret, server_metadata_url)")
    return SignInSetup(tuple(providers), tuple(missing))


@dataclass(frozen=True)
class Access:
    """The decision for one visitor. ``email`` is None in open mode, where everyone sees every page."""

    allowed: bool
    sql: bool
    email: str | None = None
    reason: str = ""


OPEN = Access(allowed=True, sql=True)


def decide(claims: Mapping[str, Any], policy: AccessPolicy) -> Access:
    """The decision for a signed-in user from the identity provider's claims (``st.user``)."""
    email = str(claims.get("email") or "").strip()
    if "@" not in email:
        return Access(False, False, email or None, "the identity provider sent no e-mail address")
    verified = claims.get("email_verified", True)
    if verified is False or str(verified).strip().lower() == "false":
        return Access(False, False, email, f"the identity provider has not verified {email}")
    if not policy.allow:
        return Access(False, False, email, "no one is allowed in yet: the allow-list `access.allow` is empty")
    if not policy.allow.admits(email):
        return Access(False, False, email, f"{email} is not on the allow-list `access.allow`")
    return Access(True, policy.sql_allow.admits(email), email)


def is_local_address(address: str | None) -> bool:
    """Whether ``server.address`` only accepts connections from this machine: a loopback name or IP, or a Unix
    socket. Unset (Streamlit's default) means every interface, so it is not local."""
    if not address:
        return False
    address = address.strip().lower()
    if address.startswith("unix://") or address in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return False


def _is_domain(text: str) -> bool:
    return bool(_DOMAIN.fullmatch(text)) and all(text.split("."))


def _is_local_part(text: str) -> bool:
    return bool(text) and not any(char.isspace() for char in text)
