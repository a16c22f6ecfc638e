"""What every billing adapter declares, and the FOCUS frame they all produce.

An adapter is one subclass of :class:`Adapter` in its own module, ``etl/billing/<format>.py``, describing one
export format declaratively, the way sqlglot's dialects share one base:

* ``FIELDS``: the source columns it reads. Each :class:`Field` lists the header names it accepts (after
  :meth:`Adapter.canonical`), how to parse the value, and whether the column must exist and must be filled.
* ``FOCUS``: one SQL template per FOCUS column, written over the parsed fields as ``{field}`` placeholders.
  Anything the format has no equivalent for is simply left out (it becomes NULL).
* ``DERIVED``: the names of expressions that depend on the file at hand (which optional columns it has, its file
  kind, a command-line option); :meth:`Adapter.plan` supplies them, and ``FOCUS`` uses them as placeholders too.
* :meth:`Adapter.detect`: a score saying how sure it is that a header belongs to this format (0 = not mine), and
  :meth:`Adapter.plan`: the binding of those declarations to one file's header (a :class:`Plan`).
* :meth:`Adapter.after_load`: an optional provider-specific step on a load's rows, inside its transaction.

The declarations are checked when the class is created, so a malformed adapter fails at import. The engine
(``compile.py``) turns a plan into a single set-based DuckDB statement; adapters never loop over rows. Native
codes that need a lookup (service category, charge type, pricing model) are emitted as the helper columns
``x_ServiceKey``, ``x_ChargeType`` and ``x_PricingModel`` and resolved through the mapping tables in ``sql/seed``.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Literal

if TYPE_CHECKING:
    import duckdb

    from etl.billing.sources import Header, Source

FieldKind = Literal["text", "num", "ts", "json", "raw"]
ReplaceScope = Literal["period", "file"]
SOURCE_KIND_NAMES: tuple[str, ...] = ("csv", "parquet", "json")
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

# The FOCUS columns of the `cost` view that adapters fill (provenance columns are added by the loader).
FOCUS_COLUMNS: tuple[str, ...] = (
    "BillingAccountId", "BillingAccountName", "SubAccountId", "SubAccountName", "BillingCurrency",
    "BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd",
    "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargeFrequency",
    "BilledCost", "EffectiveCost", "ListCost", "ContractedCost",
    "ServiceProviderName", "InvoiceIssuerName", "ServiceName", "ServiceCategory",
    "SkuId", "RegionId", "RegionName", "ResourceId", "ResourceName", "ResourceType",
    "PricingCategory", "CommitmentDiscountId", "CommitmentDiscountType", "CommitmentDiscountCategory",
    "CommitmentDiscountName", "CommitmentDiscountStatus",
    "ConsumedQuantity", "ConsumedUnit", "PricingQuantity", "PricingUnit", "Tags",
)
# x_ListCostSource: NULL when ListCost is the export's own, 'cost' when the export had none (see sql/migrations)
HELPER_COLUMNS: tuple[str, ...] = ("x_ServiceKey", "x_ChargeType", "x_PricingModel", "x_ExportTime",
                                   "x_ListCostSource")

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
    """An adapter's declarations bound to one source's header: what ``compile.py`` turns into SQL."""

    adapter: Adapter
    fields: Mapping[str, tuple[str | None, Field]]  # field key -> (canonical column found or None, field)
    derived: Mapping[str, str] = field(default_factory=dict)  # DERIVED name -> SQL over {field} placeholders
    dataset: str = "cost"
    replace_scope: ReplaceScope = "period"
    notes: tuple[str, ...] = field(default_factory=tuple)
    read_options: str = ""  # extra named parameters for read_parquet/read_json, e.g. "columns = {...}"
    # The columns the reader yields when they differ from the header, e.g. every key of the schema given in
    # read_options for JSON files, whose first record (the header) omits keys that are null there.
    reader_columns: tuple[str, ...] = ()
    source_format: str = ""  # x_SourceFormat when it is not the adapter's name (a BigQuery table)

    @property
    def format(self) -> str:
        return self.adapter.NAME


class InputError(ValueError):
    """Bad billing input (a file, a manifest, a mapping); the message says what was expected."""


class MissingColumnsError(InputError):
    """The file lacks columns the format requires."""


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


class Adapter(ABC):
    """The base of every billing adapter (see the module docstring); one subclass per export format.

    Subclasses declare ``NAME``, ``DESCRIPTION``, ``SOURCE_KINDS``, ``FIELDS``, ``FOCUS`` and, when plans supply
    file-dependent expressions, ``DERIVED``; :func:`check_declarations` rejects a subclass that gets them wrong
    when its module is imported. ``REPLACE`` is the replace scope when ``--replace`` does not name one.
    """

    NAME: ClassVar[str]
    DESCRIPTION: ClassVar[str]
    SOURCE_KINDS: ClassVar[tuple[str, ...]]
    FIELDS: ClassVar[Mapping[str, Field]]
    FOCUS: ClassVar[Mapping[str, str]]
    DERIVED: ClassVar[tuple[str, ...]] = ()
    REPLACE: ClassVar[ReplaceScope] = "period"

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        check_declarations(cls)

    def canonical(self, column: str) -> str:
        """A header name as the fields name it (default: :func:`canonical_name`)."""
        return canonical_name(column)

    def column_names(self, columns: Iterable[str]) -> list[str]:
        """The names the engine reads a header's columns under, in order (see :func:`unique_names`)."""
        return unique_names(self.canonical(column) for column in columns)

    @abstractmethod
    def detect(self, columns: tuple[str, ...], options: LoadOptions) -> int:
        """How sure this format is that the header is its own: 0 = not mine; the highest score wins."""

    @abstractmethod
    def plan(self, header: Header, options: LoadOptions, source: Source) -> Plan:
        """Bind the declarations to one source's header; raise :class:`InputError` for what it cannot read."""

    def after_load(self, con: duckdb.DuckDBPyConnection, load_id: int) -> None:  # noqa: B027 (an optional hook)
        """A provider-specific step once the rows of ``load_id`` are inserted and own their replace units, inside
        the load's transaction (default: none). A step that changes other rows marks their dates for the daily
        rollup with :func:`etl.billing.rollup.mark_touched`."""

    def bind(self, header: Header, options: LoadOptions, *, fields: Mapping[str, Field] | None = None,
             derived: Mapping[str, str] | None = None, notes: Iterable[str] = (), dataset: str = "cost",
             label: str | None = None, read_options: str = "", reader_columns: tuple[str, ...] = ()) -> Plan:
        """A plan over ``fields`` (default ``FIELDS``) resolved against the header (or ``reader_columns``, the
        columns the reader yields when they differ from it): missing required columns raise
        :class:`MissingColumnsError` naming the format (``label``, default ``NAME``)."""
        names = reader_columns or self.column_names(header.columns)
        resolved = resolve_fields(label or self.NAME, self.FIELDS if fields is None else fields, names)
        return Plan(self, resolved, dict(derived or {}), dataset=dataset, replace_scope=options.replace or self.REPLACE,
                    notes=tuple(notes), read_options=read_options, reader_columns=reader_columns)


