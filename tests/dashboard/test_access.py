"""The access rules (dashboard/services/access.py) on their own: allow-lists, the decision, the [auth] table, the
bind address."""

from __future__ import annotations

import re

import pytest

from dashboard.services.access import OPEN, Access, AccessList, AccessPolicy, decide, is_local_address, sign_in_setup
from etl.config import load_config

LIST = AccessList.parse([" Example.com ", "CFO@example.org", "eu.example.net"], "access.allow")


@pytest.mark.parametrize(("email", "admitted"), [
    ("ana@example.com", True),
    ("ANA@EXAMPLE.COM", True),
    ("cfo@example.org", True),
    ("ceo@example.org", False),  # only the address of that domain is listed
    ("ana@eu.example.net", True),
    ("ana@example.net", False),  # a listed subdomain does not admit its parent
    ("ana@eu.example.com", False),  # nor a domain its subdomains
    ("eve@evil-example.com", False),
    ("eve@example.com.evil.org", False),
    ("eve@notexample.com", False),
    ('"ana@example.com"@evil.org', False),  # the domain is what follows the last @
    ("example.com", False),
    ("", False),
])
def test_domains_and_addresses_match_exactly_ignoring_case(email, admitted):
    assert LIST.admits(email) is admitted


def test_entries_are_split_into_addresses_and_domains():
    assert LIST.addresses == {"cfo@example.org"} and LIST.domains == {"example.com", "eu.example.net"}
    assert not AccessList.parse([], "access.allow")


@pytest.mark.parametrize("entry", ["*.example.com", "*", "@example.com", "https://example.com", "ana@", "",
                                   "ana smith@example.com", "example..com", "example.com."])
def test_a_malformed_entry_names_the_setting_and_the_entry(entry):
    message = f"setting 'access.sql_allow': '{entry}' is neither an e-mail address nor a domain"
    with pytest.raises(ValueError, match=re.escape(message)):
        AccessList.parse([entry], "access.sql_allow")


def test_the_policy_comes_from_the_settings():
    policy = AccessPolicy.from_config(load_config(environ={"SPENDSCOPE_ACCESS__ALLOW": "example.com, b@x.org"}))
    assert policy.allow == AccessList(frozenset({"b@x.org"}), frozenset({"example.com"}))
    assert not policy.sql_allow and policy.configured
    assert not AccessPolicy.from_config(load_config(environ={})).configured


POLICY = AccessPolicy(AccessList.parse(["example.com"], "a"), AccessList.parse(["cfo@example.com"], "s"))


@pytest.mark.parametrize(("claims", "expected"), [
    ({"email": "ana@example.com"}, Access(True, False, "ana@example.com")),
    ({"email": "cfo@example.com", "email_verified": True}, Access(True, True, "cfo@example.com")),
    ({"email": "cfo@example.com", "email_verified": "true"}, Access(True, True, "cfo@example.com")),
    ({"email": "cfo@example.com", "email_verified": False},
     Access(False, False, "cfo@example.com", "the identity provider has not verified cfo@example.com")),
    ({"email": "cfo@example.com", "email_verified": "False"},
     Access(False, False, "cfo@example.com", "the identity provider has not verified cfo@example.com")),
    ({"email": "eve@evil.org"}, Access(False, False, "eve@evil.org", "eve@evil.org is not on the allow-list "
                                                                     "`access.allow`")),
    ({"name": "No Mail"}, Access(False, False, None, "the identity provider sent no e-mail address")),
    ({"email": "not-an-address"}, Access(False, False, "not-an-address",
                                         "the identity provider sent no e-mail address")),
])
def test_the_decision(claims, expected):
    assert decide({"is_logged_in": True, **claims}, POLICY) == expected


def test_the_sql_list_grants_nothing_without_the_allow_list():
    policy = AccessPolicy(AccessList.parse(["example.com"], "a"), AccessList.parse(["cfo@example.org"], "s"))
    assert not decide({"email": "cfo@example.org"}, policy).allowed
    empty = AccessPolicy(AccessList(), AccessList())
    assert decide({"email": "ana@example.com"}, empty).reason == ("no one is allowed in yet: the allow-list "
                                                                  "`access.allow` is empty")
    assert OPEN.allowed and OPEN.sql and OPEN.email is None


def test_the_auth_table_declares_providers_and_missing_keys():
    shared = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "s"}
    provider = {"client_id": "i", "client_secret": "s", "server_metadata_url": "u"}
    assert sign_in_setup(None) is None and sign_in_setup({}) is None
    default = sign_in_setup({**shared, **provider, "client_kwargs": {"prompt": "login"}})
    assert default.providers == ("default",) and default.missing == ()
    named = sign_in_setup({**shared, "google": provider, "okta": {"client_id": "i"}})
    assert named.providers == ("google", "okta")
    assert named.missing == ("auth.okta.client_secret", "auth.okta.server_metadata_url")
    assert sign_in_setup({"cookie_secret": ""}).missing == (
        "auth.redirect_uri", "auth.cookie_secret", "auth.<provider> (client_id, client_secret, server_metadata_url)")
    assert sign_in_setup({**shared, "my_idp": provider}).missing == (
        "auth.my_idp (a provider name without underscores)",)


@pytest.mark.parametrize(("address", "local"), [
    (None, False), ("", False), ("0.0.0.0", False), ("::", False), ("192.168.1.20", False),
    ("dashboard.example.com", False),
    ("localhost", True), ("LOCALHOST", True), ("127.0.0.1", True), ("127.0.1.1", True), ("::1", True),
    ("[::1]", True), ("unix:///run/spendscope.sock", True),
])
def test_only_loopback_addresses_and_sockets_are_local(address, local):
    assert is_local_address(address) is local
