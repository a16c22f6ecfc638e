"""A SYNTHETIC Cloud Billing pricing catalog for exactly the SKUs of the demo's Google Cloud exports.

Without a catalog every Google compute row of the demo is 'Unclassified' (the catalog decides Google's compute
classes), so the demo stores a made-up one, shaped as the Cloud Catalog API shapes SKUs (resource family, group,
usage type, regions, pricing unit, one tier at the export's list price: the demo's ``cost_at_list`` is 1.18 × the
cost), through the store path of ``python -m etl gcp catalog`` (:func:`etl.gcp.refresh.store`: the SKUs, then the
compute classes of every Google row recomputed). Its loads are marked ``load_log.synthetic``, so the views
``synthetic_loads``/``synthetic_data`` list it, a real catalog refresh is never skipped because of it, and the first
real catalog or billing load removes it (etl/demo/isolation.py). Service and SKU IDs are the export's own
(:func:`google_id`), never Google's.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from decimal import Decimal

from etl.demo.generator import SERVICES, START
from etl.gcp.catalog import CatalogFetch, Service, ServiceSkus

log = logging.getLogger(__name__)

LIST_MARKUP = Decimal("1.18")  # the demo export's cost_at_list / cost
# Per demo SKU description: (resource family, resource group, usage type, regions, usage unit, its description)
CATEGORY: dict[str, tuple[str, str, str, list[str], str, str]] = {
    "TPU v5p chip hours": ("Compute", "TPU", "OnDemand", ["us-central1"], "h", "hour"),
    "Nvidia H100 80GB GPU running in Americas": ("Compute", "GPU", "OnDemand", ["us-central1", "us-east1"], "h",
                                                 "hour"),
    "Standard Storage US Multi-region": ("Storage", "MultiRegionalStorage", "OnDemand", ["us"], "GiBy.mo",
                                         "gibibyte month"),
    "Analysis": ("ApplicationServices", "Bigquery", "OnDemand", ["us"], "TiBy", "tebibyte"),
    "Network Internet Egress from Americas to Americas": ("Network", "PremiumInternetEgress", "OnDemand",
                                                          ["us-central1"], "GiBy", "gibibyte"),
}


def google_id(text: str) -> str:
    """The demo export's ID of a service or SKU: ``XXXX-XXXX-XXXX`` from the MD5 of its description (as
    ``generator.google_cloud_export`` computes it in SQL)."""
    digest = hashlib.md5(text.encode()).hexdigest().upper()
    return f"{digest[0:4]}-{digest[4:8]}-{digest[8:12]}"


def synthetic_catalog() -> CatalogFetch:
    """The demo's Google services and SKUs as a catalog fetch, marked synthetic."""
    services: dict[str, ServiceSkus] = {}
    for provider, service_name, description, _unit, unit_price, _share, _ai in SERVICES:
        if provider != "Google Cloud":
            continue
        service = Service(google_id(service_name), service_name)
        got = services.setdefault(service_name, ServiceSkus(service))
        family, group, usage_type, regions, unit, unit_description = CATEGORY[description]
        sku_id = google_id(description)
        got.skus.append({"sku_id": sku_id, "service_id": service.service_id, "service_name": service_name,
                         "description": description, "resource_family": family, "resource_group": group,
                         "usage_type": usage_type, "service_regions": regions, "usage_unit": unit,
                         "usage_unit_description": unit_description, "currency": "USD",
                         "effective_time": datetime.combine(START, datetime.min.time()),
                         "aggregation_level": "ACCOUNT", "aggregation_interval": "MONTHLY"})
        got.tiers.append({"sku_id": sku_id, "tier": 0, "start_usage_amount": Decimal(0),
                          "unit_price": (Decimal(str(unit_price)) * LIST_MARKUP).quantize(Decimal("1e-9")),
                          "currency": "USD"})
    log.info("synthetic pricing catalog: %d SKUs of %d Google Cloud services", sum(len(s.skus) for s in
             services.values()), len(services))
    return CatalogFetch(fetched=list(services.values()), synthetic=True)
