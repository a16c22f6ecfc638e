"""Google Cloud Billing export: standard (``gcp_billing_export_v1``) and detailed, resource-level
(``gcp_billing_export_resource_v1``) cost rows, as files extracted from BigQuery.

Google exports billing data only into BigQuery, so what reaches SpendScope is an extract of those tables:

* **Newline-delimited JSON** as ``bq extract --destination_format NEWLINE_DELIMITED_JSON`` (or ``EXPORT DATA``)
  writes it: nested records (``service{id,description}``, ``project{…,labels[]}``, ``usage{…}``,
  ``credits[{name,amount,…}]``, ``invoice{month}``, ``resource{name,global_name}``…), TIMESTAMPs as
  ``2025-06-10 00:00:00 UTC`` (with a fraction when there is one), FLOATs as JSON numbers, and **null fields
  left out**. The first record therefore does not name every key, so the file is read with an explicit
  schema (``columns = {…}``), which is also faster than sampling the whole file to detect one. Leaf values are
  read as text and parsed by the checked macros, so a bad value names its line (the record number) and field.
* **Parquet** from the same extract (nested records, TIMESTAMPs as UTC instants, FLOATs as doubles). Fields an
  older schema lacks (``tags``, ``cost_at_list``, ``resource``…) are simply NULL.
* **CSV with dotted column names** (``service.description``, ``usage.amount_in_pricing_units``…) as tools such
  as koku flatten the table, where the repeated fields (``credits``, ``labels``, ``project.labels``,
  ``system_labels``) hold a JSON list or a Python list literal (``[{'name': …, 'amount': -5e-06,
  'full_name': None}]``). Those are converted to JSON in SQL (strings re-quoted, ``None``/``True``/``False``
  mapped); a value that still is not a list of objects rejects the file naming line and column.
  ``service_description``-style underscore names are accepted too.

Mapping decisions:

* **BilledCost = EffectiveCost = cost + Σ credits.amount.** Credits (free tier, promotions, sustained-use and
  committed-use discounts…) are negative amounts nested in the row they reduce; they are summed per row, never
  unnested into rows (which would repeat the cost once per credit). The export has no amortization (commitment
  fees are their own rows when they occur), so EffectiveCost equals BilledCost.
* **ListCost = cost_at_list**, or ``cost`` where an older export has no list cost (``x_ListCostSource = 'cost'``:
  ``python -m etl gcp catalog`` fills those from the SKU's list price, etl/gcp/listcost.py). **ContractedCost = cost**:
  the cost at the account's negotiated prices before credits, which is what FOCUS calls contracted.
* **BillingPeriodStart/End**: ``invoice.month`` (``YYYYMM``) is a Pacific-time month (Google invoices in
  America/Los_Angeles). The period is the first instant of that month in Los Angeles converted to UTC (e.g.
  2025-06-01T07:00:00Z), up to the same instant of the next month. Late usage can sit in a later invoice
  month than its usage dates, as on the invoice.
* **ChargePeriodStart/End** = usage_start_time/usage_end_time; **x_ExportTime** = export_time, so that the
  loader keeps the newest export of each (account, invoice month) and supersedes an older one loaded later.
* **ChargeCategory** from ``cost_type`` (regular, tax, adjustment, rounding_error) through
  ``sql/seed/charge_category_map.csv``; a missing cost_type (exports older than the field) means regular.
* **ServiceName** = service.description (also the service-category key), **SkuId** = sku.id,
  **ChargeDescription** = sku.description, **SubAccountId/Name** = project.id/name, **RegionId** =
  location.region, else location.location (multi-regions such as ``us``, or ``global``),
  **ResourceId/Name** = resource.global_name/name (detailed export only), **ConsumedQuantity/Unit** =
  usage.amount/unit, **PricingQuantity/Unit** = usage.amount_in_pricing_units/pricing_unit.
* **Tags** is one JSON object: resource ``labels`` under their own keys, ``system_labels`` under theirs (Google
  namespaces them, e.g. ``compute.googleapis.com/machine_spec``), ``project.labels`` as ``project:<key>``,
  and resource-manager ``tags`` as ``<namespace>/<key>`` (their namespaced name; ``inherited`` is dropped).
  Label keys cannot contain ``:``, ``/`` or ``.``, so the four sources never collide.
* **ServiceProviderName** = Google Cloud. **InvoiceIssuerName** = Google Cloud, except for Marketplace rows sold
  under the agency model (``transaction_type`` THIRD_PARTY_AGENCY), where Google only acts as the agent of the
  seller of record: there it is ``seller_name``. Google-sold and resold (THIRD_PARTY_RESELLER) rows are
  invoiced by Google.
* **Committed-use discounts.** A usage row with a credit of type ``COMMITTED_USAGE_DISCOUNT`` (resource-based)
  or ``COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE`` (spend-based) is commitment-covered: CommitmentDiscountId = the
  credit's id (else its name), CommitmentDiscountName = its full_name (else name), CommitmentDiscountType
  "Committed Use Discount", CommitmentDiscountCategory Usage (resource-based) or Spend (dollar base),
  CommitmentDiscountStatus Used. A commitment fee row (SKU description starting "Commitment", e.g. "Commitment v1:
  Cpu in Americas for 1 Year") carries the commitment's cost: Id = its sku.id, Name = the SKU description, the same
  type, the category Spend for a "dollar based" SKU else Usage, and no status. Google's export cannot link a fee to
  the credits it funded and reports no unused part, so Google commitments have no utilization (README,
  "Commitments").
* Standard and detailed exports of one account and month are the same costs at two grains, so they share a
  replace unit: the newer export replaces the other.
* The replace unit is (account, invoice month), so **extract whole invoice months** (``WHERE invoice.month =
  '202506'``, or the whole table): a file holding only part of an invoice month (say, the usage dates of one
  week) would replace the rest of that month.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import duckdb

from etl.billing.base import Adapter, Field, LoadOptions, MissingColumnsError, Plan, sql_string
from etl.billing.sources import Header, Source

_KV = "STRUCT(key VARCHAR, value VARCHAR)[]"
_CREDIT = "STRUCT(name VARCHAR, amount VARCHAR, full_name VARCHAR, id VARCHAR, type VARCHAR)[]"
_TAG = "STRUCT(key VARCHAR, value VARCHAR, inherited VARCHAR, namespace VARCHAR)[]"

# The columns of a BigQuery billing export that SpendScope reads, as the JSON reader's schema. Leaves are read as
# VARCHAR (numbers keep their text and are parsed by ss_num; timestamps by ss_ts). Keys of a record that are not
# listed here are ignored; listed keys missing from a record (Google leaves nulls out) are NULL.
JSON_SCHEMA: dict[str, str] = {
    "billing_account_id": "VARCHAR",
    "service": "STRUCT(id VARCHAR, description VARCHAR)",
    "sku": "STRUCT(id VARCHAR, description VARCHAR)",
    "usage_start_time": "VARCHAR",
    "usage_end_time": "VARCHAR",
    "project": f"STRUCT(id VARCHAR, name VARCHAR, labels {_KV})",
    "labels": _KV,
    "system_labels": _KV,
    "location": "STRUCT(location VARCHAR, region VARCHAR)",
    "tags": _TAG,
    "transaction_type": "VARCHAR",
    "seller_name": "VARCHAR",
    "export_time": "VARCHAR",
    "cost": "VARCHAR",
    "currency": "VARCHAR",
    "usage": "STRUCT(amount VARCHAR, unit VARCHAR, amount_in_pricing_units VARCHAR, pricing_unit VARCHAR)",
    "credits": _CREDIT,
    "invoice": "STRUCT(month VARCHAR)",
    "cost_type": "VARCHAR",
    "cost_at_list": "VARCHAR",
    "resource": "STRUCT(name VARCHAR, global_name VARCHAR)",
}


@dataclass(frozen=True)
class Leaf:
    """One value the mapping uses: its path in the nested export, how to parse it, and whether every row
    needs it (the flattened CSV names it with the path joined by dots)."""

    path: tuple[str, ...]
    kind: str = "text"  # text | num | ts | list
    not_null: bool = False
    list_type: str = ""  # JSON schema of a list leaf, for from_json
    sql_type: str = ""  # DuckDB type of a list leaf

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


_KV_JSON = '[{"key": "VARCHAR", "value": "VARCHAR"}]'
LEAVES: dict[str, Leaf] = {
    "account": Leaf(("billing_account_id",), not_null=True),
    "service": Leaf(("service", "description"), not_null=True),
    "sku_id": Leaf(("sku", "id")),
    "sku": Leaf(("sku", "description")),
    "start": Leaf(("usage_start_time",), "ts", not_null=True),
    "end": Leaf(("usage_end_time",), "ts", not_null=True),
    "project_id": Leaf(("project", "id")),
    "project_name": Leaf(("project", "name")),
    "project_labels": Leaf(("project", "labels"), "list", list_type=_KV_JSON, sql_type=_KV),
    "labels": Leaf(("labels",), "list", list_type=_KV_JSON, sql_type=_KV),
    "system_labels": Leaf(("system_labels",), "list", list_type=_KV_JSON, sql_type=_KV),
    "tags": Leaf(("tags",), "list", sql_type=_TAG,
                 list_type='[{"key": "VARCHAR", "value": "VARCHAR", "inherited": "VARCHAR", "namespace": "VARCHAR"}]'),
    "location": Leaf(("location", "location")),
    "region": Leaf(("location", "region")),
    "transaction_type": Leaf(("transaction_type",)),
    "seller_name": Leaf(("seller_name",)),
    "export_time": Leaf(("export_time",), "ts"),
    "cost": Leaf(("cost",), "num", not_null=True),
    "currency": Leaf(("currency",), not_null=True),
    "usage_amount": Leaf(("usage", "amount"), "num"),
    "usage_unit": Leaf(("usage", "unit")),
    "pricing_amount": Leaf(("usage", "amount_in_pricing_units"), "num"),
    "pricing_unit": Leaf(("usage", "pricing_unit")),
    "credits": Leaf(("credits",), "list", sql_type=_CREDIT,
                    list_type='[{"name": "VARCHAR", "amount": "VARCHAR", "full_name": "VARCHAR", "id": "VARCHAR", '
                              '"type": "VARCHAR"}]'),
    "invoice_month": Leaf(("invoice", "month"), not_null=True),
    "cost_type": Leaf(("cost_type",)),
    "cost_at_list": Leaf(("cost_at_list",), "num"),
    "resource_name": Leaf(("resource", "name")),
    "resource_global_name": Leaf(("resource", "global_name")),
}

# BigQuery's text form of a TIMESTAMP in JSON and CSV extracts: "2025-06-10 00:00:00 UTC", with a fraction of a
# second only when there is one. Parsed with strptime first (much cheaper than the general ss_ts).
_BQ_TIMESTAMP = "['%Y-%m-%d %H:%M:%S UTC', '%Y-%m-%d %H:%M:%S.%f UTC']"

# Columns every export has; a file without them is not a billing export (JSON: checked on the first record,
# which Google always writes with these keys).
REQUIRED = ("account", "service", "start", "end", "cost", "currency", "invoice_month")

# A Python literal or JSON token: a quoted string, a bare word or number, or punctuation (blanks are skipped).
_TOKEN = r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^\s,:{}\[\]'"]+|[,:{}\[\]]"""
_TOKEN_OR_BLANK = "(?:" + _TOKEN + r"|\s+)"
# One token as JSON: a single-quoted Python string is re-quoted (\' unescaped, " escaped), \xNN escapes become
# \u00NN, and None/True/False become null/true/false; JSON tokens pass unchanged.
_TOKEN_TO_JSON = r"""CASE
    WHEN tok[1] = '''' THEN '"' || regexp_replace(replace(replace(tok[2:-2], '\''', ''''), '"', '\"'),
                                                '\\x([0-9a-fA-F]{2})', '\\u00\1', 'g') || '"'
    WHEN tok[1] = '"' THEN regexp_replace(tok, '\\x([0-9a-fA-F]{2})', '\\u00\1', 'g')
    WHEN tok = 'None' THEN 'null' WHEN tok = 'True' THEN 'true' WHEN tok = 'False' THEN 'false'
    ELSE tok END"""

