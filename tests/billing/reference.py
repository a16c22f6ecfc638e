"""Reference costs of every billing format, computed from the raw files independently of the loader.

Plain Python only: csv and gzip, json, pyarrow for Parquet, ast for Python list literals, tomllib for a generic
mapping, and Decimal; never DuckDB and never project code. Each rule is written from the adapter's module
docstring (``etl/billing/<format>.py``), so a disagreement means the engine and its documented mapping differ.

Numbers are taken as the warehouse stores them, DECIMAL(38,12) rounded half away from zero, and Azure's price
products are rounded as its docstring says, so totals match exactly except where the engine estimates (the AWS
list cost from a double product).
"""

from __future__ import annotations

import ast
import gzip
import json
import re
import tomllib
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

import pyarrow as pa
import pyarrow.parquet as pq

from tests.helpers import NULLS, ZERO, Totals, read_csv_rows

Row = dict[str, Any]


class Measures(NamedTuple):
    """One record's billing currency and its four FOCUS cost measures."""

    currency: str
    billed: Decimal
    effective: Decimal
    list_cost: Decimal
    contracted: Decimal


# ---- raw records ------------------------------------------------------------------------------------------------


def read_records(path: Path) -> list[Row]:
    """The records of a billing file as the loader counts them: CSV rows (``.csv``, ``.csv.gz``), NDJSON records
    (``.json``, ``.jsonl``, also gzipped), Parquet rows, or the rows of every file an Azure manifest lists."""
    name = path.name.lower()
    if name.endswith("manifest.json"):
        return [row for blob in manifest_files(path) for row in read_records(blob)]
    if name.endswith(".parquet"):
        return parquet_rows(path)
    if name.endswith((".json", ".json.gz", ".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")):
        return ndjson_records(path)
    return read_csv_rows(path)


def manifest_files(manifest: Path) -> list[Path]:
    """The data files an Azure export manifest lists, expected next to it (by the blob's file name)."""
    blobs = json.loads(manifest.read_text(encoding="utf-8"))["blobs"]
    return [manifest.parent / PurePosixPath(blob["blobName"]).name for blob in blobs]


def ndjson_records(path: Path) -> list[Row]:
    """The JSON records of an NDJSON file, numbers as Decimal (exactly as written)."""
    raw = path.read_bytes()
    text = (gzip.decompress(raw) if path.name.endswith(".gz") else raw).decode("utf-8")
    return [json.loads(line, parse_float=Decimal, parse_int=Decimal) for line in text.splitlines() if line.strip()]


def parquet_rows(path: Path) -> list[Row]:
    """The rows of a Parquet file, MAP columns as dicts (pyarrow gives them as lists of key/value pairs)."""
    table = pq.read_table(path)
    maps = [field.name for field in table.schema if pa.types.is_map(field.type)]
    rows = table.to_pylist()
    for row in rows:
        row.update({name: dict(row[name] or []) for name in maps})
    return rows


def num(value: object) -> Decimal | None:
    """A number as the warehouse stores it (DECIMAL(38,12), half away from zero); None when blank or NULL."""
    if value is None:
        return None
    text = repr(value) if isinstance(value, float) else str(value).strip()
    return None if text in NULLS else Decimal(text).quantize(Decimal("1E-12"), ROUND_HALF_UP)


def first(*values: Decimal | None) -> Decimal | None:
    """The first value that is not None (SQL's coalesce: a 0 counts)."""
    return next((value for value in values if value is not None), None)


def cells(row: Row, canonical: Callable[[str], str]) -> Row:
    return {canonical(key): value for key, value in row.items()}


def column(row: Row, *names: str) -> Any:
    """The cell of the first of ``names`` the file has: adapters pick a column by the header, not by the value."""
    return next((row[name] for name in names if name in row), None)


def lower(header: str) -> str:
    return header.replace("\ufeff", "").strip().lower()


def totals(rows: list[Row], measure: Callable[[Row], Measures]) -> dict[str, Totals]:
    """Rows and the sum of each measure per billing currency."""
    out: dict[str, Totals] = {}
    for row in rows:
        record = measure(row)
        total = out.setdefault(record.currency, Totals())
        total.rows += 1
        total.billed += record.billed
        total.effective += record.effective
        total.list_cost += record.list_cost
        total.contracted += record.contracted
    return out


def file_totals(measure: Callable[[Row], Measures], *paths: Path) -> dict[str, Totals]:
    """:func:`totals` over the records of one or more files."""
    return totals([row for path in paths for row in read_records(path)], measure)


# ---- FOCUS ------------------------------------------------------------------------------------------------------


def focus(row: Row) -> Measures:
    """BilledCost, EffectiveCost (1.0-preview: AmortizedCost); ListCost and ContractedCost, else EffectiveCost."""
    row = cells(row, lower)
    effective = num(column(row, "effectivecost", "amortizedcost"))
    return Measures(row["billingcurrency"], num(row["billedcost"]), effective,
                    first(num(row.get("listcost")), effective), first(num(row.get("contractedcost")), effective))


# ---- Azure ------------------------------------------------------------------------------------------------------

