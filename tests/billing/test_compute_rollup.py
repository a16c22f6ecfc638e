"""The compute-class rollup behind ``daily_compute_class``: its rules on the fixtures' rows, reconciled to the cent
with the cost rows after loads, a replace and the demo's removal, and backfilled by its migration on an older
warehouse. (The Google catalog's reclassification: tests/gcp/test_billing_api.py.)"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from etl.billing.base import LoadOptions
from etl.demo.generator import write_demo_exports
from etl.warehouse import Warehouse, connect_readonly
from tests.billing.test_loader import HEADER, focus_row, write
from tests.conftest import FIXTURES

BILLING = FIXTURES / "billing"
FIXTURE_DIRS = [BILLING / name for name in ("aws", "focus", "gcp", "oci")] + sorted(
    path for path in (BILLING / "azure").iterdir() if path.name != "ea_2019-10-01_no_currency.csv")  # needs --currency
GRAIN = "date, provider, billing_account_id, service_category, currency, compute_class"

# Each cost row classified on its own (no summing first), with the rules the rollup uses.
ROW_CLASSES = """
    SELECT CAST(c.ChargePeriodStart AS DATE) AS date, c.ServiceProviderName AS provider,
           c.BillingAccountId AS billing_account_id, c.ServiceCategory AS service_category,
           c.BillingCurrency AS currency, c.ServiceName, c.SkuId, c.ChargeDescription,
           ss_compute_class(c.ServiceProviderName, c.ServiceCategory, c.ServiceName, c.SkuId, c.ChargeDescription,
                            k.compute_class) AS compute_class, c.BilledCost, c.EffectiveCost, c.ListCost
    FROM cost_line c LEFT JOIN gcp_sku_compute_class k ON c.ServiceProviderName = 'Google Cloud'
                                                       AND k.sku_id = c.SkuId