_CREDITS = "coalesce(list_sum(list_transform({credits}, lambda cr: ss_num(cr.amount, x_line, 'credits.amount'))), 0)"
_NET = f"CAST({{cost}} + {_CREDITS} AS DECIMAL(38, 12))"
# The first committed-use-discount credit of a row (resource-based or spend-based "dollar base"), NULL without one;
# and whether the row is a commitment fee (SKUs "Commitment v1: ...", "Commitment - dollar based v1: ...").
_CUD = ("(list_filter({credits}, lambda cr: cr.type IN ('COMMITTED_USAGE_DISCOUNT', "
        "'COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE'))[1])")
_CUD_FEE = "starts_with(lower({sku}), 'commitment')"
_MONTH_START = ("coalesce(CASE WHEN length({invoice_month}) = 6 AND {invoice_month} BETWEEN '199001' AND '210012' "
                "THEN try_strptime({invoice_month}, '%Y%m') END, error(format('line {}, column \"invoice.month\": "
                "\"{}\" is not a month (expected YYYYMM such as 202506)', x_line, {invoice_month})))")
_PACIFIC_TO_UTC = "timezone('UTC', timezone('America/Los_Angeles', {}))"


def _tag_members(pairs: str, key: str) -> str:
    """``"key":"value"`` texts of a list of key/value structs, empty values left out."""
    return (f"list_transform(list_filter({pairs}, lambda lbl: lbl.value <> ''), "
            f"lambda lbl: to_json({key})::VARCHAR || ':' || to_json(lbl.value)::VARCHAR)")