_LOCALISED = re.compile(r"^.*\(([^()]+)\)\s*$")


def azure_name(header: str) -> str:
    """A header in any casing, and a localised one (``Abonnement-GUID (SubscriptionGuid)``) by its English name."""
    name = header.replace("\ufeff", "").strip()
    match = _LOCALISED.match(name)
    return (match.group(1) if match and " " in name else name).strip().lower()


def azure_cell(row: Row, name: str) -> str | None:
    """The cell of one Azure column, found as :func:`azure_name` finds it; None when absent or empty."""
    cell = cells(row, azure_name).get(name.lower())
    return None if cell is None else cell.strip() or None


def azure(row: Row, currency: str | None = None) -> Measures:
    """BilledCost = EffectiveCost = the cost column. ContractedCost = UnitPrice x Quantity, else the cost; ListCost
    = paygCostInBillingCurrency, else PayGPrice (MarketPrice) x Quantity, else ContractedCost. Products are in
    the pricing currency where the file has an exchange-rate column (x the rate, empty = 1), take the sign of a
    negative cost, and fall back when the price or quantity is unknown or 0 on a costed row. ``currency`` is the
    --currency option, for an export without a currency column."""
    row = cells(row, azure_name)
    cost = num(column(row, "costinbillingcurrency", "pretaxcost", "cost"))
    code = column(row, "billingcurrencycode", "billingcurrency", "currency")
    if code is None:  # no currency column: the load needs --currency
        code = str(currency).upper()
    quantity = num(column(row, "quantity", "usagequantity", "consumedquantity"))
    has_rate = "exchangeratepricingtobilling" in row or "exchangerate" in row
    rate = first(num(column(row, "exchangeratepricingtobilling", "exchangerate")), Decimal(1))

    def priced(price: Decimal | None, fallback: Decimal) -> Decimal:
        if price is None or quantity is None or ((price == 0 or quantity == 0) and cost != 0):
            return fallback
        product = _round(price * quantity.quantize(Decimal("1E-10"), ROUND_HALF_UP), 12)
        if has_rate:
            product = _round(product * rate.quantize(Decimal("1E-10"), ROUND_HALF_UP), 12)
        return -abs(product) if cost < 0 else product

    contracted = priced(num(row.get("unitprice")), cost)
    list_cost = priced(num(column(row, "paygprice", "marketprice")), contracted)
    payg_cost = num(row.get("paygcostinbillingcurrency"))
    if payg_cost is not None and not (payg_cost == 0 and cost != 0):
        list_cost = payg_cost
    return Measures(code, cost, cost, list_cost, contracted)


def _round(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)


# ---- AWS --------------------------------------------------------------------------------------------------------

# The columns read below by their Athena / CUR 2.0 name, with their other spellings (lower case): the legacy CUR
# header, and for the reservation ARN the Athena form too.
_AWS_ALIASES: dict[str, tuple[str, ...]] = {
    "line_item_line_item_type": ("lineitem/lineitemtype",),
    "line_item_unblended_cost": ("lineitem/unblendedcost",),
    "line_item_net_unblended_cost": ("lineitem/netunblendedcost",),
    "line_item_currency_code": ("lineitem/currencycode",),
    "line_item_usage_amount": ("lineitem/usageamount",),
    "savings_plan_savings_plan_effective_cost": ("savingsplan/savingsplaneffectivecost",),
    "savings_plan_net_savings_plan_effective_cost": ("savingsplan/netsavingsplaneffectivecost",),
    "savings_plan_total_commitment_to_date": ("savingsplan/totalcommitmenttodate",),
    "savings_plan_used_commitment": ("savingsplan/usedcommitment",),
    "reservation_effective_cost": ("reservation/effectivecost",),
    "reservation_net_effective_cost": ("reservation/neteffectivecost",),
    "reservation_unused_amortized_upfront_fee_for_billing_period":
        ("reservation/unusedamortizedupfrontfeeforbillingperiod",),
    "reservation_net_unused_amortized_upfront_fee_for_billing_period":
        ("reservation/netunusedamortizedupfrontfeeforbillingperiod",),
    "reservation_unused_recurring_fee": ("reservation/unusedrecurringfee",),
    "reservation_net_unused_recurring_fee": ("reservation/netunusedrecurringfee",),
    "reservation_reservation_arn": ("reservation_reservation_a_r_n", "reservation/reservationarn"),
    "pricing_public_on_demand_cost": ("pricing/publicondemandcost",),
    "pricing_public_on_demand_rate": ("pricing/publicondemandrate",),
}
_AWS_UNUSED_FEES = ("reservation_unused_amortized_upfront_fee_for_billing_period",
                    "reservation_net_unused_amortized_upfront_fee_for_billing_period",
                    "reservation_unused_recurring_fee", "reservation_net_unused_recurring_fee")
_AWS_NO_LIST_PRICE = {"tax", "credit", "refund", "fee", "rifee", "savingsplanrecurringfee", "savingsplanupfrontfee"}