"""


def from_cost_rows(query) -> list[tuple]:
    return query(f"SELECT {GRAIN}, sum(BilledCost), sum(EffectiveCost), sum(ListCost), count(*) "
                 f"FROM ({ROW_CLASSES}) WHERE compute_class IS NOT NULL GROUP BY ALL ORDER BY ALL")


def from_rollup(query) -> list[tuple]:
    return query(f"SELECT {GRAIN}, billed_cost, effective_cost, list_cost, rows FROM daily_compute_class "
                 "ORDER BY ALL")


def test_the_rules_classify_the_fixtures_rows(load_billing, query):
    records = load_billing(*FIXTURE_DIRS)
    assert all(r.status == "loaded" for r in records), [r.error for r in records]
    # one class per provider and description: the compute rows' (the same purchase may also be billed under a
    # non-compute service, e.g. Azure's Microsoft.Capacity, which has no class); NULL when no row is compute
    described = (f"SELECT provider || ': ' || coalesce(ChargeDescription, ServiceName) AS row, compute_class "
                 f"FROM ({ROW_CLASSES})")
    assert query(f"SELECT row FROM ({described}) GROUP BY row HAVING count(DISTINCT compute_class) > 1") == []
    classes = dict(query(f"SELECT row, max(compute_class) FROM ({described}) GROUP BY row"))
    assert {row: classes[row] for row in (
        "Microsoft: ND96isr H100 v5", "Microsoft: NC24ads A100 v4", "Microsoft: ND96isr H100 v5 Spot",
        "Oracle: Compute - GPU - H100", "CoreWeave: H100 GPU hours",
        "AWS: $0.096 per On Demand Linux m7i.large Instance Hour",
        "AWS: $0.1552 per On Demand Linux c7g.xlarge Instance Hour",
        "AWS: Linux/UNIX (Amazon VPC), r7i.large reserved instance applied", "AWS: AWS Lambda - Total Compute",
        "Microsoft: D4s v5", "Microsoft: Reserved VM Instance, Standard_D4s_v5, EU West, 1 Year",
        "Oracle: Compute - Standard - E4 - OCPU", "Oracle: Compute - Standard - E4 - Memory",
        # compute spend no rule recognises, shown as such; Google without a catalog is never guessed
        "AWS: Tax for product code AmazonEC2", "AWS: 1 year No Upfront Compute Savings Plan",
        "Google Cloud: Nvidia H100 80GB GPU running in Virginia", "Google Cloud: N2 Instance Core running in Americas",
        # not compute
        "AWS: $0.025 per GB - storage used", "Microsoft: P30 LRS Disk", "Google Cloud: TPU v5e hours",
        "Oracle: Outbound Data Transfer Zone 1")} == {
        "Microsoft: ND96isr H100 v5": "GPU", "Microsoft: NC24ads A100 v4": "GPU",
        "Microsoft: ND96isr H100 v5 Spot": "GPU", "Oracle: Compute - GPU - H100": "GPU",
        "CoreWeave: H100 GPU hours": "GPU",
        "AWS: $0.096 per On Demand Linux m7i.large Instance Hour": "CPU",
        "AWS: $0.1552 per On Demand Linux c7g.xlarge Instance Hour": "CPU",
        "AWS: Linux/UNIX (Amazon VPC), r7i.large reserved instance applied": "CPU",
        "AWS: AWS Lambda - Total Compute": "CPU", "Microsoft: D4s v5": "CPU",
        "Microsoft: Reserved VM Instance, Standard_D4s_v5, EU West, 1 Year": "CPU",
        "Oracle: Compute - Standard - E4 - OCPU": "CPU", "Oracle: Compute - Standard - E4 - Memory": "CPU",
        "AWS: Tax for product code AmazonEC2": "Unclassified",
        "AWS: 1 year No Upfront Compute Savings Plan": "Unclassified",
        "Google Cloud: Nvidia H100 80GB GPU running in Virginia": "Unclassified",
        "Google Cloud: N2 Instance Core running in Americas": "Unclassified",
        "AWS: $0.025 per GB - storage used": None, "Microsoft: P30 LRS Disk": None, "Google Cloud: TPU v5e hours": None,
        "Oracle: Outbound Data Transfer Zone 1": None}
    assert from_rollup(query) == from_cost_rows(query)
    assert query("SELECT provider, compute_class, currency, sum(effective_cost) FROM daily_compute_class "
                 "WHERE provider IN ('Oracle', 'CoreWeave') GROUP BY ALL ORDER BY ALL") == [
        ("CoreWeave", "GPU", "USD", Decimal("1234.56")), ("Oracle", "CPU", "USD", Decimal("0.074")),
        ("Oracle", "GPU", "USD", Decimal("72"))]


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    """A read-only connection to an empty warehouse: the rules' macro as every write session creates it."""
    path = tmp_path_factory.mktemp("rules") / "warehouse.duckdb"
    with Warehouse(path).write("rules"):
        pass
    con = connect_readonly(path)
    yield con
    con.close()


