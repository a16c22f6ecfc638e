"""Errors of a billing load as a user reads them: one line naming the file, the line and the column."""

from __future__ import annotations

import re

import duckdb

from etl.billing.base import InputError

_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")
_COLUMNS_FOUND = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")


class LoadError(InputError):
    """Bad input in a source file; the message names the file, line and column where there is one."""


def describe_duckdb_error(exc: duckdb.Error) -> str:
    """Turn a DuckDB error into one line a user can act on (line numbers of CSV errors kept). The checked parse
    macros of ``sql/macros.sql`` already raise ``line N, column "X": ...`` texts; those pass through."""
    text = str(exc)
    line = _CSV_LINE.search(text)
    if line:
        counts = _COLUMNS_FOUND.search(text)
        if counts:
            return (f"line {line.group(1)}: expected {counts.group(1)} fields as in the header, found "
                    f"{counts.group(2)} (ragged row)")
        if "unterminated quote" in text:
            return f"line {line.group(1)}: a quoted value is never closed (unterminated quote)"
        detail = next((part for part in text.splitlines()[1:] if part.strip()), "")
        return f"line {line.group(1)}: malformed CSV ({detail.strip()})"
    first = text.splitlines()[0]
    return re.sub(r"^(Invalid Input|Conversion|Binder|Parser) Error: ", "", first)


def with_file(label: str, message: str) -> str:
    """``message`` prefixed with the source's name, once."""
    return message if message.startswith(label) else f"{label}: {message}"