def aws_columns(row: Row) -> Row:
    """The record's cells under the snake names of ``_AWS_ALIASES``, whatever the dialect. Absent columns are left
    out: a RIFee's effective cost depends on whether the file has the unused-fee columns at all."""
    row = cells(row, lower)
    return {snake: row[name] for snake, aliases in _AWS_ALIASES.items() for name in (snake, *aliases) if name in row}


def aws(row: Row) -> Measures:
    """BilledCost = net unblended, else unblended; EffectiveCost by line-item type (see etl/billing/aws.py);
    ListCost = billed for taxes, credits, refunds and purchases, 0 for a Savings Plan negation, else the public
    on-demand cost, else rate x usage amount, else billed; ContractedCost = billed."""
    cell = aws_columns(row)

    def value(name: str) -> Decimal | None:
        return num(cell.get(name))

    kind = cell["line_item_line_item_type"].lower()
    billed = first(value("line_item_net_unblended_cost"), value("line_item_unblended_cost"))
    effective = billed
    if kind == "savingsplancoveredusage":
        effective = first(value("savings_plan_net_savings_plan_effective_cost"),
                          value("savings_plan_savings_plan_effective_cost"), billed)
    elif kind == "savingsplanrecurringfee":
        total, used = value("savings_plan_total_commitment_to_date"), value("savings_plan_used_commitment")
        effective = billed if total is None or used is None else total - used
    elif kind in ("savingsplannegation", "savingsplanupfrontfee"):
        effective = ZERO
    elif kind == "discountedusage":
        effective = first(value("reservation_net_effective_cost"), value("reservation_effective_cost"), billed)
    elif kind == "rifee" and not cell.keys().isdisjoint(_AWS_UNUSED_FEES):
        effective = (first(value("reservation_net_unused_amortized_upfront_fee_for_billing_period"),
                           value("reservation_unused_amortized_upfront_fee_for_billing_period"), ZERO)
                     + first(value("reservation_net_unused_recurring_fee"),
                             value("reservation_unused_recurring_fee"), ZERO))
    elif kind == "fee" and cell.get("reservation_reservation_arn"):
        effective = ZERO
    if kind in _AWS_NO_LIST_PRICE:
        list_cost = billed
    elif kind == "savingsplannegation":
        list_cost = ZERO
    else:
        rate, amount = value("pricing_public_on_demand_rate"), value("line_item_usage_amount")
        estimate = None if rate is None or amount is None else _round(rate * amount, 12)
        list_cost = first(value("pricing_public_on_demand_cost"), estimate, billed)
    return Measures(cell["line_item_currency_code"], billed, effective, list_cost, billed)


# ---- Google Cloud -----------------------------------------------------------------------------------------------


def gcp_list(value: object) -> list[dict[str, Any]]:
    """A repeated field: a list as exported, or a flattened CSV's JSON text or Python list literal."""
    if not isinstance(value, str):
        return value or []
    if value.strip() in NULLS:
        return []
    try:
        return json.loads(value, parse_float=Decimal)
    except json.JSONDecodeError:
        return ast.literal_eval(value)


def gcp(row: Row) -> Measures:
    """BilledCost = EffectiveCost = cost + the row's credits; ListCost = cost_at_list, else cost;
    ContractedCost = cost."""
    cost = num(row["cost"])
    net = cost + sum((num(credit["amount"]) for credit in gcp_list(row.get("credits"))), ZERO)
    return Measures(row["currency"], net, net, first(num(row.get("cost_at_list")), cost), cost)


# ---- Oracle OCI -------------------------------------------------------------------------------------------------


def oci(row: Row) -> Measures:
    """Every measure is cost/myCost."""
    row = cells(row, lower)
    cost = num(row["cost/mycost"])
    return Measures(row["cost/currencycode"], cost, cost, cost, cost)


# ---- generic CSV with a TOML mapping -----------------------------------------------------------------------------


def generic(mapping: Path) -> Callable[[Row], Measures]:
    """The measures a mapping file gives: each FOCUS column from its ``[columns]`` header or its ``[constants]``
    value; EffectiveCost, ListCost and ContractedCost default to BilledCost."""
    spec = tomllib.loads(mapping.read_text(encoding="utf-8"))
    headers = {focus_name: lower(header) for focus_name, header in spec.get("columns", {}).items()}
    constants = spec.get("constants", {})

    def measure(row: Row) -> Measures:
        row = cells(row, lower)

        def value(focus_name: str) -> Any:
            return row[headers[focus_name]] if focus_name in headers else constants.get(focus_name)

        billed = num(value("BilledCost"))
        costs = [billed if value(name) is None else num(value(name)) or ZERO
                 for name in ("EffectiveCost", "ListCost", "ContractedCost")]
        return Measures(value("BillingCurrency"), billed, *costs)

    return measure


def reference(fmt: str, currency: str | None = None, mapping: str | None = None) -> Callable[[Row], Measures]:
    """The measures of one record of format ``fmt`` loaded with --currency ``currency`` / --mapping ``mapping``."""
    if fmt == "azure":
        return partial(azure, currency=currency)
    if fmt == "generic":
        return generic(Path(str(mapping)))
    return {"focus": focus, "aws": aws, "gcp": gcp, "oci": oci}[fmt]
