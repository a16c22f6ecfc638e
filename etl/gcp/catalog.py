"""The pricing catalog of the Cloud Billing API: services, their SKUs, categories and tiered list prices.

:func:`fetch` lists the services (one or two pages), keeps those of ``gcp.catalog_services`` (display names or
service IDs, ``*`` for all: Google has thousands of services, and only compute matters for the GPU/TPU/CPU
classification) whose last successful refresh is at least :data:`MAX_AGE` old, and lists their SKUs in
``gcp.catalog_currency``. It runs before the writer lock. :func:`store` replaces each fetched service's SKUs
(``gcp_sku_catalog``) and tiers (``gcp_sku_tiers``) in one transaction with its ``load_log`` row (kind
``gcp_catalog``, source ``services/<ID>``); a service that failed keeps its previous SKUs. The demo stores a
SYNTHETIC catalog the same way (``CatalogFetch.synthetic``, etl/demo/catalog.py); the first real service stored
removes it (:func:`etl.demo.isolation.remove_synthetic`).

Prices: a SKU's latest ``pricing_info`` (by ``effective_time``); each of its
``pricing_expression.tiered_rates`` is a tier starting at ``start_usage_amount`` (in ``usage_unit``) with
``unit_price`` = units + nanos / 10^9 in the price's currency; its ``aggregation_info`` says over which usage the
tiers count (per account or project, per day or month).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from etl.demo import isolation
from etl.gcp.api import SKU_PAGE_SIZE, describe
from etl.loadlog import LoadRecord, naive_utc
from etl.loadlog import write as write_load
from etl.warehouse import WriteSession

if TYPE_CHECKING:
    from google.api_core.retry import Retry
    from google.cloud.billing_v1 import CloudCatalogClient, Sku

log = logging.getLogger(__name__)

KIND = "gcp_catalog"
MAX_AGE = timedelta(hours=24)
ALL = "*"
_SCALE = Decimal("1e-12")  # DECIMAL(38, 12), as the warehouse stores amounts
_TEXT = pa.string()
SKU_SCHEMA = pa.schema([("sku_id", _TEXT), ("service_id", _TEXT), ("service_name", _TEXT), ("description", _TEXT),
                        ("resource_family", _TEXT), ("resource_group", _TEXT), ("usage_type", _TEXT),
                        ("service_regions", pa.list_(_TEXT)), ("usage_unit", _TEXT),
                        ("usage_unit_description", _TEXT), ("currency", _TEXT), ("effective_time", pa.timestamp("us")),
                        ("aggregation_level", _TEXT), ("aggregation_interval", _TEXT)])
TIER_SCHEMA = pa.schema([("sku_id", _TEXT), ("tier", pa.int32()), ("start_usage_amount", pa.decimal128(38, 12)),
                         ("unit_price", pa.decimal128(38, 12)), ("currency", _TEXT)])


@dataclass(frozen=True)
class Service:
    service_id: str
    display_name: str

    @property
    def source(self) -> str:
        return f"services/{self.service_id}"


@dataclass
class ServiceSkus:
    """The SKUs and tiers of one service as fetched, or why the fetch failed."""

    service: Service
    skus: list[dict[str, Any]] = field(default_factory=list)
    tiers: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    started: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class CatalogFetch:
    fetched: list[ServiceSkus] = field(default_factory=list)
    fresh: list[Service] = field(default_factory=list)  # wanted, but refreshed less than MAX_AGE ago
    missing: list[str] = field(default_factory=list)  # configured services the API does not list
    error: str | None = None  # listing the services failed
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    synthetic: bool = False  # made up by the demo (load_log.synthetic), not Google's catalog


def last_refreshed(con: duckdb.DuckDBPyConnection) -> dict[str, datetime]:
    """The last successful refresh (UTC, naive) of each service source, from ``load_log``."""
    rows = con.execute("SELECT source, max(finished_at) FROM load_log WHERE kind = ? AND status <> 'failed' "
                       "AND NOT synthetic GROUP BY source", [KIND]).fetchall()
    return dict(rows)


def fetch(client: CloudCatalogClient, wanted: Sequence[str], currency: str, retry: Retry, *,
          refreshed: dict[str, datetime], now: datetime, force: bool = False) -> CatalogFetch:
    """List the services, pick the wanted ones that are due (all with ``force``) and list their SKUs."""
    result = CatalogFetch()
    try:
        services = [Service(s.service_id, s.display_name)
                    for s in client.list_services(request={"page_size": SKU_PAGE_SIZE}, retry=retry)]
    except Exception as exc:
        result.error = f"listing the Cloud Billing catalog's services failed: {describe(exc)}"
        log.error("%s", result.error)
        return result
    chosen, result.missing = choose(services, wanted)
    cutoff = naive_utc(now - MAX_AGE)
    for service in chosen:
        last = refreshed.get(service.source)
        if not force and last is not None and last > cutoff:
            result.fresh.append(service)
        else:
            result.fetched.append(_skus(client, service, currency, retry))
    log.info("Cloud Billing catalog: %d services listed, %d wanted, %d fetched, %d refreshed within %s",
             len(services), len(chosen), len(result.fetched), len(result.fresh), MAX_AGE)
    return result


def choose(services: Iterable[Service], wanted: Sequence[str]) -> tuple[list[Service], list[str]]:
    """The services named (display name, case-insensitive, or service ID) in ``wanted``, and the names not found."""
    services = list(services)
    if ALL in wanted:
        return services, []
    keys = {name.lower() for name in wanted}
    chosen = [s for s in services if s.display_name.lower() in keys or s.service_id.lower() in keys]
    found = {s.display_name.lower() for s in chosen} | {s.service_id.lower() for s in chosen}
    return chosen, [name for name in wanted if name.lower() not in found]


def _skus(client: CloudCatalogClient, service: Service, currency: str, retry: Retry) -> ServiceSkus:
    got = ServiceSkus(service)
    try:
        pages = client.list_skus(request={"parent": service.source, "currency_code": currency,
                                          "page_size": SKU_PAGE_SIZE}, retry=retry)
        for sku in pages:
            row, tiers = sku_rows(sku, service)
            got.skus.append(row)
            got.tiers += tiers
        log.info("catalog %s (%s): %d SKUs, %d price tiers", service.display_name, service.service_id,
                 len(got.skus), len(got.tiers))
    except Exception as exc:  # this service fails; the others are still fetched
        got.error = f"{service.display_name} ({service.service_id}): listing its SKUs failed: {describe(exc)}"
        log.error("%s", got.error)
    return got


def sku_rows(sku: Sku, service: Service) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A SKU as a ``gcp_sku_catalog`` row and its ``gcp_sku_tiers`` rows (its latest pricing info's tiers)."""
    pricing = max(sku.pricing_info, key=lambda p: p.effective_time, default=None)
    expression = pricing.pricing_expression if pricing is not None else None
    tiers = []
    for index, rate in enumerate(expression.tiered_rates if expression is not None else []):
        price = rate.unit_price
        start = Decimal(repr(rate.start_usage_amount)).quantize(_SCALE)
        tiers.append({"sku_id": sku.sku_id, "tier": index, "start_usage_amount": start,
                      "unit_price": Decimal(price.units) + Decimal(price.nanos).scaleb(-9),
                      "currency": price.currency_code})
    row = {"sku_id": sku.sku_id, "service_id": service.service_id, "service_name": service.display_name,
           "description": sku.description, "resource_family": sku.category.resource_family or None,
           "resource_group": sku.category.resource_group or None, "usage_type": sku.category.usage_type or None,
           "service_regions": list(sku.service_regions),
           "usage_unit": expression.usage_unit if expression is not None else None,
           "usage_unit_description": expression.usage_unit_description if expression is not None else None,
           "currency": tiers[0]["currency"] if tiers else None,
           "effective_time": naive_utc(pricing.effective_time) if pricing is not None else None,
           "aggregation_level": _enum_name(pricing.aggregation_info.aggregation_level) if pricing else None,
           "aggregation_interval": _enum_name(pricing.aggregation_info.aggregation_interval) if pricing else None}
    return row, tiers


