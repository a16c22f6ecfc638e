"""Prices: which tickers have them, their closes for the stock lines, their adjusted closes for event studies.

The price view of a stock line is the raw ``close``; returns use the total-return ``adj_close`` (a ticker
without an adjusted close, e.g. one imported without a dividends file, falls back to its close, which is its
total return when it pays no dividend). What is computed from them is in ``dashboard.services``.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from dashboard.queries.reader import Queryable, Reader


def price_tickers(reader: Reader) -> pd.DataFrame:
    """Tickers with prices: columns ticker, currency, exchange, first_day, last_day, sessions."""
    return reader.frame(
        """
        SELECT ticker, any_value(currency) AS currency, any_value(exchange) AS exchange, min(date) AS first_day,
               max(date) AS last_day, count(*) AS sessions
        FROM prices GROUP BY ticker ORDER BY ticker
        """
    )


def closes(reader: Reader, tickers: tuple[str, ...], start: date | None = None, end: date | None = None
           ) -> pd.DataFrame:
    """Sessions of ``tickers`` from ``start`` to ``end`` (either open): columns ticker, date (Timestamp), close,
    total (adj_close, or close where it is NULL), currency; ordered by ticker and date."""
    return reader.frame(
        """
        SELECT ticker, date::TIMESTAMP AS date, close, coalesce(adj_close, close) AS total, currency
        FROM prices
        WHERE list_contains($tickers::VARCHAR[], ticker)
          AND ($start IS NULL OR date >= $start) AND ($end IS NULL OR date <= $end)
        ORDER BY ticker, date
        """,
        {"tickers": list(tickers), "start": start, "end": end},
    )


def adjusted_closes(reader: Queryable, tickers: tuple[str, ...]) -> pd.DataFrame:
    """Every adjusted close of ``tickers``: columns ticker, date, adj_close, the ``prices`` argument of
    :func:`etl.eventstudy.warehouse.compute_event_studies` (a ticker without any is left out; the study names
    it as the reason a pair failed)."""
    return reader.frame(
        "SELECT ticker, date, adj_close FROM prices "
        "WHERE list_contains($tickers::VARCHAR[], ticker) AND adj_close IS NOT NULL",
        {"tickers": list(tickers)},
    )
