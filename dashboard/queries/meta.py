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