def _enum_name(value: Enum) -> str | None:
    """``ACCOUNT``, ``PROJECT``, ``DAILY``, ``MONTHLY``; None when Google leaves it unspecified."""
    return None if value.value == 0 else value.name


def store(session: WriteSession, fetched: CatalogFetch) -> list[LoadRecord]:
    """Replace each fetched service's SKUs and tiers, one transaction and load_log row per service; a failed
    listing of the services is one failed row (source ``services``)."""
    if fetched.error:
        record = LoadRecord(KIND, "services", format="cloudbilling", error=fetched.error, started=fetched.started)
        with session.transaction() as con:
            write_load(con, record)
        return [record]
    return [_store_service(session, got, fetched.synthetic) for got in fetched.fetched]


def _store_service(session: WriteSession, got: ServiceSkus, synthetic: bool) -> LoadRecord:
    record = LoadRecord(KIND, got.service.source, format="cloudbilling", subject=got.service.display_name,
                        started=got.started, synthetic=synthetic)
    with session.transaction() as con:
        if got.error:
            record.error = got.error
        else:
            removed = None if synthetic else isolation.remove_synthetic(con, KIND)
            con.execute("DELETE FROM gcp_sku_tiers WHERE sku_id IN "
                        "(SELECT sku_id FROM gcp_sku_catalog WHERE service_id = ?)", [got.service.service_id])
            con.execute("DELETE FROM gcp_sku_catalog WHERE service_id = ?", [got.service.service_id])
            skus = pa.Table.from_pylist(got.skus, schema=SKU_SCHEMA)  # noqa: F841 (read by name in the SQL)
            tiers = pa.Table.from_pylist(got.tiers, schema=TIER_SCHEMA)  # noqa: F841
            now = naive_utc(datetime.now(UTC))
            con.execute("INSERT INTO gcp_sku_catalog SELECT *, ? FROM skus", [now])
            con.execute("INSERT INTO gcp_sku_tiers SELECT * FROM tiers")
            record.status, record.rows = "loaded", len(got.skus)
            record.message = "; ".join(filter(None, [f"{len(got.skus)} SKUs, {len(got.tiers)} price tiers",
                                                     removed]))
        write_load(con, record)
    return record
