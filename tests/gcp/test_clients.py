"""The client factory (etl/gcp/clients.py): settings to credentials and endpoints, checked with the real clients."""

from __future__ import annotations

import json

import pytest
from google.auth.credentials import AnonymousCredentials

from etl.config import load_config
from etl.gcp import clients
from etl.gcp.clients import GcpCredentialsError, GcpSettings
from tests.gcp.standin import StandIn


def test_settings_come_from_the_config(tmp_path, monkeypatch):
    (tmp_path / "config.toml").write_text('[gcp]\ncredentials = "anonymous"\nbilling_endpoint = "http://x"\n')
    monkeypatch.setenv("SPENDSCOPE_GCP__BIGQUERY_ENDPOINT", "http://127.0.0.1:9")
    settings = GcpSettings.from_config(load_config(tmp_path / "config.toml"))
    assert settings == GcpSettings("anonymous", "http://127.0.0.1:9", "http://x")


def test_anonymous_credentials_send_no_token():
    assert isinstance(clients.credentials(GcpSettings(credentials="anonymous")), AnonymousCredentials)


def test_a_bad_key_file_is_named_without_its_contents(tmp_path):
    key = tmp_path / "key.json"
    key.write_text(json.dumps({"type": "service_account", "private_key": "SECRET-MATERIAL"}))
    with pytest.raises(GcpCredentialsError) as caught:
        clients.credentials(GcpSettings(credentials=str(key)))
    assert str(key) in str(caught.value) and "gcp.credentials" in str(caught.value)
    assert "SECRET" not in str(caught.value)


def test_missing_default_credentials_say_what_to_configure(monkeypatch, tmp_path):
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path))  # no gcloud application-default file here
    monkeypatch.setenv("NO_GCE_CHECK", "True")  # do not probe the metadata server
    with pytest.raises(GcpCredentialsError, match="Application Default Credentials"):
        clients.credentials(GcpSettings())


def test_billing_client_talks_rest_to_the_configured_endpoint():
    with StandIn() as standin:
        standin.route("GET", r"/v1/billingAccounts", lambda req, m: (200, {"billingAccounts": [
            {"name": "billingAccounts/012345-6789AB-CDEF01", "displayName": "Research", "open": True}]}))
        client = clients.billing_client(GcpSettings("anonymous", billing_endpoint=standin.endpoint))
        accounts = list(client.list_billing_accounts())
    assert [a.display_name for a in accounts] == ["Research"]
    assert [r.path for r in standin.requests] == ["/v1/billingAccounts"]