def check_declarations(adapter: type[Adapter]) -> None:
    """Raise TypeError for an adapter class whose declarations break the contract (see :class:`Adapter`)."""
    name = adapter.__name__
    missing = [attr for attr in ("NAME", "DESCRIPTION", "SOURCE_KINDS", "FIELDS", "FOCUS")
               if not hasattr(adapter, attr)]
    if missing:
        raise TypeError(f"billing adapter {name} does not declare {', '.join(missing)}")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", adapter.NAME) or not adapter.DESCRIPTION:
        raise TypeError(f"billing adapter {name}: NAME must be a lower-case identifier and DESCRIPTION text")
    if not adapter.SOURCE_KINDS or not set(adapter.SOURCE_KINDS) <= set(SOURCE_KIND_NAMES):
        raise TypeError(f"billing adapter {name}: SOURCE_KINDS must name some of {', '.join(SOURCE_KIND_NAMES)}")
    if not all(isinstance(key, str) and isinstance(spec, Field) for key, spec in adapter.FIELDS.items()):
        raise TypeError(f"billing adapter {name}: FIELDS must map field keys to Field")
    unknown = sorted(set(adapter.FOCUS) - set(FOCUS_COLUMNS) - set(HELPER_COLUMNS))
    if unknown:
        raise TypeError(f"billing adapter {name}: FOCUS maps {', '.join(unknown)}, which are not FOCUS columns")
    unmapped = [column for column in MANDATORY_FOCUS if column not in adapter.FOCUS]
    if unmapped:
        raise TypeError(f"billing adapter {name}: FOCUS does not map the mandatory {', '.join(unmapped)}")
    known = set(adapter.FIELDS) | set(adapter.DERIVED)
    for column, template in adapter.FOCUS.items():
        undeclared = sorted(set(PLACEHOLDER.findall(template)) - known)
        if undeclared:
            raise TypeError(f"billing adapter {name}: FOCUS {column} refers to {', '.join(undeclared)}, "
                            "neither a field nor a DERIVED name")


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