# The JSON object is written as text (keys and values escaped by to_json): about twice as fast as building a MAP
# and serialising it. Keys cannot repeat: label keys are unique per list and the four sources never share a key
# (see the module docstring). Empty values are dropped, as ss_tags_from_pairs does.
_TAG_MEMBERS = [_tag_members("{labels}", "lbl.key"), _tag_members("{system_labels}", "lbl.key"),
                _tag_members("{project_labels}", "'project:' || lbl.key"),
                _tag_members("{tags}", "concat_ws('/', lbl.namespace, lbl.key)")]
_TAGS = ("CAST(nullif('{' || array_to_string(list_concat(list_concat(list_concat("
         f"{_TAG_MEMBERS[0]}, {_TAG_MEMBERS[1]}), {_TAG_MEMBERS[2]}), {_TAG_MEMBERS[3]}), ',') || '}}', '{{}}') "
         "AS JSON)")


class Gcp(Adapter):
    """The leaves of the nested export (:data:`LEAVES`) are the fields of a flattened CSV; in a nested file (JSON,
    Parquet) each leaf is an expression over a top-level column, which the plan derives (``DERIVED``)."""

    NAME = "gcp"
    DESCRIPTION = ("Google Cloud Billing export, standard and detailed (BigQuery extract as NDJSON or Parquet; "
                   "CSV with dotted names)")
    SOURCE_KINDS = ("json", "parquet", "csv")
    DERIVED = tuple(LEAVES)

    FIELDS: ClassVar[dict[str, Field]] = {
        key: Field((leaf.dotted, "_".join(leaf.path)) if len(leaf.path) > 1 else (leaf.dotted,),
                   "text" if leaf.kind == "list" else leaf.kind, required=key in REQUIRED, not_null=leaf.not_null)
        for key, leaf in LEAVES.items()
    }

    FOCUS: ClassVar[dict[str, str]] = {
        "BillingAccountId": "{account}",
        "SubAccountId": "{project_id}",
        "SubAccountName": "{project_name}",
        "BillingCurrency": "{currency}",
        "BillingPeriodStart": _PACIFIC_TO_UTC.format(_MONTH_START),
        "BillingPeriodEnd": _PACIFIC_TO_UTC.format(f"({_MONTH_START}) + INTERVAL 1 MONTH"),
        "ChargePeriodStart": "{start}",
        "ChargePeriodEnd": "{end}",
        "ChargeDescription": "{sku}",
        "BilledCost": _NET,
        "EffectiveCost": _NET,
        "ListCost": "coalesce({cost_at_list}, {cost})",
        "ContractedCost": "{cost}",
        "ServiceProviderName": "'Google Cloud'",
        "InvoiceIssuerName": ("CASE WHEN {transaction_type} = 'THIRD_PARTY_AGENCY' AND {seller_name} IS NOT NULL "
                              "THEN {seller_name} ELSE 'Google Cloud' END"),
        "ServiceName": "{service}",
        "SkuId": "{sku_id}",
        "RegionId": "coalesce({region}, {location})",
        "ResourceId": "{resource_global_name}",
        "ResourceName": "{resource_name}",
        "CommitmentDiscountId": f"CASE WHEN {_CUD_FEE} THEN {{sku_id}} ELSE coalesce({_CUD}.id, {_CUD}.name) END",
        "CommitmentDiscountType": f"CASE WHEN {_CUD_FEE} OR {_CUD} IS NOT NULL THEN 'Committed Use Discount' END",
        "CommitmentDiscountCategory": (
            f"CASE WHEN {_CUD_FEE} THEN "
            "CASE WHEN contains(lower({sku}), 'dollar based') THEN 'Spend' ELSE 'Usage' END "
            f"WHEN {_CUD}.type = 'COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE' THEN 'Spend' "
            f"WHEN {_CUD} IS NOT NULL THEN 'Usage' END"
        ),
        "CommitmentDiscountName": f"CASE WHEN {_CUD_FEE} THEN {{sku}} ELSE coalesce({_CUD}.full_name, {_CUD}.name) END",
        "CommitmentDiscountStatus": f"CASE WHEN NOT {_CUD_FEE} AND {_CUD} IS NOT NULL THEN 'Used' END",
        "ConsumedQuantity": "{usage_amount}",
        "ConsumedUnit": "{usage_unit}",
        "PricingQuantity": "{pricing_amount}",
        "PricingUnit": "{pricing_unit}",
        "Tags": _TAGS,
        "x_ServiceKey": "{service}",
        "x_ChargeType": "coalesce({cost_type}, 'regular')",
        "x_ExportTime": "{export_time}",
        "x_ListCostSource": "CASE WHEN {cost_at_list} IS NULL THEN 'cost' END",
    }

    def detect(self, columns: tuple[str, ...], options: LoadOptions) -> int:
        names = {self.canonical(c) for c in columns}
        if not {"billing_account_id", "cost", "usage_start_time"} <= names:
            return 0
        nested = {"service", "invoice"} & names
        flat = {"service.description", "service_description", "invoice.month", "invoice_month"} & names
        return 100 if nested or flat else 40

    def plan(self, header: Header, options: LoadOptions, source: Source) -> Plan:
        if source.kind == "csv":
            lists = {key: _list_from_text(f"{{{key}}}", leaf) for key, leaf in LEAVES.items() if leaf.kind == "list"}
            return self.bind(header, options, derived=lists)
        return self._nested_plan(header, options, source)

    def _nested_plan(self, header: Header, options: LoadOptions, source: Source) -> Plan:
        names = set(self.column_names(header.columns))
        missing = sorted({LEAVES[key].path[0] for key in REQUIRED} - names)
        if missing:
            raise MissingColumnsError(f"missing required column(s) for the {self.NAME} format: {'; '.join(missing)}")
        if source.kind == "json":
            types: dict[str, duckdb.DuckDBPyType | None] = dict.fromkeys(JSON_SCHEMA)
            reader_columns = tuple(JSON_SCHEMA)
            read_options = "columns = {" + ", ".join(
                f"{sql_string(name)}: {sql_string(kind)}" for name, kind in JSON_SCHEMA.items()) + "}"
        else:
            types = {self.canonical(name): kind for name, kind in header.type_of().items()}
            reader_columns, read_options = (), ""
        fields: dict[str, Field] = {}
        derived: dict[str, str] = {}
        for key, leaf in LEAVES.items():
            top = leaf.path[0]
            if top not in types:
                derived[key] = _null(leaf)
            elif len(leaf.path) == 1:
                fields[top], derived[key] = _top_level(leaf, types[top])
            elif types[top] is not None and leaf.path[1] not in _struct_fields(types[top]):
                derived[key] = _null(leaf)
            else:
                fields.setdefault(top, Field((top,), "raw"))
                derived[key] = _nested_leaf(leaf)
        return self.bind(header, options, fields=fields, derived=derived, read_options=read_options,
                         reader_columns=reader_columns)


