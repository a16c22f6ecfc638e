"""Event CSV files (the shipped catalog and ``events import FILE``): one event per record.

The header names columns of :data:`etl.events.validate.COLUMNS` in any order; ``date``, ``market_time``,
``headline`` and ``tickers`` are required, the others optional. UTF-8 (a BOM is fine), comma-separated,
double quotes around fields that hold commas or line breaks. A record's line is the line where it starts
(header = line 1). Every problem of the file is reported, each with its line and column; a file with any
problem is refused as a whole.
"""

from __future__ import annotations

import csv
from pathlib import Path

from etl.events.validate import (
    COLUMNS,
    REQUIRED_COLUMNS,
    Event,
    EventError,
    Known,
    Where,
    duplicates_within,
    parse_event,
)


def read_event_csv(path: Path, known: Known, name: str | None = None) -> list[tuple[Event, Where]]:
    """The events of ``path`` with the location of each; :class:`EventError` lists every problem.

    ``name`` is how messages call the file (default: the path as given).
    """
    shown = name or str(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            records = _records(handle.read(), shown)
    except (OSError, UnicodeDecodeError) as exc:
        raise EventError([f"{shown}: cannot read the file: {exc}"]) from None
    except csv.Error as exc:
        raise EventError([f"{shown}: not a valid CSV file: {exc}"]) from None
    header_line, header = records[0] if records else (1, [])
    problems = _header_problems(shown, header_line, header)
    if not problems and len(records) == 1:
        problems.append(f"{shown}: no events below the header")
    if problems:
        raise EventError(problems)
    batch: list[tuple[Event, Where]] = []
    for line, fields in records[1:]:
        if len(fields) != len(header):
            problems.append(f"{shown}: line {line}: expected {len(header)} fields like the header, found {len(fields)}")
            continue

        def where(column: str, line: int = line) -> str:
            return f'{shown}: line {line}, column "{column}"'

        try:
            batch.append((parse_event(dict(zip(header, fields, strict=True)), known, where), where))
        except EventError as exc:
            problems += exc.messages
    problems += duplicates_within(batch)
    if problems:
        raise EventError(problems)
    return batch


def _records(text: str, shown: str) -> list[tuple[int, list[str]]]:
    """(start line, fields) of every non-blank record; the first is the header."""
    reader = csv.reader(text.splitlines(keepends=True), strict=True)
    records = []
    line = 1
    for fields in reader:
        if any(f.strip() for f in fields):
            records.append((line, fields))
        line = reader.line_num + 1
    return records


def _header_problems(shown: str, line: int, header: list[str]) -> list[str]:
    if not header:
        return [f"{shown}: the file is empty (expected a header: {', '.join(COLUMNS)})"]
    problems = []
    names = [h.strip() for h in header]
    header[:] = names
    for position, name in enumerate(names, start=1):
        if name not in COLUMNS:
            problems.append(f'{shown}: line {line}, column {position}: unknown column "{name}" '
                            f"(expected some of: {', '.join(COLUMNS)})")
        elif names.index(name) != position - 1:
            problems.append(f'{shown}: line {line}, column {position}: column "{name}" appears twice')
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        problems.append(f"{shown}: line {line}: missing required column(s) {', '.join(missing)}")
    return problems