@pytest.mark.parametrize(("provider", "category", "service", "sku", "description", "expected"), [
    ("AWS", "Compute", "Amazon Elastic Compute Cloud", None, "$98.32 per On Demand Linux p5.48xlarge Instance Hour",
     "GPU"),
    ("AWS", "Compute", "Amazon Elastic Compute Cloud", None, "USE1-BoxUsage:g5.xlarge", "GPU"),
    ("AWS", "Compute", "Amazon Elastic Compute Cloud", None, "$21.50 per On Demand Linux trn1.32xlarge Instance Hour",
     "GPU"),
    ("AWS", "Compute", "Amazon Elastic Compute Cloud", None, "USE2-BoxUsage:inf2.xlarge", "GPU"),
    ("AWS", "AI and Machine Learning", "Amazon SageMaker", None, "ml.p4d.24xlarge-Training usage", "GPU"),
    ("AWS", "AI and Machine Learning", "Amazon SageMaker", None, "ml.m5.xlarge-Notebook usage", None),
    ("AWS", "Compute", "Amazon Elastic Compute Cloud", None, "$0.08 per GB-month of General Purpose (gp3) "
     "provisioned storage - EBS", "Other compute"),
    ("AWS", "Compute", "Amazon Elastic Compute Cloud", None, "$0.005 per In-use public IPv4 address per hour",
     "Other compute"),
    ("AWS", "Compute", "Amazon Elastic Compute Cloud", None, "SavingsPlanNegation used by AccountId : 0011",
     "Unclassified"),
    ("Microsoft", "Compute", "Virtual Machines", None, "Standard_NV12s_v3", "GPU"),
    ("Microsoft", "Compute", "Virtual Machines", None, "ND H100 v5", "GPU"),
    ("Microsoft", "Compute", "Virtual Machines", None, "E8s v5", "CPU"),
    ("Oracle", "Compute", "COMPUTE", "BM.GPU.H100.8", "BM.GPU.H100.8 - GPU Per Hour", "GPU"),
    ("CoreWeave", "Compute", "GPU Compute", "gd-8xh100ib-i128", "gd-8xh100ib-i128 (synthetic)", "GPU"),
    ("CoreWeave", "Compute", "CPU Compute", "cd-gp-a192-genoa", "AMD Genoa 192 vCPU node", "CPU"),
    # Google: the catalog's class decides, a SKU it lacks is Unclassified (never guessed from the description)
    ("Google Cloud", "Compute", "Compute Engine", "X", "Nvidia H100 80GB GPU running in Americas", "Unclassified"),
    ("Google Cloud", "AI and Machine Learning", "Cloud TPU", "X", "TPU v5e", None),
])
def test_each_rule(rules, provider, category, service, sku, description, expected):
    def classify(catalog_class):
        return rules.execute("SELECT ss_compute_class(?, ?, ?, ?, ?, ?)",
                             [provider, category, service, sku, description, catalog_class]).fetchone()[0]

    assert classify(None) == expected
    if provider == "Google Cloud":
        other = "Other compute" if category == "Compute" else None  # a catalogued SKU of another family
        assert [classify(k) for k in ("GPU", "TPU", "CPU", "Other compute")] == ["GPU", "TPU", "CPU", other]


def test_the_rollup_reconciles_with_the_cost_rows_after_loads_a_replace_and_the_demos_removal(
        load_billing, query, tmp_path):
    load_billing(*write_demo_exports(tmp_path / "demo", rows=600, end=date(2024, 2, 29)),
                 options=LoadOptions(synthetic=True))
    demo = from_rollup(query)
    assert {row[5] for row in demo} == {"GPU", "Unclassified"} and demo == from_cost_rows(query)

    records = load_billing(*FIXTURE_DIRS)  # real loads: the demo's rows go, with their days of every rollup
    assert "removed the demo's SYNTHETIC billing rows" in records[0].message
    loaded = from_rollup(query)
    assert not {row[0] for row in loaded} & {date(2024, 1, 1), date(2024, 2, 1)}
    assert loaded == from_cost_rows(query)

    june = write(tmp_path / "june.csv", HEADER, focus_row("10.00", "2025-06-01"), focus_row("5.005", "2025-06-02"))
    load_billing(june)
    restated = write(tmp_path / "june-v2.csv", HEADER, focus_row("7.01", "2025-06-02"))
    load_billing(restated)  # the newer export of the same period replaces the first one's rows
    assert from_rollup(query) == from_cost_rows(query)
    assert query("SELECT date, compute_class, effective_cost FROM daily_compute_class "
                 "WHERE provider = 'CoreWeave' AND billing_account_id = 'A1'") == [
        (date(2025, 6, 2), "GPU", Decimal("7.01"))]


def test_the_migration_backfills_the_rollup_of_an_older_warehouse(load_billing, query, upgrade_from_before):
    load_billing(*FIXTURE_DIRS)
    expected = from_rollup(query)
    assert len(expected) > 20
    upgrade_from_before("compute_class", "DROP VIEW daily_compute_class; DROP TABLE daily_compute_rollup")
    assert from_rollup(query) == expected == from_cost_rows(query)
