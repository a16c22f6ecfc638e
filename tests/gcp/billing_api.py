"""Route helpers for the stand-in (tests/gcp/standin.py): the Cloud Billing API's list methods as its REST
reference documents them (``GET /v1/billingAccounts``, ``GET /v1/billingAccounts/{id}/projects``,
``GET /v1/services``, ``GET /v1/services/{id}/skus``): camelCase JSON, pages of at most ``pageSize`` (and of at
most ``page_cap`` here, so a small fixture has several pages) linked by ``nextPageToken``."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from etl.gcp.catalog import CatalogFetch, Service, ServiceSkus, sku_rows
from tests.gcp.standin import Request, StandIn


@dataclass
class CloudBillingApi:
    accounts: list[dict[str, Any]] = field(default_factory=list)
    projects: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by account ID
    services: list[dict[str, Any]] = field(default_factory=list)
    skus: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by service ID
    page_cap: int = 2

    def install(self, standin: StandIn) -> None:
        standin.route("GET", r"/v1/billingAccounts", lambda req, m: self._page(req, "billingAccounts", self.accounts))
        standin.route("GET", r"/v1/billingAccounts/([^/]+)/projects",
                      lambda req, m: self._known(req, "projectBillingInfo", self.projects, m, "billingAccounts"))
        standin.route("GET", r"/v1/services", lambda req, m: self._page(req, "services", self.services))
        standin.route("GET", r"/v1/services/([^/]+)/skus",
                      lambda req, m: self._known(req, "skus", self.skus, m, "services"))

    def _known(self, request: Request, key: str, items: dict[str, list[dict[str, Any]]], match: re.Match[str],
               parent: str) -> tuple[int, Any]:
        if match.group(1) not in items:
            return 404, {"error": {"code": 404, "message": f"{parent}/{match.group(1)} not found",
                                   "status": "NOT_FOUND"}}
        return self._page(request, key, items[match.group(1)])

    def _page(self, request: Request, key: str, items: list[dict[str, Any]]) -> tuple[int, Any]:
        start = int(request.param("pageToken") or 0)
        size = min(int(request.param("pageSize") or self.page_cap), self.page_cap)
        body: dict[str, Any] = {key: items[start:start + size]}
        if start + size < len(items):
            body["nextPageToken"] = str(start + size)
        return 200, body


def account(account_id: str, name: str) -> dict[str, Any]:
    return {"name": f"billingAccounts/{account_id}", "open": True, "displayName": name, "masterBillingAccount": ""}


def project(project_id: str, account_id: str) -> dict[str, Any]:
    return {"name": f"projects/{project_id}/billingInfo", "projectId": project_id,
            "billingAccountName": f"billingAccounts/{account_id}", "billingEnabled": True}


def service(service_id: str, name: str) -> dict[str, Any]:
    return {"name": f"services/{service_id}", "serviceId": service_id, "displayName": name,
            "businessEntityName": "businessEntities/GCP"}


def sku(service_id: str, service_name: str, sku_id: str, description: str, family: str, group: str,
        tiers: list[tuple[float, str]], *, unit: str = "h", currency: str = "USD",
        usage_type: str = "OnDemand", aggregation: tuple[str, str] = ("ACCOUNT", "MONTHLY")) -> dict[str, Any]:
    """A SKU with one pricing info whose tiers are (startUsageAmount, unit price as a decimal text)."""
    rates = []
    for start, price in tiers:
        units, _, fraction = price.partition(".")
        rates.append({"startUsageAmount": start,
                      "unitPrice": {"currencyCode": currency, "units": units, "nanos": int((fraction + "0" * 9)[:9])}})
    return {
        "name": f"services/{service_id}/skus/{sku_id}", "skuId": sku_id, "description": description,
        "category": {"serviceDisplayName": service_name, "resourceFamily": family, "resourceGroup": group,
                     "usageType": usage_type},
        "serviceRegions": ["us-central1", "us-east1"],
        "pricingInfo": [{"effectiveTime": "2026-11-30T08:00:00Z", "summary": "",
                         "pricingExpression": {"usageUnit": unit, "usageUnitDescription": "hour", "baseUnit": "s",
                                               "baseUnitDescription": "second", "baseUnitConversionFactor": 3600,
                                               "displayQuantity": 1, "tieredRates": rates},
                         "aggregationInfo": {"aggregationLevel": aggregation[0],
                                             "aggregationInterval": aggregation[1], "aggregationCount": 1},
                         "currencyConversionRate": 1}],
        "serviceProviderName": "Google",
    }


def catalog_fetch(service_id: str, name: str, skus: list[dict[str, Any]]) -> CatalogFetch:
    """A fetch of one service's SKUs as the client would have parsed them (for fixtures that need a catalog
    without a stand-in)."""
    from google.cloud import billing_v1

    got = ServiceSkus(Service(service_id, name))
    for entry in skus:
        row, tiers = sku_rows(billing_v1.Sku.from_json(json.dumps(entry)), got.service)
        got.skus.append(row)
        got.tiers += tiers
    return CatalogFetch(fetched=[got])
