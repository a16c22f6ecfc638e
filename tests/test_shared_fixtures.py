"""Every real billing export in ../shared/fixtures/billing loads, or is rejected with a clear error.

Expected totals are computed here from the raw files with the csv module and Decimal (never through DuckDB
or project code) and must match what lands in the warehouse to the cent, per currency. Skips with a reason
when the shared folder is not beside the checkout.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from etl.billing.base import LoadOptions
from etl.billing.loader import load_sources
from etl.billing.sources import expand_paths
from tests.helpers import cents, dec, read_csv_rows, totals_by_currency

Row = dict[str, str]


@dataclass(frozen=True)
class Loads:
    """A file that must load: its format, row count and an independent amount/currency per raw row."""

    format: str
    billed: Callable[[Row], Decimal]
    currency: Callable[[Row], str]
    effective: Callable[[Row], Decimal] | None = None
    options: LoadOptions = field(default_factory=LoadOptions)


@dataclass(frozen=True)
class Rejected:
    """A file that is broken in itself: it must fail with this message and load nothing."""

    message: str
    options: LoadOptions = field(default_factory=LoadOptions)


def column(name: str) -> Callable[[Row], Decimal]:
    return lambda row: dec(row[name])


def text(name: str, default: str | None = None) -> Callable[[Row], str]:
    return lambda row: row[name] or default


def gcp_net(row: Row) -> Decimal:
    """cost plus the row's credits, the credits read as the Python literal they are written in."""
    credits = ast.literal_eval(row["credits"]) if row["credits"].strip() else []
    return dec(row["cost"]) + sum((Decimal(str(c["amount"])) for c in credits), Decimal(0))


def aws_effective(row: Row) -> Decimal:
    if row["lineItem/LineItemType"] == "SavingsPlanCoveredUsage":
        return dec(row["savingsPlan/SavingsPlanEffectiveCost"])
    return dec(row["lineItem/UnblendedCost"])


# A key is the file under shared/fixtures/billing, optionally followed by " --option value" for a variant.
EXPECTED: dict[str, Loads | Rejected] = {
    "focus-sample-data/focus_sample.csv": Loads("focus", column("BilledCost"), text("BillingCurrency"),
                                                column("EffectiveCost")),
    "focus-spec-examples/virtual_currency_pricing_model_a2.csv": Loads(
        "focus", column("BilledCost"), text("BillingCurrency"), column("EffectiveCost")),
    "finops-toolkit/EA_ActualCost_Small.csv": Loads("azure", column("Cost"), text("BillingCurrency")),
    "finops-toolkit/EA_AmortizedCost_Small.csv": Loads("azure", column("Cost"), text("BillingCurrency")),
    "focus-converters/sample-anonymous-ea-export-dataset.csv": Loads(
        "azure", column("CostInBillingCurrency"), text("BillingCurrencyCode"), column("CostInBillingCurrency")),
    "koku/camel_azure_version_2.csv": Loads("azure", column("costInBillingCurrency"), text("billingCurrency")),
    "opencost/German.csv": Loads("azure", column("PreTaxCost (PreTaxCost)"), text("Currency")),
    "opencost/BOM.csv": Rejected('line 2, column "PreTaxCost": empty, but every row needs a value'),
    "opencost/MissingBrackets.csv": Rejected("missing required column(s) for the azure format"),
    "opencost/MissingBrackets.csv --currency USD": Loads(
        "azure", column("costinbillingcurrency"), lambda row: "USD", options=LoadOptions(currency="USD")),
    "koku/manifest.json": Rejected("was not found next to the manifest; download every file of the export"),
    "focus-converters/sample-anonymous-aws-export-dataset.csv": Loads(
        "aws", column("lineItem/UnblendedCost"), text("lineItem/CurrencyCode"), column("lineItem/UnblendedCost")),
    "koku/2023-06-01.csv": Loads("aws", column("lineItem/UnblendedCost"), text("lineItem/CurrencyCode"),
                                 aws_effective),
    "koku/2022-07-01-alt-columns.csv": Loads("aws", column("line_item_unblended_cost"),
                                             text("line_item_currency_code")),
    "koku/evidence-2020-11-16.csv": Loads("gcp", gcp_net, text("currency"), gcp_net),
    "koku/2022-08-01_5.csv": Loads("gcp", gcp_net, text("currency"), gcp_net),
    "focus-converters/reports_cost-csv_0000000030000269.csv": Loads(
        "oci", column("cost/myCost"), text("cost/currencyCode"), column("cost/myCost")),
}


def close(left: dict[str, Decimal], right: dict[str, Decimal]) -> bool:
    """Equal per currency to the cent, and within 1e-9 (DECIMAL(38,12) rounds each row at 12 places)."""
    return ({c: cents(v) for c, v in left.items()} == {c: cents(v) for c, v in right.items()}
            and left.keys() == right.keys() and all(abs(left[c] - right[c]) <= Decimal("1e-9") for c in left))


def test_every_shared_billing_file_is_covered(shared_billing):
    files = {str(p.relative_to(shared_billing)) for p in shared_billing.rglob("*") if p.is_file()}
    assert files - {"SOURCES.md"} == {key.split(" --")[0] for key in EXPECTED}


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_shared_billing_fixture(key, shared_billing, warehouse, query):
    path = shared_billing / key.split(" --")[0]
    expected = EXPECTED[key]
    sources, problems = expand_paths([str(path)])
    with warehouse.write("test") as session:
        results = load_sources(session, sources, expected.options)
    errors = [r.error for r in results if r.status == "failed"] + [message for _, message in problems]
    if isinstance(expected, Rejected):
        assert not [r for r in results if r.status != "failed"]
        [error] = errors
        assert error.startswith(str(path)) and expected.message in error, error
        assert query("SELECT count(*) FROM cost") == [(0,)]
        return
    [result] = results
    assert (result.status, result.format) == ("loaded", expected.format), result.error
    raw = read_csv_rows(path)
    assert result.rows == len(raw) == query("SELECT count(*) FROM cost")[0][0]
    billed = totals_by_currency(raw, expected.billed, expected.currency)
    assert close(dict(query("SELECT BillingCurrency, sum(BilledCost) FROM cost GROUP BY 1")), billed)
    assert close({t.currency: t.billed for t in result.totals}, billed)
    if expected.effective:
        effective = totals_by_currency(raw, expected.effective, expected.currency)
        assert close(dict(query("SELECT BillingCurrency, sum(EffectiveCost) FROM cost GROUP BY 1")), effective)


def test_azure_actual_and_amortized_exports_of_one_month_combine(shared_billing, load_billing, query):
    actual, amortized = (shared_billing / "finops-toolkit" / f"EA_{kind}Cost_Small.csv" for kind in ("Actual",
                                                                                                     "Amortized"))
    results = load_billing(actual, amortized)
    assert [(r.status, r.format) for r in results] == [("loaded", "azure"), ("loaded", "azure")]
    billed = totals_by_currency(read_csv_rows(actual), column("Cost"), text("BillingCurrency"))
    effective = totals_by_currency(read_csv_rows(amortized), column("Cost"), text("BillingCurrency"))
    assert close(dict(query("SELECT BillingCurrency, sum(BilledCost) FROM cost GROUP BY 1")), billed)
    assert close(dict(query("SELECT BillingCurrency, sum(EffectiveCost) FROM cost GROUP BY 1")), effective)
