"""Any CSV, mapped to FOCUS columns by a TOML file: for providers without a standard export.

A mapping file (see ``examples/mappings/coreweave_invoice.toml``) says which header identifies the file and
where each FOCUS column comes from::

    name = "coreweave-invoice"
    description = "CoreWeave invoice line items"
    detect = ["Invoice Number", "Line Item", "Amount"]   # every one must be in the header
    charge_period = "month"          # optional: ChargePeriodEnd = start + 1 month (or "day") when unmapped
    tags = ["Project", "Cluster"]    # optional: columns copied into Tags under their own names

    [columns]                        # FOCUS column = header name in the CSV (case-insensitive)
    BilledCost = "Amount"
    ChargePeriodStart = "Service Period Start"
    ...

    [constants]                      # FOCUS column = fixed value for every row
    ServiceProviderName = "CoreWeave"
    BillingCurrency = "USD"

Required: BilledCost, ChargePeriodStart, BillingAccountId, BillingCurrency, ServiceName and
ServiceProviderName, each from a column or a constant. Defaults: EffectiveCost, ListCost and ContractedCost
equal BilledCost; BillingPeriodStart/End are the calendar month of ChargePeriodStart; ChargeCategory is
``Usage``; InvoiceIssuerName is the provider. Use ``--format generic --mapping FILE``, or list mapping files
in the setting ``billing.mappings`` so that matching files are detected automatically.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import ClassVar

from etl.billing.base import (
    FOCUS_COLUMNS,
    Adapter,
    Field,
    FieldKind,
    InputError,
    LoadOptions,
    MissingColumnsError,
    Plan,
    canonical_name,
    sql_string,
)
from etl.billing.sources import Header, Source

_KINDS: dict[str, FieldKind] = {
    **dict.fromkeys(("BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "ConsumedQuantity",
                     "PricingQuantity"), "num"),
    **dict.fromkeys(("BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd"), "ts"),
    "Tags": "json",
}
_REQUIRED = ("BilledCost", "ChargePeriodStart", "BillingAccountId", "BillingCurrency", "ServiceName",
             "ServiceProviderName")
_DEFAULTS = {
    "EffectiveCost": "{BilledCost}",
    "ListCost": "{BilledCost}",
    "ContractedCost": "{BilledCost}",
    "BillingPeriodStart": "date_trunc('month', {ChargePeriodStart})",
    "BillingPeriodEnd": "date_trunc('month', {ChargePeriodStart}) + INTERVAL 1 MONTH",
    "ChargeCategory": "'Usage'",
    "InvoiceIssuerName": "{ServiceProviderName}",
}
_PERIODS = {"day": "INTERVAL 1 DAY", "month": "INTERVAL 1 MONTH"}


class MappingError(InputError):
    """A mapping file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Mapping:
    path: Path
    name: str
    detect: tuple[str, ...]
    columns: dict[str, str]
    constants: dict[str, str]
    tags: tuple[str, ...]
    charge_period: str | None


