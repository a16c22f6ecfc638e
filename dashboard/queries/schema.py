"""The analyst-facing schema: the documented relations of ``sql/catalog.toml`` and their live columns."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache

import pandas as pd

from dashboard.queries.reader import Reader
from etl.warehouse import SQL_DIR

CATALOG_FILE = SQL_DIR / "catalog.toml"


@dataclass(frozen=True)
class Documented:
    name: str
    kind: str
    description: str
    examples: tuple[str, ...]


@cache
def catalog() -> tuple[Documented, ...]:
    data = tomllib.loads(CATALOG_FILE.read_text(encoding="utf-8"))
    return tuple(Documented(name, entry["kind"], " ".join(entry["description"].split()), tuple(entry["examples"]))
                 for name, entry in data.items())


def columns(reader: Reader) -> pd.DataFrame:
    """Column name and type of every documented relation present in the warehouse, in column order."""
    return reader.frame(
        """
        SELECT table_name AS relation, column_name AS "column", data_type AS type
        FROM information_schema.columns
        WHERE table_catalog = 'wh' AND table_name IN (SELECT unnest(?))
        ORDER BY table_name, ordinal_position
        """,
        [[d.name for d in catalog()]],
    )
