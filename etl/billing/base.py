"""What every billing adapter declares, and the FOCUS frame they all produce.

An adapter is one module in ``etl/billing/`` describing one export format declaratively:

* ``FIELDS``: the source columns it reads. Each :class:`Field` lists the header names it accepts (after
  :func:`canonical_name`), how to parse the value, and whether the column must exist and must be filled.
* ``FOCUS``: one SQL expression per FOCUS column, written over the parsed fields as ``{field}``
  placeholders. Anything the format has no equivalent for is simply left out (it becomes NULL).
* ``detect(columns)``: a score saying how sure it is that a header belongs to this format (0 = not mine).

The loader turns that into a single set-based DuckDB statement (see ``loader.py``); adapters never loop over
rows. Native codes that need a lookup (service category, charge type, pricing model) are emitted as the
helper columns ``x_ServiceKey``, ``x_ChargeType`` and ``x_PricingModel`` and resolved through the mapping
tables in ``sql/seed``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from etl.billing.sources import Source

FieldKind = Literal["text", "num", "ts", "json", "raw"]
ReplaceScope = Literal["period", "file"]

# The FOCUS columns of the `cost` view that adapters fill (provenance columns are added by the loader).
FOCUS_COLUMNS: tuple[str, ...] = (
    "BillingAccountId", "BillingAccountName", "SubAccountId", "SubAccountName", "BillingCurrency",
    "BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd",
    "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargeFrequency",
    "BilledCost", "EffectiveCost", "ListCost", "ContractedCost",
    "ServiceProviderName", "InvoiceIssuerName", "ServiceName", "ServiceCategory",
    "SkuId", "RegionId", "RegionName", "ResourceId", "ResourceName", "ResourceType",
    "PricingCategory", "CommitmentDiscountId", "CommitmentDiscountType",
    "ConsumedQuantity", "ConsumedUnit", "PricingQuantity", "PricingUnit", "Tags",
)
HELPER_COLUMNS: tuple[str, ...] = ("x_ServiceKey", "x_ChargeType", "x_PricingModel", "x_ExportTime")

# FOCUS columns whose absence in an adapter's mapping is a programming error: the contract requires them.
MANDATORY_FOCUS: tuple[str, ...] = (
    "BillingAccountId", "BillingCurrency", "BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart",
    "ChargePeriodEnd", "BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "ServiceProviderName",
    "InvoiceIssuerName", "ServiceName",
)


@dataclass(frozen=True)
class Field:
    """A source column an adapter reads.

    ``names``: accepted canonical header names, the first present wins. ``kind``: ``num`` (decimal),
    ``ts`` (UTC timestamp), ``json`` (tags object), ``text``, or ``raw`` (kept in the reader's own type, for
    nested Parquet/JSON structures). ``required``: the column must exist in the file. ``not_null``: every
    row must have a value.
    """

    names: tuple[str, ...]
    kind: FieldKind = "text"
    required: bool = False
    not_null: bool = False


@dataclass(frozen=True)
class Plan:
    """What the loader needs from an adapter for one source: resolved columns and the FOCUS select."""

    adapter: str
    fields: Mapping[str, tuple[str | None, Field]]  # field key -> (canonical column found or None, field)
    focus: Mapping[str, str]  # FOCUS or helper column -> SQL over parsed fields (placeholders resolved)
    dataset: str = "cost"
    replace_scope: ReplaceScope = "period"
    notes: tuple[str, ...] = field(default_factory=tuple)
    read_options: str = ""  # extra named parameters for read_parquet/read_json, e.g. "columns = {...}"
    # The columns the reader yields when they differ from the header, e.g. every key of the schema given in
    # read_options for JSON files, whose first record (the header) omits keys that are null there.
    reader_columns: tuple[str, ...] = ()


class InputError(ValueError):
    """Bad billing input (a file, a manifest, a mapping); the message says what was expected."""


class MissingColumnsError(InputError):
    """The file lacks columns the format requires."""


class Adapter(Protocol):
    """The interface of a billing adapter module (each ``etl/billing/<format>.py`` implements it)."""

    NAME: str
    DESCRIPTION: str
    SOURCE_KINDS: tuple[str, ...]

    def detect(self, columns: tuple[str, ...], options: LoadOptions) -> int: ...

    def canonical(self, column: str) -> str: ...

    def plan(self, columns: tuple[str, ...], options: LoadOptions, source: Source) -> Plan: ...


@dataclass(frozen=True)
class LoadOptions:
    """Per-run choices that change how a file is read (all optional; see ``billing load --help``)."""

    format: str | None = None
    dataset: str | None = None  # actual | amortized, for Azure cost details
    currency: str | None = None  # assumed billing currency for exports without a currency column
    replace: ReplaceScope | None = None
    mapping: str | None = None  # generic CSV mapping file given with --mapping
    mappings: tuple[str, ...] = ()  # mapping files from the setting billing.mappings, tried in detection
    synthetic: bool = False  # the files are made-up demo data (recorded in load_log.synthetic)


_PARENTHESISED = re.compile(r"^.*\(([^()]+)\)\s*$")


def canonical_name(header: str) -> str:
    """Normalise a header name: strip a BOM and blanks, take the English name from a localised header such as
    ``Abonnement-GUID (SubscriptionGuid)``, and lower-case it."""
    name = header.replace("\ufeff", "").strip()
    match = _PARENTHESISED.match(name)
    if match and " " in name:
        name = match.group(1)
    return name.strip().lower()


def snake_name(header: str) -> str:
    """AWS CUR naming: ``lineItem/UnblendedCost`` and ``line_item_unblended_cost`` both become the latter."""
    name = header.replace("\ufeff", "").strip()
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    name = re.sub(r"[^0-9A-Za-z]+", "_", name)
    return name.strip("_").lower()


def unique_names(names: Iterable[str]) -> list[str]:
    """The loader's column names for a header, in order: a repeated (canonical) name gets ``_dup`` appended, so
    adapters that refer to a column by position see the names the loader reads it under."""
    unique: list[str] = []
    for name in names:
        while name in unique:
            name += "_dup"
        unique.append(name)
    return unique


def resolve_fields(
    adapter: str, fields: Mapping[str, Field], columns: Iterable[str]
) -> dict[str, tuple[str | None, Field]]:
    """Match each field to the first of its accepted names present in ``columns``; raise for missing ones."""
    present = set(columns)
    resolved: dict[str, tuple[str | None, Field]] = {}
    missing: list[str] = []
    for key, spec in fields.items():
        found = next((name for name in spec.names if name in present), None)
        if found is None and spec.required:
            missing.append(" or ".join(spec.names))
        resolved[key] = (found, spec)
    if missing:
        raise MissingColumnsError(
            f"missing required column(s) for the {adapter} format: {'; '.join(missing)}"
        )
    return resolved


def sql_string(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