@cache
def read_mapping(path: str) -> Mapping:
    """Parse and validate a mapping file (cached per path)."""
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MappingError(f"{file}: cannot read the mapping file ({exc.strerror})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"{file}: not valid TOML ({exc})") from exc
    columns = {str(k): str(v) for k, v in data.get("columns", {}).items()}
    constants = {str(k): str(v) for k, v in data.get("constants", {}).items()}
    unknown = sorted((set(columns) | set(constants)) - set(FOCUS_COLUMNS))
    if unknown:
        raise MappingError(f"{file}: {', '.join(unknown)} is not a FOCUS column of the cost view")
    both = sorted(set(columns) & set(constants))
    if both:
        raise MappingError(f"{file}: {', '.join(both)} is given both as a column and as a constant")
    missing = [key for key in _REQUIRED if key not in columns and key not in constants]
    if missing:
        raise MappingError(f"{file}: the mapping must give {', '.join(missing)} (under [columns] or [constants])")
    charge_period = data.get("charge_period")
    if "ChargePeriodEnd" not in columns and charge_period not in _PERIODS:
        raise MappingError(f"{file}: map ChargePeriodEnd under [columns] or set charge_period = \"day\" or "
                           "\"month\"")
    detect = tuple(str(c) for c in data.get("detect", ()))
    if not detect:
        raise MappingError(f"{file}: 'detect' must list the header columns that identify these files")
    return Mapping(file, str(data.get("name", file.stem)), detect, columns, constants,
                   tuple(str(t) for t in data.get("tags", ())), charge_period)


class Generic(Adapter):
    """The declarations are the FOCUS columns themselves: a field per FOCUS column, whose header name the mapping
    file gives (``[columns]``), and a FOCUS template per column that the plan derives from the mapping: the field,
    a ``[constants]`` value, or a default (see the module docstring)."""

    NAME = "generic"
    DESCRIPTION = "any CSV with a TOML column mapping (--mapping FILE or setting billing.mappings)"
    SOURCE_KINDS = ("csv",)
    DERIVED = (*FOCUS_COLUMNS, "x_ServiceKey")

    FIELDS: ClassVar[dict[str, Field]] = {column: Field((), _KINDS.get(column, "text")) for column in FOCUS_COLUMNS}
    FOCUS: ClassVar[dict[str, str]] = {column: f"{{{column}}}" for column in (*FOCUS_COLUMNS, "x_ServiceKey")}

    def detect(self, columns: tuple[str, ...], options: LoadOptions) -> int:
        """A configured mapping whose ``detect`` columns are all present wins over the built-in formats."""
        return 200 if _matching(columns, options) else 0

    def plan(self, header: Header, options: LoadOptions, source: Source) -> Plan:
        if not _mapping_paths(options):
            raise MappingError("the generic format needs a mapping file: pass --mapping FILE")
        mapping = _matching(header.columns, options)
        if mapping is None:
            expected = "; ".join(f"{m.path.name}: {', '.join(m.detect)}"
                                 for m in map(read_mapping, _mapping_paths(options)))
            raise MissingColumnsError(
                f"the header matches no generic mapping (each needs these columns: {expected})")
        fields = {focus: Field((canonical_name(header),), self.FIELDS[focus].kind, required=True,
                               not_null=focus in _REQUIRED) for focus, header in mapping.columns.items()}
        fields |= {f"tag_{i}": Field((canonical_name(tag),), required=True) for i, tag in enumerate(mapping.tags)}
        derived = {**_DEFAULTS, **{key: f"{{{key}}}" for key in mapping.columns}}
        derived |= {key: _constant(key, value) for key, value in mapping.constants.items()}
        if "ChargePeriodEnd" not in mapping.columns:
            derived["ChargePeriodEnd"] = f"{{ChargePeriodStart}} + {_PERIODS[mapping.charge_period]}"
        if mapping.tags:
            pairs = ", ".join(f"{{'k': {sql_string(tag)}, 'v': {{tag_{i}}}}}" for i, tag in enumerate(mapping.tags))
            derived["Tags"] = f"ss_tags_from_pairs([{pairs}])"
        derived["x_ServiceKey"] = derived["ServiceName"]
        derived = {key: _resolve_constants(expr, derived, mapping) for key, expr in derived.items()}
        derived |= {key: "NULL" for key in FOCUS_COLUMNS if key not in derived}
        return self.bind(header, options, fields=fields, derived=derived, label=f"generic ({mapping.path.name})",
                         notes=[f"mapping {mapping.name} ({mapping.path})"])


def _mapping_paths(options: LoadOptions) -> list[str]:
    return [options.mapping] if options.mapping else list(options.mappings)


def _matching(columns: tuple[str, ...], options: LoadOptions) -> Mapping | None:
    names = {canonical_name(c) for c in columns}
    for path in _mapping_paths(options):
        mapping = read_mapping(path)
        if {canonical_name(c) for c in mapping.detect} <= names:
            return mapping
    return None


def _constant(key: str, value: str) -> str:
    kind = _KINDS.get(key, "text")
    literal = sql_string(value)
    if kind == "num":
        return f"CAST({literal} AS DECIMAL(38, 12))"
    if kind == "ts":
        return f"ss_parse_ts({literal})"
    return literal


def _resolve_constants(expr: str, derived: dict[str, str], mapping: Mapping) -> str:
    """Defaults refer to other FOCUS columns; substitute constants so that only mapped fields stay placeholders."""
    for key in mapping.constants:
        expr = expr.replace(f"{{{key}}}", f"({derived[key]})")
    return expr
