"""The demo's SYNTHETIC Google Cloud pricing catalog (etl/demo/catalog.py): it classifies the demo's Google compute
exactly as a real catalog would, is listed as synthetic, and goes when real billing data or a real catalog comes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dashboard.queries import compute
from dashboard.queries.reader import Reader
from etl import pipelines
from etl.config import load_config
from tests.conftest import FIXTURES
from tests.gcp.billing_api import service, sku
from tests.gcp.standin import StandIn
from tests.gcp.test_billing_api import COMPUTE, TPU, V5E, api, config_for, refreshed

pytestmark = pytest.mark.slow  # a demo build or real processes each: run first (tests/conftest.py)

DEMO_SKUS = [("Cloud TPU", "TPU v5p chip hours", "Compute", "TPU", "TPU"),
             ("Compute Engine", "Nvidia H100 80GB GPU running in Americas", "Compute", "GPU", "GPU"),
             ("Cloud Storage", "Standard Storage US Multi-region", "Storage", "MultiRegionalStorage", "Other compute"),
             ("BigQuery", "Analysis", "ApplicationServices", "Bigquery", "Other compute"),
             ("Networking", "Network Internet Egress from Americas to Americas", "Network", "PremiumInternetEgress",
              "Other compute")]


def test_the_demo_catalog_holds_exactly_its_google_skus_marked_synthetic(demo_billing, db_path, query):
    assert [(r.kind, r.subject, r.status, r.rows, r.synthetic) for r in demo_billing.catalog] == [
        ("gcp_catalog", name, "loaded", 1, True) for name in dict.fromkeys(s[0] for s in DEMO_SKUS)]
    # the export's own SKU IDs, one catalog row each, with the category the Cloud Catalog API gives
    assert query("SELECT c.service_name, c.description, c.resource_family, c.resource_group, k.compute_class "
                 "FROM gcp_sku_catalog c JOIN gcp_sku_compute_class k USING (sku_id) "
                 "JOIN (SELECT DISTINCT SkuId, ChargeDescription FROM cost_line "
                 "      WHERE ServiceProviderName = 'Google Cloud') l ON l.SkuId = c.sku_id "
                 "     AND l.ChargeDescription = c.description ORDER BY ALL") == sorted(DEMO_SKUS)
    # one tier at the export's list price (cost_at_list = 1.18 x cost; cost / quantity = the unit price)
    assert query("SELECT c.description, t.unit_price, t.currency FROM gcp_sku_tiers t JOIN gcp_sku_catalog c "
                 "USING (sku_id) WHERE c.resource_group IN ('GPU', 'TPU') ORDER BY 1") == [
        ("Nvidia H100 80GB GPU running in Americas", Decimal("11.564"), "USD"),
        ("TPU v5p chip hours", Decimal("4.956"), "USD")]
    assert query("SELECT subject, rows FROM synthetic_data WHERE kind = 'gcp_catalog' ORDER BY 1") == sorted(
        (name, 1) for name in dict.fromkeys(s[0] for s in DEMO_SKUS))
    assert compute.synthetic_catalog(Reader(db_path))  # the Overview's AI compute section says so


def test_the_demo_shows_google_gpu_and_tpu_reconciled_to_the_cent(demo_billing, query):
    """The demo's Google SKUs have no CPU line (generator.SERVICES): its classes are GPU and TPU only."""
    classes = query("SELECT compute_class, sum(billed_cost), sum(effective_cost), sum(rows) FROM daily_compute_class "
                    "WHERE provider = 'Google Cloud' GROUP BY 1 ORDER BY 1")
    rows = query("SELECT CASE WHEN ServiceName = 'Cloud TPU' THEN 'TPU' ELSE 'GPU' END, sum(BilledCost), "
                 "sum(EffectiveCost), count(*) FROM cost_line WHERE ServiceProviderName = 'Google Cloud' "
                 "AND ChargeDescription IN ('TPU v5p chip hours', 'Nvidia H100 80GB GPU running in Americas') "
                 "GROUP BY 1 ORDER BY 1")
    assert [c[0] for c in classes] == ["GPU", "TPU"]
    assert all(billed > 1000 for _, billed, _, _ in classes)
    assert [(c, round(b, 2), round(e, 2), n) for c, b, e, n in classes] == [
        (c, round(b, 2), round(e, 2), n) for c, b, e, n in rows]
    # per day too: the rollup is the cost rows, not an estimate
    assert query("SELECT count(*) FROM (SELECT date, sum(billed_cost) AS b FROM daily_compute_class "
                 "WHERE provider = 'Google Cloud' GROUP BY 1) d FULL JOIN (SELECT ChargePeriodStart::DATE AS date, "
                 "sum(BilledCost) AS b FROM cost_line WHERE ServiceProviderName = 'Google Cloud' "
                 "AND ServiceName IN ('Cloud TPU', 'Compute Engine') GROUP BY 1) c USING (date) "
                 "WHERE d.b IS DISTINCT FROM c.b") == [(0,)]
    assert query("SELECT count(*) FROM daily_compute_class WHERE provider = 'Google Cloud' "
                 "AND compute_class = 'Unclassified'") == [(0,)]