def _nested_leaf(leaf: Leaf) -> str:
    """A leaf inside a top-level struct (the export has no nested timestamps)."""
    value = f"struct_extract({{{leaf.path[0]}}}, {sql_string(leaf.path[1])})"
    if leaf.kind == "num":
        value = f"ss_num({value}, x_line, {sql_string(leaf.dotted)})"
    if leaf.not_null:
        value = f"ss_required({value}, x_line, {sql_string(leaf.dotted)})"
    return value


def _top_level(leaf: Leaf, kind: duckdb.DuckDBPyType | None) -> tuple[Field, str]:
    """The field of a top-level column and the expression for it (Parquet types decide how to read it)."""
    name = leaf.path[0]
    type_id = kind.id if kind is not None else "varchar"
    if leaf.kind == "list" or (leaf.kind == "ts" and type_id == "timestamp"):
        return Field((name,), "raw", not_null=leaf.not_null), f"{{{name}}}"
    if leaf.kind != "ts":
        return Field((name,), leaf.kind, not_null=leaf.not_null), f"{{{name}}}"
    if type_id == "timestamp with time zone":
        expr = f"timezone('UTC', {{{name}}})"
    else:  # text as BigQuery writes it; anything else goes through the checked ss_ts (and its error)
        expr = f"coalesce(try_strptime({{{name}}}, {_BQ_TIMESTAMP}), ss_ts({{{name}}}, x_line, {sql_string(name)}))"
    if leaf.not_null:
        expr = f"ss_required({expr}, x_line, {sql_string(name)})"
    return Field((name,), "raw"), expr


