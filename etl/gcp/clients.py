"""The one place SpendScope builds Google's API clients, from the `gcp.*` settings.

Credentials are Application Default Credentials unless `gcp.credentials` names a service-account key file;
`anonymous` sends no credentials at all (a local stand-in or emulator). Neither the key file's contents nor a
token is ever logged, stored or put in a message: errors name the setting and the file only.

`gcp.bigquery_endpoint` and `gcp.billing_endpoint` override Google's API hosts (Private Service Connect, or a
stand-in on 127.0.0.1 in the tests). The Cloud Billing clients use the REST transport, so one HTTP endpoint
serves both APIs the same way. Google's libraries are imported here, when a client is built, so commands that
never talk to Google do not pay for the import.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from etl.config import Config

if TYPE_CHECKING:
    from google.auth.credentials import Credentials
    from google.cloud import bigquery, billing_v1

ANONYMOUS = "anonymous"
# Read-only scopes: SpendScope queries the export and reads the billing catalog, it never changes either.
SCOPES = ("https://www.googleapis.com/auth/bigquery.readonly",
          "https://www.googleapis.com/auth/cloud-billing.readonly")


class GcpCredentialsError(RuntimeError):
    """No usable credentials; the message says which setting to fix and never contains a secret."""


@dataclass(frozen=True)
class GcpSettings:
    """The `gcp.*` settings."""

    credentials: str = ""
    bigquery_endpoint: str = ""
    billing_endpoint: str = ""

    @classmethod
    def from_config(cls, config: Config) -> GcpSettings:
        return cls(credentials=config.get("gcp.credentials"),
                   bigquery_endpoint=config.get("gcp.bigquery_endpoint"),
                   billing_endpoint=config.get("gcp.billing_endpoint"))


def credentials(settings: GcpSettings) -> Credentials:
    """Anonymous, a service-account key file's, or Application Default Credentials (see the module docstring)."""
    import google.auth
    from google.auth import exceptions
    from google.auth.credentials import AnonymousCredentials
    from google.oauth2 import service_account

    if settings.credentials == ANONYMOUS:
        return AnonymousCredentials()
    if settings.credentials:
        try:
            return service_account.Credentials.from_service_account_file(settings.credentials, scopes=SCOPES)
        except (OSError, ValueError, KeyError) as exc:
            raise GcpCredentialsError(
                f"gcp.credentials: {settings.credentials} is not a readable service-account key file "
                f"({type(exc).__name__})") from None
    try:
        found, _project = google.auth.default(scopes=SCOPES)
    except exceptions.DefaultCredentialsError:
        raise GcpCredentialsError(
            "no Google Cloud credentials: set gcp.credentials to a service-account key file, or configure "
            "Application Default Credentials (`gcloud auth application-default login`)") from None
    return found


def _client_options(endpoint: str) -> dict[str, Any] | None:
    return {"api_endpoint": endpoint} if endpoint else None


def bigquery_client(settings: GcpSettings, project: str, location: str | None = None) -> bigquery.Client:
    """A BigQuery client whose jobs run (and are billed) in ``project``."""
    from google.cloud import bigquery

    return bigquery.Client(project=project, location=location or None, credentials=credentials(settings),
                           client_options=_client_options(settings.bigquery_endpoint))


def billing_client(settings: GcpSettings) -> billing_v1.CloudBillingClient:
    """Cloud Billing API: billing accounts and the projects linked to them."""
    from google.cloud import billing_v1

    return billing_v1.CloudBillingClient(transport="rest", credentials=credentials(settings),
                                         client_options=_client_options(settings.billing_endpoint))


def catalog_client(settings: GcpSettings) -> billing_v1.CloudCatalogClient:
    """Cloud Billing Catalog API: services and their SKUs with list prices."""
    from google.cloud import billing_v1

    return billing_v1.CloudCatalogClient(transport="rest", credentials=credentials(settings),
                                         client_options=_client_options(settings.billing_endpoint))
