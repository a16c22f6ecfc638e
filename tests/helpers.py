"""Independent reference computations for tests: plain Python over the raw files, no DuckDB, no project code."""

from __future__ import annotations

import csv
import gzip
import io
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

NULLS = {"", "NULL"}


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV as dicts keyed by the header as written (BOM removed), via the csv module."""
    raw = path.read_bytes()
    if path.name.endswith(".gz"):
        raw = gzip.decompress(raw)
    text = raw.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def totals_by_currency(rows: list[dict[str, str]], amount: Callable[[dict[str, str]], Decimal],
                       currency: Callable[[dict[str, str]], str]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        totals[currency(row)] += amount(row)
    return dict(totals)


def dec(value: str | None) -> Decimal:
    return Decimal(0) if value is None or value.strip() in NULLS else Decimal(value.strip())


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))
