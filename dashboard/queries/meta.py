"""Facts about the warehouse as a whole: its schema version, is there data, is any of it synthetic.

Synthetic means written by a load that recorded ``load_log.synthetic`` (only ``python -m etl demo`` does):
the views ``synthetic_loads`` and ``synthetic_data`` (sql/views/50_synthetic.sql) define it once for the
dashboard, ``python -m etl status`` and analysts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from dashboard.queries.reader import Reader
from etl.warehouse import latest_schema_version, schema_version


@dataclass(frozen=True)
class WarehouseSummary:
    """What every page checks first (``dashboard.ui.guard``). A warehouse at an older schema version than this
    code is summarised by its version alone (the relations read for the rest may not exist yet)."""

    schema_version: int
    cost_rows: int = 0
    first_day: date | None = None
    last_day: date | None = None
    providers: tuple[str, ...] = ()
    currencies: tuple[str, ...] = ()
    synthetic: bool = False  # some billing data comes from a synthetic load
    tickers: int = 0  # tickers with prices
    events: int = 0

    @property
    def outdated(self) -> bool:
        return self.schema_version < latest_schema_version()

    @property
    def empty(self) -> bool:
        return self.cost_rows == 0


def summary(reader: Reader) -> WarehouseSummary:
    """The schema version, then (on a current warehouse) one pass over the daily rollup, never over the cost
    rows, and counts of the small tables; one snapshot."""
    with reader.snapshot() as snapshot:
        version = snapshot.using(schema_version)
        if version < latest_schema_version():
            return WarehouseSummary(version)
        rows, first_day, last_day, providers, currencies, synthetic, tickers, events = snapshot.row(
            """
            SELECT coalesce(sum(rows), 0)::BIGINT, min(date), max(date),
                   list_sort(list_distinct(list(provider))), list_sort(list_distinct(list(currency))),
                   EXISTS (SELECT 1 FROM synthetic_loads WHERE kind = 'billing'),
                   (SELECT count(DISTINCT ticker) FROM prices), (SELECT count(*) FROM events)
            FROM daily_spend
            """
        )
    return WarehouseSummary(version, rows, first_day, last_day, tuple(providers or ()), tuple(currencies or ()),
                            synthetic, tickers, events)


@dataclass(frozen=True)
class SyntheticMarket:
    """The market data in the warehouse written by ``python -m etl demo``."""

    prices: tuple[str, ...]  # tickers with synthetic prices
    fx: tuple[str, ...]  # currencies with synthetic rates

    def __bool__(self) -> bool:
        return bool(self.prices or self.fx)


def synthetic_market(reader: Reader) -> SyntheticMarket:
    """Tickers and currencies with rows still stored from a synthetic load (view ``synthetic_data``)."""
    prices, fx = reader.row(
        """
        SELECT list_sort(list(subject) FILTER (kind = 'prices')), list_sort(list(subject) FILTER (kind = 'fx'))
        FROM synthetic_data WHERE kind IN ('prices', 'fx')
        """
    )
    return SyntheticMarket(tuple(prices or ()), tuple(fx or ()))
