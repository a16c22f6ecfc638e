"""What the Cloud Billing commands share: their settings, the retry of Google's list calls, and error messages.

Retries: google-api-core's defaults for these REST list calls retry only 503 and deadline errors of the billing
methods (60 s), and nothing at all for the catalog's, so every call here passes :func:`list_retry`: exponential
backoff on 429, 500, 503 and deadlines, also for the later pages of a listing (the pagers re-use the retry).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from etl.config import Config

if TYPE_CHECKING:
    from google.api_core.retry import Retry

ACCOUNT_ID = re.compile(r"[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}")
PAGE_SIZE = 500  # billing accounts and projects per page (the API's maximum)
SKU_PAGE_SIZE = 5000  # services and SKUs per page (the API's maximum)


class BillingApiSettingsError(ValueError):
    """A gcp.* setting of the Cloud Billing API has a value it cannot use; the message names the setting."""


@dataclass(frozen=True)
class BillingApiSettings:
    """``gcp.billing_accounts``, ``gcp.catalog_services`` and ``gcp.catalog_currency``."""

    accounts: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    currency: str = "USD"

    @classmethod
    def from_config(cls, config: Config) -> BillingApiSettings:
        accounts = tuple(account_id(value) for value in config.get("gcp.billing_accounts"))
        currency = config.get("gcp.catalog_currency").strip().upper()
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise BillingApiSettingsError(f"gcp.catalog_currency: {currency!r} is not an ISO 4217 code such as USD")
        return cls(accounts, tuple(s.strip() for s in config.get("gcp.catalog_services") if s.strip()), currency)

    @property
    def configured(self) -> bool:
        """Whether `run` refreshes Google's accounts and catalog: only when billing accounts are configured."""
        return bool(self.accounts)


def account_id(value: str) -> str:
    """``012345-6789AB-CDEF01`` from itself or ``billingAccounts/012345-6789AB-CDEF01`` (any case)."""
    found = value.strip().removeprefix("billingAccounts/").upper()
    if not ACCOUNT_ID.fullmatch(found):
        raise BillingApiSettingsError(
            f"gcp.billing_accounts: {value!r} is not a billing account ID such as 012345-6789AB-CDEF01")
    return found


def list_retry(initial: float = 1.0, maximum: float = 30.0, timeout: float = 180.0) -> Retry:
    """Backoff from ``initial`` seconds (x2, capped at ``maximum``) on 429, 500, 503 and deadlines, for at most
    ``timeout`` seconds in all."""
    from google.api_core import exceptions
    from google.api_core.retry import Retry, if_exception_type

    return Retry(predicate=if_exception_type(exceptions.TooManyRequests, exceptions.InternalServerError,
                                             exceptions.ServiceUnavailable, exceptions.DeadlineExceeded),
                 initial=initial, maximum=maximum, multiplier=2.0, timeout=timeout)


def describe(exc: Exception) -> str:
    """An API error as ``403 PERMISSION_DENIED: message`` (retries exhausted: the last error)."""
    from google.api_core import exceptions

    if isinstance(exc, exceptions.RetryError) and exc.cause is not None:
        exc = exc.cause
    if isinstance(exc, exceptions.GoogleAPICallError):
        status = getattr(exc.grpc_status_code, "name", None) or _status_in_body(exc)
        message = _REQUEST_PREFIX.sub("", exc.message or "")  # the REST transport prefixes "GET <url>: "
        return " ".join(part for part in (str(exc.code or ""), status) if part) + f": {message}"
    return f"{type(exc).__name__}: {exc}"


_REQUEST_PREFIX = re.compile(r"^[A-Z]+ \S+: ")


def _status_in_body(exc: Exception) -> str:
    """``PERMISSION_DENIED`` from Google's JSON error envelope of a REST response, when there is one."""
    try:
        return str(exc.response.json()["error"]["status"])  # type: ignore[attr-defined]
    except Exception:  # no response, not JSON, or no status: the HTTP code alone says enough
        return ""


def is_not_visible(exc: Exception) -> bool:
    """Permission denied, unauthenticated or not found: the credentials cannot see the resource."""
    from google.api_core import exceptions

    return isinstance(exc, exceptions.PermissionDenied | exceptions.NotFound | exceptions.Unauthenticated
                      | exceptions.Forbidden | exceptions.Unauthorized)
