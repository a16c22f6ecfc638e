"""One load log for every kind of load: one record type, one way to write its row, one summary table."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from etl import loadlog
from etl.loadlog import CurrencyTotal, LoadRecord
from tests.helpers import table_rows

BILLING = LoadRecord("billing", "/exports/june.csv", "loaded", "focus", rows=3, dataset="cost",
                     totals=[CurrencyTotal("EUR", 1, Decimal("5"), Decimal("5")),
                             CurrencyTotal("USD", 2, Decimal("1234.5"), Decimal("1200"))],
                     scope=[("CoreWeave", "A1")], files=["/exports/june.csv"], sha256="ab", bytes=10,
                     message="dataset actual (default)", started=datetime(2025, 6, 20, 6, 0, tzinfo=UTC))
PRICES = LoadRecord("prices", "/prices/MSFT.csv", "loaded", "csv-yahoo", subject="MSFT", rows=2,
                    first=date(2025, 6, 9), last=date(2025, 6, 10), message="2 new, 0 revised row(s)")
FAILED = LoadRecord("fx", "EURUSD=X", "failed", "yahoo", subject="EUR", error="EURUSD=X: no rates")


def test_every_kind_writes_the_same_row_shape(warehouse, query):
    with warehouse.write("test") as session:
        with session.transaction() as con:
            loadlog.write(con, BILLING)
        loadlog.write_alone(session, PRICES)
        loadlog.write_alone(session, FAILED)
    assert (BILLING.load_id, PRICES.load_id, FAILED.load_id) == (1, 2, 3)
    rows = query("SELECT load_id, kind, source, format, rows, status, error, message, synthetic, "
                 "[t.currency FOR t IN totals], [s.account FOR s IN scope], started_at FROM load_log ORDER BY 1")
    assert rows == [
        (1, "billing", "/exports/june.csv", "focus", 3, "loaded", None, "dataset actual (default)", False,
         ["EUR", "USD"], ["A1"], datetime(2025, 6, 20, 6, 0)),
        (2, "prices", "/prices/MSFT.csv", "csv-yahoo", 2, "loaded", None, "2 new, 0 revised row(s)", False, [], [],
         rows[1][-1]),
        (3, "fx", "EURUSD=X", "yahoo", 0, "failed", "EURUSD=X: no rates", None, False, [], [], rows[2][-1])]


def test_a_write_inside_a_failed_transaction_leaves_no_row(warehouse, query):
    record = LoadRecord("billing", "/exports/june.csv", "loaded", "focus")
    with warehouse.write("test") as session, pytest.raises(RuntimeError), session.transaction() as con:
        loadlog.write(con, record)
        raise RuntimeError("the load failed after its row was written")
    assert query("SELECT count(*) FROM load_log") == [(0,)]


def test_one_summary_table_for_every_command():
    rows = table_rows(loadlog.summary_table([BILLING, PRICES, FAILED]))
    assert rows == [
        {"source": "/exports/june.csv", "kind": "billing", "format": "focus", "rows": "3",
         "covers": "EUR 5.00; USD 1,234.50", "status": "loaded", "detail": "dataset actual (default)"},
        {"source": "MSFT (/prices/MSFT.csv)", "kind": "prices", "format": "csv-yahoo", "rows": "2",
         "covers": "2025-06-09 to 2025-06-10", "status": "loaded", "detail": "2 new, 0 revised row(s)"},
        {"source": "EUR (EURUSD=X)", "kind": "fx", "format": "yahoo", "rows": "0", "covers": "",
         "status": "failed", "detail": "no rates"}]  # the source's name is on the line already


def test_totals_are_never_added_across_currencies():
    assert loadlog.format_totals(BILLING.totals) == "EUR 5.00; USD 1,234.50"
    assert loadlog.format_totals([]) == "-"
