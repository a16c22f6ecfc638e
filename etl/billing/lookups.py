"""The seed tables (provider aliases, currency codes, the category mappings) as SQL expressions over a row.

A hash join against these small tables is DuckDB's cheapest lookup, but a join does not keep the order of the rows
it probes, and the one-pass insert (``ingest.py``) numbers a CSV or JSON file's lines from the row ids its rows take
in file order. So each table becomes an expression instead, read from the write session's tables when a source is
loaded (aliases from the ``providers.aliases`` setting included): a ``MAP`` literal looked up by the row's key,
one per provider inside a ``CASE`` on the provider, so that a row searches its own provider's entries only. A
``CASE`` with a branch per entry ran as fast, but its ~850 branches took DuckDB 15-25 ms more to plan, which every
small file of a nightly load paid.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import duckdb

from etl.billing.base import sql_string

Nested = dict[str, dict[str, str]]  # provider -> native key -> value
_COMMON_CURRENCIES = ("USD", "EUR", "GBP", "JPY", "CAD", "AUD", "CHF", "CNY", "INR")


@dataclass(frozen=True)
class Lookups:
    aliases: dict[str, str]  # lower-case alias -> ServiceProviderName
    currencies: tuple[str, ...]
    service_categories: dict[str, str]  # lower-case -> FOCUS name
    charge_categories: dict[str, str]
    service_map: Nested
    charge_map: Nested
    charge_class_map: Nested
    pricing_map: Nested

    @classmethod
    def read(cls, con: duckdb.DuckDBPyConnection) -> Lookups:
        def rows(sql: str) -> list[tuple[str, ...]]:
            return con.execute(sql).fetchall()

        return cls(
            aliases=dict(rows("SELECT alias, service_provider_name FROM provider_alias")),
            currencies=tuple(code for (code,) in rows("SELECT code FROM currency ORDER BY code")),
            service_categories={name.lower(): name for (name,) in rows(
                "SELECT service_category FROM service_category")},
            charge_categories={name.lower(): name for (name,) in rows("SELECT charge_category FROM charge_category")},
            service_map=_nested(rows("SELECT provider, service_key, service_category FROM service_category_map")),
            charge_map=_nested(rows("SELECT provider, native_charge_type, charge_category FROM charge_category_map")),
            charge_class_map=_nested(rows("SELECT provider, native_charge_type, nullif(charge_class, '') "
                                          "FROM charge_category_map")),
            pricing_map=_nested(rows("SELECT provider, native_pricing, pricing_category FROM pricing_category_map")),
        )

    def currency(self, code: str) -> str:
        """``code`` when it is a known ISO 4217 code, else NULL (the usual billing currencies first in the map)."""
        ordered = sorted(self.currencies, key=lambda c: (_COMMON_CURRENCIES.index(c) if c in _COMMON_CURRENCIES
                                                         else len(_COMMON_CURRENCIES), c))
        return case_map(code, {c: c for c in ordered})


def case_map(key: str, mapping: dict[str, str | None]) -> str:
    """``mapping[key]`` as SQL (NULL for a key it does not hold)."""
    entries = ", ".join(f"{sql_string(k)}: {sql_string(v) if v is not None else 'NULL::VARCHAR'}"
                        for k, v in mapping.items())
    return f"CAST(MAP {{{entries}}}[{key}] AS VARCHAR)" if entries else "NULL::VARCHAR"


def by_provider(provider: str, key: str, mapping: Nested) -> str:
    """``mapping[provider][key]`` as SQL: a map per provider inside a CASE on the provider."""
    entries = " ".join(f"WHEN {sql_string(p)} THEN {case_map(key, keys)}" for p, keys in mapping.items())
    return f"CASE {provider} {entries} ELSE NULL::VARCHAR END" if entries else "NULL::VARCHAR"


def _nested(rows: list[tuple[str, str, str | None]]) -> Nested:
    nested: Nested = defaultdict(dict)
    for provider, key, value in rows:
        nested[provider].setdefault(key, value)  # the first row wins, as it would in the table's order
    return dict(nested)
