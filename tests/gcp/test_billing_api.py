"""The Cloud Billing API refresh (etl/gcp/) with the real google-cloud-billing clients (REST, anonymous
credentials) against the stand-in on 127.0.0.1: requests sent, rows stored in a real warehouse, retries, a
permission error, the daily skip, ListCost from list prices and the GPU/TPU/CPU classification."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from etl.config import Config, load_config
from etl.gcp import refresh
from etl.gcp.api import BillingApiSettings, list_retry
from etl.run import run
from etl.warehouse import Warehouse
from tests.gcp.billing_api import CloudBillingApi, account, project, service, sku
from tests.gcp.standin import StandIn

RESEARCH, PLATFORM, OTHER = "012345-6789AB-CDEF01", "0A1B2C-3D4E5F-6A7B8C", "FFFFFF-000000-111111"
COMPUTE, STORAGE, TPU = "6F81-5844-456A", "95FF-2EF5-5EA1", "E000-3F24-B8AA"
A100, N2, PD, V5E, EGRESS = "2E27-4F75-95CD", "BB77-5FDA-69D9", "D973-5D65-BAB2", "C1A5-7C62-9AC5", "9DE9-9092-B3BC"
FAST = list_retry(initial=0.01, maximum=0.05, timeout=20)
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
REGIONS = ["us-central1", "us-east1"]
EFFECTIVE = datetime(2026, 11, 30, 8)  # the pricing's effectiveTime, stored as naive UTC


def api() -> CloudBillingApi:
    return CloudBillingApi(
        accounts=[account(RESEARCH, "Research"), account(PLATFORM, "Platform"), account(OTHER, "Other")],
        projects={RESEARCH: [project(p, RESEARCH) for p in ("ml-train", "ml-serve", "notebooks")],
                  PLATFORM: [project("web-prod", PLATFORM)]},
        services=[service(COMPUTE, "Compute Engine"), service(STORAGE, "Cloud Storage"), service(TPU, "Cloud TPU")],
        skus={COMPUTE: [sku(COMPUTE, "Compute Engine", A100, "Nvidia Tesla A100 GPU running in Americas", "Compute",
                            "GPU", [(0, "2.933908")]),
                        sku(COMPUTE, "Compute Engine", N2, "N2 Instance Core running in Americas", "Compute",
                            "N2Standard", [(0, "0.031611")]),
                        sku(COMPUTE, "Compute Engine", PD, "Storage PD Capacity", "Storage", "PDStandard",
                            [(0, "0"), (10, "0.04")], unit="GiBy.mo"),
                        sku(COMPUTE, "Compute Engine", EGRESS, "Network Internet Egress from Americas to Americas",
                            "Network", "PremiumInternetEgress", [(0, "0"), (5, "0.1")], unit="GiBy",
                            aggregation=("ACCOUNT", "DAILY"))],
              TPU: [sku(TPU, "Cloud TPU", V5E, "TPU v5e", "Compute", "TPU", [(0, "1.2")])],
              STORAGE: []},
    )


def config_for(tmp_path: Path, db: Path, endpoint: str, accounts: tuple[str, ...] = (RESEARCH, PLATFORM)) -> Config:
    path = tmp_path / "config.toml"
    path.write_text(f'db = "{db}"\n[gcp]\ncredentials = "anonymous"\nbilling_endpoint = "{endpoint}"\n'
                    f"billing_accounts = {json.dumps(list(accounts))}\n"
                    'catalog_services = ["Compute Engine", "Cloud TPU", "Kubernetes Engine"]\n')
    return load_config(path)


def refreshed(config: Config, warehouse: Warehouse, *, accounts: bool = True, catalog: bool = True,
              force: bool = False, now: datetime = NOW) -> tuple[refresh.Download, refresh.Outcome]:
    got = refresh.download(config, BillingApiSettings.from_config(config), now=now, with_accounts=accounts,
                           with_catalog=catalog, force=force, retry=FAST)
    with warehouse.write("test") as session:
        return got, refresh.store(session, got)


def test_accounts_and_projects_follow_the_pages_into_the_warehouse(tmp_path, db_path, warehouse, query):
    with StandIn() as standin:
        api().install(standin)
        got, outcome = refreshed(config_for(tmp_path, db_path, standin.endpoint), warehouse, catalog=False)
        listing = standin.sent("GET", r"/v1/billingAccounts")
        research = standin.sent("GET", rf"/v1/billingAccounts/{RESEARCH}/projects")
    assert [(r.param("pageSize"), r.param("pageToken")) for r in listing] == [("500", None), ("500", "2")]
    assert [r.param("pageToken") for r in research] == [None, "2"]
    assert query("SELECT * EXCLUDE (refreshed_at) FROM gcp_billing_accounts ORDER BY 1") == [
        ("012345-6789AB-CDEF01", "Research", True, None), ("0A1B2C-3D4E5F-6A7B8C", "Platform", True, None),
        ("FFFFFF-000000-111111", "Other", True, None)]
    assert query("SELECT billing_account_id, project_id, billing_enabled FROM gcp_projects ORDER BY 1, 2") == [
        (RESEARCH, "ml-serve", True), (RESEARCH, "ml-train", True), (RESEARCH, "notebooks", True),
        (PLATFORM, "web-prod", True)]
    assert query("SELECT kind, source, status, rows, message FROM load_log ORDER BY load_id") == [
        ("gcp_accounts", "billingAccounts", "loaded", 3, "3 billing accounts visible"),
        ("gcp_account", f"billingAccounts/{RESEARCH}", "loaded", 3, "Research: 3 projects"),
        ("gcp_account", f"billingAccounts/{PLATFORM}", "loaded", 1, "Platform: 1 projects")]
    assert not outcome.failed and refresh.summary(got, outcome) == "2 of 2 billing accounts visible"


def test_an_account_the_credentials_cannot_see_is_named_and_the_others_still_refresh(tmp_path, db_path, warehouse,
                                                                                     query, cli):
    with StandIn() as standin:
        api().install(standin)
        standin.fail("GET", rf"/v1/billingAccounts/{RESEARCH}/projects", 403,
                     "The caller does not have permission", reason="forbidden")
        config = config_for(tmp_path, db_path, standin.endpoint)
        _, outcome = refreshed(config, warehouse, catalog=False)
    [failed] = outcome.failed
    assert failed.source == f"billingAccounts/{RESEARCH}"
    assert failed.error == (f"billing account {RESEARCH} is not visible with the configured credentials (403 "
                            "PERMISSION_DENIED: The caller does not have permission); grant them Billing Account "
                            "Viewer (roles/billing.viewer) on it, or remove it from gcp.billing_accounts")
    assert query("SELECT billing_account_id, project_id FROM gcp_projects") == [(PLATFORM, "web-prod")]
    assert query("SELECT billing_account_id, visible, projects FROM gcp_account_checks ORDER BY 1") == [
        (RESEARCH, False, None), (PLATFORM, True, 1)]

    result = cli("--config", str(tmp_path / "config.toml"), "status", "--json")
    report = json.loads(result.out)
    assert result.code == 1 and report["ok"] is False
    assert [f["source"] for f in report["open_failures"]] == [f"billingAccounts/{RESEARCH}"]
    by_account = {a["account"]: a for a in report["gcp_billing_accounts"]}
    assert by_account[RESEARCH]["visible"] is False and RESEARCH in by_account[RESEARCH]["error"]
    assert by_account[PLATFORM] | {"checked_at": None} == {
        "account": PLATFORM, "name": "Platform", "visible": True, "projects": 1, "error": None, "checked_at": None}


def test_the_catalog_of_the_configured_services_with_tiers_and_classes(tmp_path, db_path, warehouse, query):
    with StandIn() as standin:
        api().install(standin)
        got, outcome = refreshed(config_for(tmp_path, db_path, standin.endpoint), warehouse, accounts=False)
        services = standin.sent("GET", r"/v1/services")
        compute = standin.sent("GET", rf"/v1/services/{COMPUTE}/skus")
        assert standin.sent("GET", rf"/v1/services/{STORAGE}/skus") == []  # not configured
    assert [r.param("pageToken") for r in services] == [None, "2"]
    assert [(r.param("pageSize"), r.param("currencyCode"), r.param("pageToken")) for r in compute] == [
        ("5000", "USD", None), ("5000", "USD", "2")]
    assert got.catalog.missing == ["Kubernetes Engine"]
    assert query("SELECT sku_id, service_name, resource_family, resource_group, usage_unit, currency, "
                 "service_regions, aggregation_interval, effective_time FROM gcp_sku_catalog ORDER BY 1") == [
        (A100, "Compute Engine", "Compute", "GPU", "h", "USD", REGIONS, "MONTHLY", EFFECTIVE),
        (EGRESS, "Compute Engine", "Network", "PremiumInternetEgress", "GiBy", "USD", REGIONS, "DAILY", EFFECTIVE),
        (N2, "Compute Engine", "Compute", "N2Standard", "h", "USD", REGIONS, "MONTHLY", EFFECTIVE),
        (V5E, "Cloud TPU", "Compute", "TPU", "h", "USD", REGIONS, "MONTHLY", EFFECTIVE),
        (PD, "Compute Engine", "Storage", "PDStandard", "GiBy.mo", "USD", REGIONS, "MONTHLY", EFFECTIVE)]
    assert query("SELECT sku_id, tier, start_usage_amount, unit_price FROM gcp_sku_tiers ORDER BY 1, 2") == [
        (A100, 0, Decimal(0), Decimal("2.933908")), (EGRESS, 0, Decimal(0), Decimal(0)),
        (EGRESS, 1, Decimal(5), Decimal("0.1")), (N2, 0, Decimal(0), Decimal("0.031611")),
        (V5E, 0, Decimal(0), Decimal("1.2")), (PD, 0, Decimal(0), Decimal(0)), (PD, 1, Decimal(10), Decimal("0.04"))]
    assert query("SELECT description, compute_class FROM gcp_compute_class ORDER BY 1") == [
        ("N2 Instance Core running in Americas", "CPU"), ("Nvidia Tesla A100 GPU running in Americas", "GPU"),
        ("TPU v5e", "TPU")]
    assert query("SELECT source, status, rows, message FROM load_log ORDER BY load_id") == [
        (f"services/{COMPUTE}", "loaded", 4, "4 SKUs, 6 price tiers"), (f"services/{TPU}", "loaded", 1,
                                                                         "1 SKUs, 1 price tiers")]
    assert not outcome.failed


def test_429_then_503_are_retried_until_the_listing_succeeds(tmp_path, db_path, warehouse, query):
    with StandIn() as standin:
        api().install(standin)
        standin.fail("GET", r"/v1/services", 429, "Quota exceeded")
        standin.fail("GET", r"/v1/services", 503, "The service is currently unavailable")
        standin.fail("GET", rf"/v1/services/{TPU}/skus", 503, "backend unavailable")
        _, outcome = refreshed(config_for(tmp_path, db_path, standin.endpoint), warehouse, accounts=False)
        assert [r.param("pageToken") for r in standin.sent("GET", r"/v1/services")] == [None, None, None, "2"]
        assert len(standin.sent("GET", rf"/v1/services/{TPU}/skus")) == 2
    assert not outcome.failed
    assert query("SELECT count(*) FROM gcp_sku_catalog") == [(5,)]


def test_the_catalog_is_refreshed_at_most_daily_unless_forced(tmp_path, db_path, warehouse, query):
    with StandIn() as standin:
        api().install(standin)
        config = config_for(tmp_path, db_path, standin.endpoint)
        refreshed(config, warehouse, accounts=False, now=datetime.now(UTC))
        got, outcome = refreshed(config, warehouse, accounts=False, now=datetime.now(UTC) + timedelta(hours=23))
        assert len(standin.sent("GET", r"/v1/services/.+/skus")) == 3  # only the first refresh's pages
        assert [s.display_name for s in got.catalog.fresh] == ["Compute Engine", "Cloud TPU"]
        assert outcome.records == []
        assert "2 refreshed less than 24 h ago (--force refreshes them)" in refresh.summary(got, outcome)
        refreshed(config, warehouse, accounts=False, now=datetime.now(UTC) + timedelta(hours=25))
        assert len(standin.sent("GET", r"/v1/services/.+/skus")) == 6
        refreshed(config, warehouse, accounts=False, force=True, now=datetime.now(UTC) + timedelta(hours=25))
        assert len(standin.sent("GET", r"/v1/services/.+/skus")) == 9
    assert query("SELECT count(*) FROM load_log WHERE kind = 'gcp_catalog' AND status = 'loaded'") == [(6,)]


def _export_row(sku_id: str, description: str, amount: str, cost: str, currency: str = "USD", *,
                day: int = 10, cost_at_list: str | None = None, account_id: str = RESEARCH) -> dict:
    row = {"billing_account_id": account_id, "service": {"id": COMPUTE, "description": "Compute Engine"},
           "sku": {"id": sku_id, "description": description},
           "usage_start_time": f"2026-11-{day:02d} 00:00:00 UTC", "usage_end_time": f"2026-11-{day:02d} 01:00:00 UTC",
           "project": {"id": "ml-train"}, "location": {"region": "us-central1"},
           "export_time": "2026-11-30 06:00:00 UTC", "cost": cost, "currency": currency,
           "usage": {"amount": amount, "unit": "seconds", "amount_in_pricing_units": amount, "pricing_unit": "hour"},
           "credits": [], "invoice": {"month": "202611"}, "cost_type": "regular"}
    if cost_at_list is not None:
        row["cost_at_list"] = cost_at_list
    return row


def test_list_cost_is_filled_from_tiered_list_prices_in_the_rows_currency(tmp_path, db_path, warehouse, query,
                                                                           load_billing):
    rows = [_export_row(A100, "Nvidia Tesla A100 GPU running in Americas", "2", "4.10"),
            _export_row(PD, "Storage PD Capacity", "6", "0", day=10),
            _export_row(PD, "Storage PD Capacity", "8", "0.14", day=11),  # 4 GiB-months in the free tier, 4 paid
            _export_row(N2, "N2 Instance Core running in Americas", "10", "0.25", cost_at_list="0.32"),
            _export_row(A100, "Nvidia Tesla A100 GPU running in Americas", "1", "2.50", "EUR",
                        account_id=PLATFORM),
            # egress tiers count per day: 4 GiB on the 10th and 4 + 3 on the 11th, of which 5 are free each day
            *(_export_row(EGRESS, "Network Internet Egress from Americas to Americas", amount, "0", day=day)
              for amount, day in (("4", 10), ("4", 11), ("3", 11)))]
    export = tmp_path / "gcp_billing_export_v1_202611.json"
    export.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    assert [r.status for r in load_billing(export)] == ["loaded"]
    assert query("SELECT x_ListCostSource, count(*) FROM cost GROUP BY 1 ORDER BY 1") == [("cost", 7), (None, 1)]
    with StandIn() as standin:
        api().install(standin)
        _, outcome = refreshed(config_for(tmp_path, db_path, standin.endpoint), warehouse)
    assert outcome.list_cost_rows == 6
    assert query("SELECT SkuId, BillingCurrency, ListCost, x_ListCostSource FROM cost ORDER BY ChargePeriodStart, "
                 "BillingCurrency, SkuId, ListCost") == [
        (A100, "EUR", Decimal("2.5"), "cost"),  # the catalog's price is in USD: never used for EUR
        (A100, "USD", Decimal("5.867816"), "catalog"),  # 2 h x 2.933908
        (EGRESS, "USD", Decimal(0), "catalog"),
        (N2, "USD", Decimal("0.32"), None),  # the export's own list cost
        (PD, "USD", Decimal(0), "catalog"),
        (EGRESS, "USD", Decimal(0), "catalog"),
        (EGRESS, "USD", Decimal("0.2"), "catalog"),  # (4 + 3 - 5) x 0.1: a new day starts at the first tier again
        (PD, "USD", Decimal("0.16"), "catalog")]  # (6 + 8 - 10) x 0.04: the month's usage counts
    assert query("SELECT currency, sum(list_cost) FROM daily_spend GROUP BY 1 ORDER BY 1") == [
        ("EUR", Decimal("2.5")), ("USD", Decimal("6.547816"))]
    # names the export lacks come from the Cloud Billing API; the project ID stands for the project's name
    assert query("SELECT DISTINCT BillingAccountId, BillingAccountName, SubAccountName FROM cost ORDER BY 1") == [
        (RESEARCH, "Research", "ml-train"), (PLATFORM, "Platform", "ml-train")]
    assert query("SELECT DISTINCT billing_account_name FROM daily_spend ORDER BY 1") == [("Platform",), ("Research",)]
    with warehouse.write("again") as session:
        assert refresh.listcost.fill(session) == 0  # nothing changed since


def test_run_has_a_gcp_step_only_when_billing_accounts_are_configured(tmp_path, db_path, warehouse, query):
    with StandIn() as standin:
        api().install(standin)
        idle = run(config_for(tmp_path, db_path, standin.endpoint, accounts=()), warehouse)
        assert standin.requests == []
        report = run(config_for(tmp_path, db_path, standin.endpoint), warehouse)
    steps = {step.name: step for step in idle.steps}
    assert steps["gcp"].status == "skipped" and steps["gcp"].reason == "no gcp.billing_accounts configured"
    [gcp] = [step for step in report.steps if step.name == "gcp"]
    assert gcp.status == "ok", gcp.reason
    assert gcp.counts.startswith("2 of 2 billing accounts visible; catalog: 2 services refreshed (5 SKUs)")
    assert query("SELECT kind, count(*) FROM load_log WHERE kind LIKE 'gcp%' GROUP BY 1 ORDER BY 1") == [
        ("gcp_account", 2), ("gcp_accounts", 1), ("gcp_catalog", 2)]


def test_a_billing_account_setting_must_be_an_account_id(tmp_path, db_path):
    from etl.gcp.api import BillingApiSettingsError

    with pytest.raises(BillingApiSettingsError, match=r"gcp\.billing_accounts: 'research'"):
        BillingApiSettings.from_config(config_for(tmp_path, db_path, "http://127.0.0.1:9", accounts=("research",)))
    assert BillingApiSettings.from_config(config_for(
        tmp_path, db_path, "http://x", accounts=("billingAccounts/012345-6789ab-cdef01",))).accounts == (RESEARCH,)


def test_the_commands_print_the_summary_and_exit_by_what_failed(tmp_path, db_path, cli):
    with StandIn() as standin:
        api().install(standin)
        standin.fail("GET", rf"/v1/billingAccounts/{PLATFORM}/projects", 404, f"billingAccounts/{PLATFORM} not found")
        config = str(config_for(tmp_path, db_path, standin.endpoint).sources["db"])
        accounts = cli("--config", config, "gcp", "accounts")
        catalog = cli("--config", config, "gcp", "catalog")
        again = cli("--config", config, "gcp", "catalog")
    assert accounts.code == 1 and accounts.out.splitlines()[-1] == "1 of 2 billing accounts visible"
    assert (f"error: billingAccounts/{PLATFORM}: billing account {PLATFORM} is not visible with the configured "
            f"credentials (404 NOT_FOUND: billingAccounts/{PLATFORM} not found)") in accounts.err
    assert catalog.code == 0 and "Compute Engine (services/6F81-5844-456A)  gcp_catalog" in catalog.out
    assert again.code == 0 and again.out == (
        "catalog: 0 services refreshed (0 SKUs); 2 refreshed less than 24 h ago (--force refreshes them); not in the "
        "catalog: Kubernetes Engine (gcp.catalog_services); ListCost from list prices on 0 rows\n")


def test_unusable_credentials_are_a_settings_error_naming_the_setting(tmp_path, db_path, cli):
    config = tmp_path / "config.toml"
    config.write_text(f'db = "{db_path}"\n[gcp]\ncredentials = "{tmp_path / "missing-key.json"}"\n')
    result = cli("--config", str(config), "gcp", "catalog")
    assert result.code == 2 and not db_path.exists()
    assert result.err == (f"configuration error: gcp.credentials: {tmp_path / 'missing-key.json'} is not a readable "
                          "service-account key file (FileNotFoundError)\n")


def test_a_catalog_refresh_reclassifies_google_compute_spend(tmp_path, db_path, warehouse, query, load_billing):
    from tests.billing.test_compute_rollup import from_cost_rows, from_rollup

    h100 = "AAAA-BBBB-H100"  # a SKU the first catalog does not list yet
    rows = [_export_row(A100, "Nvidia Tesla A100 GPU running in Americas", "2", "4.10"),
            _export_row(N2, "N2 Instance Core running in Americas", "10", "0.25"),
            _export_row(V5E, "TPU v5e", "3", "3.60"),
            _export_row(PD, "Storage PD Capacity", "6", "0.24"),
            _export_row(h100, "Nvidia H100 80GB GPU running in Americas", "1", "9.80"),
            _export_row(A100, "Nvidia Tesla A100 GPU running in Americas", "1", "2.50", "EUR", account_id=PLATFORM)]
    export = tmp_path / "gcp_billing_export_v1_202611.json"
    export.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    assert [r.status for r in load_billing(export)] == ["loaded"]
    classes = "SELECT compute_class, currency, sum(billed_cost) FROM daily_compute_class GROUP BY ALL ORDER BY ALL"
    assert query(classes) == [("Unclassified", "EUR", Decimal("2.50")), ("Unclassified", "USD", Decimal("17.99"))]

    with StandIn() as standin:
        api().install(standin)
        refreshed(config_for(tmp_path, db_path, standin.endpoint), warehouse, accounts=False)
    assert query(classes) == [("CPU", "USD", Decimal("0.25")), ("GPU", "EUR", Decimal("2.50")),
                              ("GPU", "USD", Decimal("4.10")), ("Other compute", "USD", Decimal("0.24")),
                              ("TPU", "USD", Decimal("3.60")), ("Unclassified", "USD", Decimal("9.80"))]
    assert from_rollup(query) == from_cost_rows(query)

    newer = api()
    newer.skus[COMPUTE].append(sku(COMPUTE, "Compute Engine", h100, "Nvidia H100 80GB GPU running in Americas",
                                   "Compute", "GPU", [(0, "9.80")]))
    with StandIn() as standin:
        newer.install(standin)
        refreshed(config_for(tmp_path, db_path, standin.endpoint), warehouse, accounts=False, force=True)
    assert query(classes) == [("CPU", "USD", Decimal("0.25")), ("GPU", "EUR", Decimal("2.50")),
                              ("GPU", "USD", Decimal("13.90")), ("Other compute", "USD", Decimal("0.24")),
                              ("TPU", "USD", Decimal("3.60"))]
    assert from_rollup(query) == from_cost_rows(query)