def test_a_rebuilt_demo_replaces_its_catalog(demo_billing, db_path, warehouse, tmp_path, query):
    config = load_config(None, environ={"SPENDSCOPE_DB": str(db_path)})
    with warehouse.write("demo again") as session:
        pipelines.build_demo(config, session, tmp_path / "exports", rows=600, seed=7, market=False)
    assert query("SELECT count(*), count(DISTINCT sku_id) FROM gcp_sku_catalog") == [(5, 5)]
    assert query("SELECT count(*) FROM gcp_sku_tiers") == [(5,)]
    assert query("SELECT sum(rows) FROM synthetic_data WHERE kind = 'gcp_catalog'") == [(5,)]


def test_real_billing_removes_the_demo_catalog_with_the_demo(demo_billing, cli, query):
    billing = cli("billing", "load", str(FIXTURES / "billing" / "focus" / "focus_1_2_two_providers.csv"))
    assert billing.code == 0, billing.err
    assert "removed the demo's SYNTHETIC Google Cloud pricing catalog: BigQuery 1 rows" in billing.err
    assert query("SELECT count(*) FROM gcp_sku_catalog") == [(0,)]
    assert query("SELECT count(*) FROM gcp_sku_tiers") == [(0,)]
    assert query("SELECT count(*) FROM synthetic_data") == [(0,)]
    assert query("SELECT count(*) FROM daily_compute_class WHERE provider = 'Google Cloud'") == [(0,)]


def test_a_real_catalog_refresh_replaces_the_demo_catalog(demo_billing, tmp_path, db_path, warehouse, query):
    with StandIn() as standin:
        api().install(standin)
        _, outcome = refreshed(config_for(tmp_path, db_path, standin.endpoint), warehouse, accounts=False)
    assert not outcome.failed and all(not r.synthetic for r in outcome.records)
    assert query("SELECT DISTINCT service_id FROM gcp_sku_catalog ORDER BY 1") == [(COMPUTE,), (TPU,)]
    assert query("SELECT count(*) FROM gcp_sku_tiers WHERE sku_id NOT IN (SELECT sku_id FROM gcp_sku_catalog)"
                 ) == [(0,)]
    assert query("SELECT count(*) FROM synthetic_data WHERE kind = 'gcp_catalog'") == [(0,)]
    assert not compute.synthetic_catalog(Reader(db_path))
    [(message,)] = query(f"SELECT message FROM load_log WHERE source = 'services/{COMPUTE}'")
    assert message.startswith("4 SKUs, 6 price tiers; removed the demo's SYNTHETIC Google Cloud pricing catalog: ")
    # the demo's SKU IDs are not Google's: its GPU rows (Compute) are now honestly Unclassified
    assert query("SELECT DISTINCT compute_class FROM daily_compute_class WHERE provider = 'Google Cloud'") == [
        ("Unclassified",)]


def test_a_real_refresh_is_not_skipped_for_a_synthetic_service_of_the_same_id(demo_billing, tmp_path, db_path,
                                                                               warehouse, query):
    """Were a real service's ID the demo's, the synthetic load would not count as a refresh within 24 h."""
    [(demo_tpu,)] = query("SELECT service_id FROM gcp_sku_catalog WHERE service_name = 'Cloud TPU'")
    catalog = api()
    catalog.services = [service(demo_tpu, "Cloud TPU")]
    catalog.skus = {demo_tpu: [sku(demo_tpu, "Cloud TPU", V5E, "TPU v5e", "Compute", "TPU", [(0, "1.2")])]}
    with StandIn() as standin:
        catalog.install(standin)
        refreshed(config_for(tmp_path, db_path, standin.endpoint), warehouse, accounts=False)
        assert len(standin.sent("GET", rf"/v1/services/{demo_tpu}/skus")) == 1
    assert query("SELECT sku_id, description FROM gcp_sku_catalog") == [(V5E, "TPU v5e")]
