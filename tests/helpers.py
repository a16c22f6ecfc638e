"""Helpers shared by the tests: raw CSV files read with plain Python, per-currency totals, and the warehouse's
rows read back per source line or per currency.

Nothing here calls project code: expected values must come from the raw files, never from DuckDB or the loader.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

NULLS = {"", "NULL"}
ZERO = Decimal(0)

# Runs ``query(sql, params)`` against the test warehouse (the ``query`` fixture of tests/conftest.py).
Query = Callable[..., list[tuple]]


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV as dicts keyed by the header as written (BOM removed), via the csv module."""
    raw = path.read_bytes()
    if path.name.endswith(".gz"):
        raw = gzip.decompress(raw)
    text = raw.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def dec(value: str | None) -> Decimal:
    return ZERO if value is None or value.strip() in NULLS else Decimal(value.strip())


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


def close(left: dict[str, Decimal], right: dict[str, Decimal]) -> bool:
    """Equal per currency to the cent, and within 1e-9 (DECIMAL(38,12) rounds each row at 12 places)."""
    return (left.keys() == right.keys()
            and all(cents(left[c]) == cents(right[c]) and abs(left[c] - right[c]) <= Decimal("1e-9") for c in left))


@dataclass
class Totals:
    """The rows and the four FOCUS cost measures of one currency."""

    rows: int = 0
    billed: Decimal = ZERO
    effective: Decimal = ZERO
    list_cost: Decimal = ZERO
    contracted: Decimal = ZERO


def by_measure(totals: dict[str, Totals], measure: str) -> dict[str, Decimal]:
    """One measure (or ``rows``) per currency; also of the loader's reported totals (``rows``, ``billed``,
    ``effective``)."""
    return {currency: getattr(total, measure) for currency, total in totals.items()}


def loaded_totals(query: Query, path: Path | None = None) -> dict[str, Totals]:
    """Per billing currency, what the ``cost`` view holds (of one file when ``path`` is given)."""
    where, params = ("WHERE x_SourceFile = ?", [str(path.resolve())]) if path else ("", [])
    rows = query("SELECT BillingCurrency, count(*), sum(BilledCost), sum(EffectiveCost), sum(ListCost), "
                 f"sum(ContractedCost) FROM cost {where} GROUP BY 1", params)
    return {currency: Totals(*measures) for currency, *measures in rows}


def by_line(query: Query, columns: str, path: Path | None = None, table: str = "cost") -> dict[int, tuple]:
    """``{x_SourceLine: (columns...)}`` of the loaded rows, of one file when ``path`` is given. ``table`` is
    ``cost_line`` for the loader's own columns (``x_ExportTime``, ``x_Dataset``)."""
    where, params = ("WHERE x_SourceFile = ?", [str(path.resolve())]) if path else ("", [])
    rows = query(f"SELECT x_SourceLine, {columns} FROM {table} {where} ORDER BY 1", params)
    return {row[0]: row[1:] for row in rows}


def table_rows(output: str, first_header: str = "source") -> list[dict[str, str]]:
    """The rows of the first plain-text table (``etl.report.format_table``) in ``output`` whose header starts with
    ``first_header``, as dicts keyed by header; columns are cut at the dashes under the header."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:1] == [first_header]
                 and i + 1 < len(lines) and set(lines[i + 1]) <= {"-", " "})
    spans, position = [], 0
    for dashes in lines[start + 1].split("  "):
        spans.append((position, position + len(dashes)))
        position += len(dashes) + 2
    header = [lines[start][a:b].strip() for a, b in spans]
    rows, width = [], len(lines[start + 1])
    for line in lines[start + 2:]:
        cells_apart = all(line[a - 2:a].strip() == "" for a, _ in spans[1:])
        if not line.strip() or len(line) > width or not cells_apart:  # the table ends (a message follows)
            break
        rows.append({name: line[a:b if i < len(spans) - 1 else None].strip()
                     for i, (name, (a, b)) in enumerate(zip(header, spans, strict=True))})
    return rows
