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
