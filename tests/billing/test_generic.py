"""Generic CSV adapter driven by a TOML mapping (the CoreWeave invoice example)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from etl.billing.base import LoadOptions
from tests.conftest import FIXTURES, REPO

INVOICE = FIXTURES / "billing" / "generic" / "coreweave_invoice_2025-06.csv"
MAPPING = REPO / "examples" / "mappings" / "coreweave_invoice.toml"


def test_an_invoice_csv_loads_through_its_mapping(load_billing, query):
    [result] = load_billing(INVOICE, options=LoadOptions(format="generic", mapping=str(MAPPING)))
    assert result.status == "loaded", result.error
    rows = query(
        """
        SELECT BillingAccountId, ServiceProviderName, InvoiceIssuerName, ServiceName, ServiceCategory,
               ChargeCategory, ChargePeriodStart::VARCHAR, ChargePeriodEnd::VARCHAR, BillingPeriodStart::VARCHAR,
               BillingPeriodEnd::VARCHAR, ConsumedQuantity, Tags
        FROM cost ORDER BY x_SourceLine
        """
    )
    assert rows[0][:10] == ("00731", "CoreWeave", "CoreWeave, Inc.", "GPU Compute", "Compute", "Usage",
                            "2025-06-01 00:00:00", "2025-07-01 00:00:00", "2025-06-01 00:00:00",
                            "2025-07-01 00:00:00")
    assert rows[0][10] == Decimal("5760")
    assert rows[2][4] == "Storage"
    tags = [json.loads(r[11]) for r in rows]
    training = {"Project": "llm-pretrain", "Cluster": "train-a"}
    assert tags == [training, training, {"Project": "checkpoints"}, {"Cluster": "train-a"}]


def test_configured_mappings_are_detected_without_format(load_billing):
    [result] = load_billing(INVOICE, options=LoadOptions(mappings=(str(MAPPING),)))
    assert (result.status, result.format) == ("loaded", "generic")


def test_without_a_mapping_the_invoice_is_an_unknown_format(load_billing):
    [result] = load_billing(INVOICE)
    assert result.status == "failed" and "no known billing format recognises" in result.error


COMPLETE = (
    'detect = ["Amount"]\ncharge_period = "month"\n[columns]\nBilledCost = "Amount"\n'
    'ChargePeriodStart = "Service Period Start"\nBillingAccountId = "Account ID"\nServiceName = "Product"\n'
    'BillingCurrency = "Currency"\n[constants]\nServiceProviderName = "CoreWeave"\n'
)


@pytest.mark.parametrize(("text", "message"), [
    ('detect = ["Amount"]\n[columns]\nBilledCost = "Amount"\n',
     "the mapping must give ChargePeriodStart, BillingAccountId, BillingCurrency, ServiceName, ServiceProviderName"),
    (COMPLETE.replace("BilledCost =", "BilledCosts ="), "BilledCosts is not a FOCUS column"),
    (COMPLETE + 'BillingCurrency = "USD"\n', "BillingCurrency is given both as a column and as a constant"),
    (COMPLETE.replace('charge_period = "month"\n', ""), 'map ChargePeriodEnd under [columns] or set charge_period'),
    (COMPLETE.replace('detect = ["Amount"]\n', ""), "'detect' must list the header columns"),
    ("detect = [", "not valid TOML"),
])
def test_bad_mapping_files_are_reported_with_their_name(load_billing, tmp_path, text, message):
    mapping = tmp_path / "bad.toml"
    mapping.write_text(text)
    [result] = load_billing(INVOICE, options=LoadOptions(format="generic", mapping=str(mapping)))
    assert result.status == "failed"
    assert str(mapping) in result.error and message in result.error


def test_a_complete_minimal_mapping_loads(load_billing, tmp_path):
    mapping = tmp_path / "minimal.toml"
    mapping.write_text(COMPLETE)
    [result] = load_billing(INVOICE, options=LoadOptions(format="generic", mapping=str(mapping)))
    assert result.status == "loaded" and result.rows == 4


def test_a_mapping_column_missing_from_the_file_is_named(load_billing, tmp_path):
    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING.read_text().replace('SkuId = "SKU"', 'SkuId = "Sku Code"'))
    [result] = load_billing(INVOICE, options=LoadOptions(format="generic", mapping=str(mapping)))
    assert result.status == "failed" and "missing required column(s)" in result.error and "sku code" in result.error


def test_usage_only_focus_files_are_refused_with_the_reason(load_billing, tmp_path):
    usage_only = tmp_path / "coreweave_focus_usage.csv"
    usage_only.write_text("BillingAccountId,ChargePeriodStart,ChargePeriodEnd,ConsumedQuantity,ConsumedUnit,"
                          "ServiceName,ServiceProviderName\nacct,2026-09-01T00:00:00Z,2026-09-01T01:00:00Z,8,GPU-hours,"
                          "GPU Compute,CoreWeave\n")
    [result] = load_billing(usage_only)
    assert result.status == "failed"
    assert "has usage but no cost columns" in result.error and "--format generic --mapping" in result.error
