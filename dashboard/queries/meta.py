"""Facts about the warehouse as a whole: is there data, is it synthetic, which providers and dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from dashboard.queries.reader import Reader

DEMO_ACCOUNT_PREFIX = "DEMO "  # every billing account written by `python -m etl demo` is named like this


@dataclass(frozen=True)
class WarehouseSummary:
    cost_rows: int
    first_day: date | None
    last_day: date | None
    providers: tuple[str, ...]
    currencies: tuple[str, ...]
    synthetic: bool

    @property
    def empty(self) -> bool:
        return self.cost_rows == 0


def summary(reader: Reader) -> WarehouseSummary:
    """One pass over the daily rollup (small), never over the cost rows."""
    rows, first_day, last_day, providers, currencies, synthetic = reader.row(
        """
        SELECT coalesce(sum(rows), 0)::BIGINT, min(date), max(date),
               list_sort(list_distinct(list(provider))), list_sort(list_distinct(list(currency))),
               coalesce(bool_or(starts_with(billing_account_name, ?)), false)
        FROM daily_spend
        """,
        [DEMO_ACCOUNT_PREFIX],
    )
    return WarehouseSummary(rows, first_day, last_day, tuple(providers or ()), tuple(currencies or ()), synthetic)


@dataclass(frozen=True)
class SyntheticMarket:
    """Whether the market data in the warehouse includes rows written by ``python -m etl demo``."""

    prices: tuple[str, ...]  # tickers with synthetic prices
    fx: tuple[str, ...]  # currencies with synthetic rates

    def __bool__(self) -> bool:
        return bool(self.prices or self.fx)


def synthetic_market(reader: Reader) -> SyntheticMarket:
    """Tickers and currencies whose rows were written by a synthetic load: ``load_log`` rows of kind ``prices``
    or ``fx`` with format ``synthetic`` and a source starting with ``demo:``, that wrote rows still stored."""
    if not (reader.has_relation("prices") and reader.has_relation("fx_rates")):
        return SyntheticMarket((), ())
    prices, fx = reader.row(
        """
        WITH demo AS (SELECT load_id, kind FROM load_log
                      WHERE kind IN ('prices', 'fx') AND format = 'synthetic' AND starts_with(source, 'demo:'))
        SELECT (SELECT list_sort(list(DISTINCT ticker)) FROM prices
                WHERE load_id IN (SELECT load_id FROM demo WHERE kind = 'prices')),
               (SELECT list_sort(list(DISTINCT currency)) FROM fx_rates
                WHERE load_id IN (SELECT load_id FROM demo WHERE kind = 'fx'))
        """
    )
    return SyntheticMarket(tuple(prices or ()), tuple(fx or ()))


def relations(reader: Reader) -> frozenset[str]:
    """Names of the tables and views of the warehouse (an older warehouse lacks newer ones)."""
    return reader.relations()