def _struct_fields(kind: duckdb.DuckDBPyType) -> set[str]:
    return {name for name, _ in kind.children} if kind.id == "struct" else set()


def _null(leaf: Leaf) -> str:
    if leaf.not_null:  # only reachable for a Parquet file whose struct lacks a required sub-field
        return (f"error(format('line {{}}, column \"{leaf.dotted}\": missing, but every row needs a value', "
                f"x_line))")
    return {"num": "NULL::DECIMAL(38, 12)", "ts": "NULL::TIMESTAMP", "list": f"NULL::{leaf.sql_type}"}.get(
        leaf.kind, "NULL::VARCHAR")


def _list_from_text(value: str, leaf: Leaf) -> str:
    """A JSON list or a Python list literal of dicts, as a typed list; a clear error when it is neither."""
    as_json = (f"array_to_string(list_transform(regexp_extract_all({value}, {sql_string(_TOKEN)}), "
               f"lambda tok: {_TOKEN_TO_JSON}), '')")
    example = ("[{{''name'': ''Free tier'', ''amount'': -1.5}}]" if leaf.dotted == "credits"
               else "[{{''key'': ''team'', ''value'': ''ml''}}]")
    # A CASE, not AND: DuckDB evaluates both sides of an AND, and json_type() raises on invalid JSON.
    valid = (f"CASE WHEN regexp_replace({value}, {sql_string(_TOKEN_OR_BLANK)}, '', 'g') <> '' "
             f"OR NOT json_valid({as_json}) THEN false WHEN json_type({as_json}) <> 'ARRAY' THEN false "
             f"ELSE coalesce(list_bool_and(list_transform(json_extract({as_json}, '$[*]'), "
             f"lambda el: json_type(el) = 'OBJECT')), true) END")
    message = (f"'line {{}}, column \"{leaf.dotted}\": \"{{}}\" is not a list of objects (expected a JSON list or "
               f"a Python list literal such as {example})'")
    return (f"CASE WHEN {value} IS NULL OR trim({value}) = '[]' THEN NULL::{leaf.sql_type} "
            f"WHEN NOT ({valid}) THEN error(format({message}, x_line, {value})) "
            f"ELSE from_json({as_json}, {sql_string(leaf.list_type)}) END")
