"""Every real billing export in ../shared/fixtures/billing loads, or is rejected with a clear error.

Expected totals are computed here from the raw files with the csv module and Decimal (never through DuckDB
or project code) and must match what lands in the warehouse to the cent, per currency. Skips with a reason
when the shared folder is not beside the checkout.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from etl.billing.base import LoadOptions
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


EXPECTED: dict[str, Loads | Rejected] = {
    "focus-sample-data/focus_sample.csv": Loads("focus", column("BilledCost"), text("BillingCurrency"),
                                                column("EffectiveCost")),
    "focus-spec-examples/virtual_currency_pricing_model_a2.csv": Loads(
        "focus", column("BilledCost"), text("BillingCurrency"), column("EffectiveCost")),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shared_billing_fixture(name, shared_billing, load_billing, query):
    path = shared_billing / name
    expected = EXPECTED[name]
    [result] = load_billing(path, options=expected.options)
    if isinstance(expected, Rejected):
        assert result.status == "failed"
        assert result.error.startswith(str(path)) and expected.message in result.error, result.error
        assert query("SELECT count(*) FROM cost") == [(0,)]
        return
    assert (result.status, result.format) == ("loaded", expected.format), result.error
    raw = read_csv_rows(path)
    assert result.rows == len(raw)
    billed = totals_by_currency(raw, expected.billed, expected.currency)
    got = dict(query("SELECT BillingCurrency, sum(BilledCost) FROM cost GROUP BY 1"))
    assert {c: cents(v) for c, v in got.items()} == {c: cents(v) for c, v in billed.items()}
    assert {t.currency: cents(t.billed) for t in result.totals} == {c: cents(v) for c, v in billed.items()}
    if expected.effective:
        effective = totals_by_currency(raw, expected.effective, expected.currency)
        got = dict(query("SELECT BillingCurrency, sum(EffectiveCost) FROM cost GROUP BY 1"))
        assert {c: cents(v) for c, v in got.items()} == {c: cents(v) for c, v in effective.items()}
