"""AWS Cost and Usage Report: legacy CUR, its Athena/Parquet snake_case dialect, and CUR 2.0 (Data Exports).

One field list serves every dialect because :func:`canonical` is :func:`etl.billing.base.snake_name`:
``lineItem/UnblendedCost`` (legacy CSV) and ``line_item_unblended_cost`` (Athena, CUR 2.0) become the same
name. Files are CSV, CSV.GZ or Parquet. Legacy CUR columns vary month to month, so only the columns every CUR
has are required: ``bill/PayerAccountId``, ``bill/BillingPeriodStartDate``/``EndDate``,
``lineItem/LineItemType``, ``lineItem/UsageStartDate``/``EndDate``, ``lineItem/ProductCode``,
``lineItem/CurrencyCode`` and ``lineItem/UnblendedCost``. Everything else is used when present.

Mapping to FOCUS (names below are canonical snake names; "billed" means BilledCost of the same row):

* BilledCost = ``line_item_net_unblended_cost`` when that column exists and the row has a value, else
  ``line_item_unblended_cost`` (the invoice basis; the net column exists only for accounts with discounts).
* EffectiveCost (amortized) by ``line_item_line_item_type``:
  SavingsPlanCoveredUsage -> ``savings_plan_savings_plan_effective_cost``; SavingsPlanRecurringFee ->
  ``savings_plan_total_commitment_to_date - savings_plan_used_commitment`` (the unused commitment);
  SavingsPlanNegation and SavingsPlanUpfrontFee -> 0 (the negation cancels the covered usage's on-demand
  cost, the upfront fee is amortized into the covered usage); DiscountedUsage ->
  ``reservation_effective_cost``; RIFee -> ``reservation_unused_amortized_upfront_fee_for_billing_period +
  reservation_unused_recurring_fee`` (blank parts count as 0); Fee that carries a reservation ARN (an RI's
  upfront payment) -> 0, because that payment is amortized into DiscountedUsage and RIFee (focus_converters'
  rule double counts it); anything else -> billed. Where the export has AWS's ``net`` variant of a column
  (``savings_plan_net_savings_plan_effective_cost``, ``reservation_net_effective_cost``,
  ``reservation_net_unused_*``) and the row has a value, the net one is used, to match a net BilledCost.
  A row whose column is blank falls back to billed; a file without the column gets billed for that line
  type and the load says so in a note.
* ListCost = billed for Tax, Credit, Refund and the purchase types (Fee, RIFee, SavingsPlanRecurringFee,
  SavingsPlanUpfrontFee): they have no list price, and FOCUS says such charges' ListCost matches BilledCost
  (CUR writes 0 public cost for them, which would understate list). SavingsPlanNegation -> 0 (the covered
  usage row already carries the list cost). Otherwise ``pricing_public_on_demand_cost``, else
  ``pricing_public_on_demand_rate x line_item_usage_amount`` (a double product: an estimate), else billed.
* ContractedCost = billed (unblended, or net when present: the negotiated rate before commitments).
* BillingAccountId / Name = ``bill_payer_account_id`` (text, leading zeros kept) / ``bill_payer_account_name``
  (CUR 2.0 only). SubAccountId / Name = ``line_item_usage_account_id`` / ``line_item_usage_account_name``.
* BillingCurrency = ``line_item_currency_code``. Billing period = ``bill_billing_period_start_date`` /
  ``end_date``; charge period = ``line_item_usage_start_date`` / ``end_date`` (both UTC).
* ChargeCategory and ChargeClass: from ``x_ChargeType = line_item_line_item_type`` through
  ``sql/seed/charge_category_map.csv`` (an unknown type rejects the file). ChargeFrequency: RIFee and
  SavingsPlanRecurringFee Recurring; Fee, SavingsPlanUpfrontFee, Tax, Credit, Refund One-Time; the rest
  (usage and the usage discounts) Usage-Based. ChargeDescription = ``line_item_line_item_description``.
* PricingCategory via ``x_PricingModel``: SavingsPlan for SavingsPlanCoveredUsage/Negation, Reserved for
  DiscountedUsage, Spot for a usage type containing ``SpotUsage``, else ``pricing_term``, else
  ``pricing_purchase_option``, else OnDemand for plain Usage rows (no term means on-demand rates).
* ServiceProviderName = AWS. InvoiceIssuerName = ``bill_invoicing_entity``, else "Amazon Web Services, Inc."
  (AWS invoices Marketplace charges too). ServiceName = ``product_product_name``, else the CUR 2.0 product
  map's ``product_name``, else ``line_item_product_code``; ``x_ServiceKey = line_item_product_code`` gives
  the ServiceCategory through ``service_category_map.csv``.
* RegionId = ``product_region_code``, else ``product_region``, else the product map's ``region``.
  RegionName = ``product_location`` when ``product_location_type`` is blank or "AWS Region".
  ResourceId = ``line_item_resource_id``; SkuId = ``product_sku``.
* CommitmentDiscountId = the savings plan ARN, else the reservation ARN; CommitmentDiscountType
  "Savings Plan" / "Reserved Instance" accordingly. Legacy ``...ARN``/``...Arn`` and Athena ``..._a_r_n``
  spellings are all accepted. CommitmentDiscountCategory: Spend for a savings plan, Usage for a reservation.
  CommitmentDiscountName: the ARN's last segment (the plan's or reservation's id; the CUR has no name column).
  CommitmentDiscountStatus: Used on SavingsPlanCoveredUsage and DiscountedUsage (EffectiveCost is the commitment
  cost the usage consumed), Unused on SavingsPlanRecurringFee and RIFee (EffectiveCost is the unused commitment,
  above); the negation and upfront-fee rows of a commitment get none.
* ConsumedQuantity / ConsumedUnit = ``line_item_usage_amount`` / ``pricing_unit`` on usage rows (Usage,
  DiscountedUsage, SavingsPlanCoveredUsage), NULL otherwise (a Tax row's "1" is not consumption).
  PricingQuantity / PricingUnit the same, also on the purchase types.
* Tags, a JSON object; blank values are left out. Keys keep the export's own spelling:
  legacy ``resourceTags/user:CostCenter`` -> ``user:CostCenter`` and ``resourceTags/aws:createdBy`` ->
  ``aws:createdBy`` (taken from the original header, not the snake name); Athena
  ``resource_tags_user_cost_center`` -> ``user_cost_center``; CUR 2.0 ``resource_tags`` map -> its keys
  (``user_cost_center``). Cost categories get the prefix ``costCategory/``: legacy ``costCategory/Charge
  type`` -> ``costCategory/Charge type``, Athena ``cost_category_team`` and the CUR 2.0 ``cost_category``
  map's ``team`` -> ``costCategory/team``. A CUR 2.0 ``tags`` map column (already prefixed keys such as
  ``resourceTags/...``) is used as written instead of ``resource_tags``/``cost_category`` when present, and
  split-out ``resource_tags_*``/``cost_category_*`` columns are ignored when their map column is there, so no
  key appears twice. Other column groups (e.g. koku's ``noTags/*``) are not tags.

In CUR 2.0 CSV the map columns are JSON text (checked: a value that is not a JSON object rejects the file);
in Parquet they are MAP columns. Parquet strings may be empty rather than NULL; the engine reads an empty text value
of a Parquet file as NULL, as in a CSV, and ``pricing_public_on_demand_rate`` (a string column in CUR 2.0) is parsed
with the checked number macro after blanking. ``bill_invoice_id`` stays blank until AWS finalises a month; a restated
month simply replaces the billing period (replace unit = payer account + billing period), so load the latest
export of a month last. The part files of one export (``...-00001``, ``...-00002``) or the files its manifest
lists load together as one unit (see ``sources.py``); a single part loaded on its own replaces the period alone,
so the load notes when it has sibling parts.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from etl.billing.base import Adapter, Field, LoadOptions, Plan, snake_name, sql_string
from etl.billing.sources import Header, Source

ISSUER = "Amazon Web Services, Inc."
# CUR 2.0 key-value columns: MAP(VARCHAR, VARCHAR) in Parquet, JSON text in CSV.
MAP_COLUMNS = {"product_map": "product", "tags_map": "tags", "resource_tags_map": "resource_tags",
               "cost_category_map": "cost_category"}

USAGE_TYPES = ("usage", "discountedusage", "savingsplancoveredusage")
PURCHASE_TYPES = ("fee", "rifee", "savingsplanrecurringfee", "savingsplanupfrontfee")
_PART_FILE = re.compile(r"^(?P<stem>.+)-(?P<part>\d+)(?P<ext>(?:\.[A-Za-z0-9]+)+)$")
_KIND = "lower({charge_type})"
_BILLED = "coalesce({net_unblended}, {unblended})"  # the net column exists only for accounts with discounts
_NO_LIST_PRICE = ", ".join(sql_string(t) for t in ("tax", "credit", "refund", *PURCHASE_TYPES))
_USAGE = ", ".join(sql_string(t) for t in USAGE_TYPES)
_PRICED = ", ".join(sql_string(t) for t in USAGE_TYPES + PURCHASE_TYPES)


class Aws(Adapter):
    NAME = "aws"
    DESCRIPTION = "AWS Cost and Usage Report: legacy CUR CSV, Athena snake_case, CUR 2.0 (CSV.GZ, Parquet)"
    SOURCE_KINDS = ("csv", "parquet")
    DERIVED = ("effective", "list_from_rate", "map_product_name", "map_region", "tags")

    FIELDS: ClassVar[dict[str, Field]] = {
        "payer": Field(("bill_payer_account_id",), required=True, not_null=True),
        "payer_name": Field(("bill_payer_account_name",)),
        "period_start": Field(("bill_billing_period_start_date",), "ts", required=True, not_null=True),
        "period_end": Field(("bill_billing_period_end_date",), "ts", required=True, not_null=True),
        "invoicing_entity": Field(("bill_invoicing_entity",)),
        "usage_account": Field(("line_item_usage_account_id",)),
        "usage_account_name": Field(("line_item_usage_account_name",)),
        "charge_type": Field(("line_item_line_item_type",), required=True, not_null=True),
        "charge_start": Field(("line_item_usage_start_date",), "ts", required=True, not_null=True),
        "charge_end": Field(("line_item_usage_end_date",), "ts", required=True, not_null=True),
        "product_code": Field(("line_item_product_code",), required=True),
        "usage_type": Field(("line_item_usage_type",)),
        "resource": Field(("line_item_resource_id",)),
        "usage_amount": Field(("line_item_usage_amount",), "num"),
        "currency": Field(("line_item_currency_code",), required=True, not_null=True),
        "unblended": Field(("line_item_unblended_cost",), "num", required=True, not_null=True),
        "net_unblended": Field(("line_item_net_unblended_cost",), "num"),
        "description": Field(("line_item_line_item_description",)),
        "product_name": Field(("product_product_name",)),
        "region_code": Field(("product_region_code",)),
        "region": Field(("product_region",)),
        "location": Field(("product_location",)),
        "location_type": Field(("product_location_type",)),
        "sku": Field(("product_sku",)),
        "public_cost": Field(("pricing_public_on_demand_cost",), "num"),
        "public_rate": Field(("pricing_public_on_demand_rate",)),  # parsed in the expression (a string in CUR 2.0)
        "term": Field(("pricing_term",)),
        "purchase_option": Field(("pricing_purchase_option",)),
        "pricing_unit": Field(("pricing_unit",)),
        "ri_arn": Field(("reservation_reservation_arn", "reservation_reservation_a_r_n")),
        "ri_effective": Field(("reservation_effective_cost",), "num"),
        "ri_net_effective": Field(("reservation_net_effective_cost",), "num"),
        "ri_unused_upfront": Field(("reservation_unused_amortized_upfront_fee_for_billing_period",), "num"),
        "ri_net_unused_upfront": Field(("reservation_net_unused_amortized_upfront_fee_for_billing_period",), "num"),
        "ri_unused_recurring": Field(("reservation_unused_recurring_fee",), "num"),
        "ri_net_unused_recurring": Field(("reservation_net_unused_recurring_fee",), "num"),
        "sp_arn": Field(("savings_plan_savings_plan_arn", "savings_plan_savings_plan_a_r_n")),
        "sp_effective": Field(("savings_plan_savings_plan_effective_cost",), "num"),
        "sp_net_effective": Field(("savings_plan_net_savings_plan_effective_cost",), "num"),
        "sp_total_commitment": Field(("savings_plan_total_commitment_to_date",), "num"),
        "sp_used_commitment": Field(("savings_plan_used_commitment",), "num"),
    }

    FOCUS: ClassVar[dict[str, str]] = {
        "BillingAccountId": "{payer}",
        "BillingAccountName": "{payer_name}",
        "SubAccountId": "{usage_account}",
        "SubAccountName": "{usage_account_name}",
        "BillingCurrency": "{currency}",
        "BillingPeriodStart": "{period_start}",
        "BillingPeriodEnd": "{period_end}",
        "ChargePeriodStart": "{charge_start}",
        "ChargePeriodEnd": "{charge_end}",
        "ChargeDescription": "{description}",
        "ChargeFrequency": (
            f"CASE WHEN {_KIND} IN ('rifee', 'savingsplanrecurringfee') THEN 'Recurring' "
            f"WHEN {_KIND} IN ('fee', 'savingsplanupfrontfee', 'tax', 'credit', 'refund') THEN 'One-Time' "
            "ELSE 'Usage-Based' END"
        ),
        "BilledCost": _BILLED,
        "EffectiveCost": "{effective}",
        "ListCost": (
            f"CASE WHEN {_KIND} IN ({_NO_LIST_PRICE}) THEN {_BILLED} "
            f"WHEN {_KIND} = 'savingsplannegation' THEN 0::DECIMAL(38, 12) "
            f"ELSE coalesce({{public_cost}}, {{list_from_rate}}, {_BILLED}) END"
        ),
        "ContractedCost": _BILLED,
        "ServiceProviderName": "'AWS'",
        "InvoiceIssuerName": f"coalesce({{invoicing_entity}}, {sql_string(ISSUER)})",
        "ServiceName": "coalesce({product_name}, {map_product_name}, {product_code})",
        "SkuId": "{sku}",
        "RegionId": "coalesce({region_code}, {region}, {map_region})",
        "RegionName": "CASE WHEN coalesce({location_type}, 'AWS Region') = 'AWS Region' THEN {location} END",
        "ResourceId": "{resource}",
        "CommitmentDiscountId": "coalesce({sp_arn}, {ri_arn})",
        "CommitmentDiscountType": ("CASE WHEN {sp_arn} IS NOT NULL THEN 'Savings Plan' "
                                   "WHEN {ri_arn} IS NOT NULL THEN 'Reserved Instance' END"),
        "CommitmentDiscountCategory": ("CASE WHEN {sp_arn} IS NOT NULL THEN 'Spend' "
                                       "WHEN {ri_arn} IS NOT NULL THEN 'Usage' END"),
        "CommitmentDiscountName": "split_part(coalesce({sp_arn}, {ri_arn}), '/', -1)",
        "CommitmentDiscountStatus": (
            f"CASE WHEN coalesce({{sp_arn}}, {{ri_arn}}) IS NULL THEN NULL "
            f"WHEN {_KIND} IN ('savingsplancoveredusage', 'discountedusage') THEN 'Used' "
            f"WHEN {_KIND} IN ('savingsplanrecurringfee', 'rifee') THEN 'Unused' END"
        ),
        "ConsumedQuantity": f"CASE WHEN {_KIND} IN ({_USAGE}) THEN {{usage_amount}} END",
        "ConsumedUnit": f"CASE WHEN {_KIND} IN ({_USAGE}) THEN {{pricing_unit}} END",
        "PricingQuantity": f"CASE WHEN {_KIND} IN ({_PRICED}) THEN {{usage_amount}} END",
        "PricingUnit": f"CASE WHEN {_KIND} IN ({_PRICED}) THEN {{pricing_unit}} END",
        "Tags": "{tags}",
        "x_ServiceKey": "{product_code}",
        "x_ChargeType": "{charge_type}",
        "x_PricingModel": (
            f"CASE WHEN {_KIND} IN ('savingsplancoveredusage', 'savingsplannegation') THEN 'SavingsPlan' "
            f"WHEN {_KIND} = 'discountedusage' THEN 'Reserved' "
            "WHEN {usage_type} LIKE '%SpotUsage%' THEN 'Spot' "
            f"ELSE coalesce({{term}}, {{purchase_option}}, CASE WHEN {_KIND} = 'usage' THEN 'OnDemand' END) END"
        ),
    }

    def canonical(self, column: str) -> str:
        return snake_name(column)

    def detect(self, columns: tuple[str, ...], options: LoadOptions) -> int:
        """A CUR has line-item types and unblended costs; the payer column makes it certain."""
        names = {self.canonical(c) for c in columns}
        if not {"line_item_line_item_type", "line_item_unblended_cost"} <= names:
            return 0
        return 100 if "bill_payer_account_id" in names else 60

    def plan(self, header: Header, options: LoadOptions, source: Source) -> Plan:
        names = self.column_names(header.columns)
        original = dict(zip(names, header.columns, strict=True))
        parquet = source.kind == "parquet"
        specs = dict(self.FIELDS)
        for key, column in MAP_COLUMNS.items():
            specs[key] = Field((column,), "raw" if parquet else "json")
        tags = tag_columns(header.columns)
        for index, (column, _) in enumerate(tags):
            specs[f"tag_{index}"] = Field((column,))
        present = {key for key, spec in specs.items() if not set(spec.names).isdisjoint(names)}
        effective, notes = _effective_cost(present)
        list_from_rate = "NULL::DECIMAL(38, 12)"
        if "public_rate" in present:
            label = sql_string(next(original[n] for n in specs["public_rate"].names if n in original))
            rate = f"ss_num(nullif(trim({{public_rate}}), ''), x_line, {label})"
            # the product of two DECIMAL(38,12) can overflow; a double product (via text, as ss_num) is enough here
            list_from_rate = (f"TRY_CAST(CAST(CAST({rate} AS DOUBLE) * CAST({{usage_amount}} AS DOUBLE) "
                              "AS VARCHAR) AS DECIMAL(38, 12))")
        map_product, map_region = "NULL::VARCHAR", "NULL::VARCHAR"
        if "product_map" in present:
            map_product, map_region = (
                ("{product_map}['product_name']", "{product_map}['region']") if parquet else
                ("json_extract_string({product_map}, '$.product_name')",
                 "json_extract_string({product_map}, '$.region')"))
        derived = {"effective": effective, "list_from_rate": list_from_rate, "map_product_name": map_product,
                   "map_region": map_region, "tags": _tags_expr(tags, present, parquet)}
        return self.bind(header, options, fields=specs, derived=derived, notes=notes + _part_file_note(source))


def tag_columns(columns: tuple[str, ...]) -> list[tuple[str, str]]:
    """(canonical column, tag key) for every per-tag column, keys from the original header (see module doc).

    Snake-case ``resource_tags_*`` / ``cost_category_*`` columns are skipped when the export also has the CUR 2.0
    map they were split out of, so a key never appears twice."""
    found: list[tuple[str, str]] = []
    seen: set[str] = set()
    names = Aws().column_names(columns)
    for original, name in zip(columns, names, strict=True):
        head, _, rest = original.strip().partition("/")
        if rest and head.lower() == "resourcetags":
            key = rest
        elif rest and head.lower() == "costcategory":
            key = "costCategory/" + rest
        elif not rest and name.startswith("resource_tags_") and "resource_tags" not in names:
            key = name.removeprefix("resource_tags_")
        elif not rest and name.startswith("cost_category_") and "cost_category" not in names:
            key = "costCategory/" + name.removeprefix("cost_category_")
        else:
            continue
        if key and key not in seen:
            seen.add(key)
            found.append((name, key))
    return found


def _effective_cost(present: set[str]) -> tuple[str, list[str]]:
    """The EffectiveCost CASE over the line-item type (by which columns the file has), and notes for line types that
    fall back to billed."""
    billed = _BILLED
    def first(*keys: str) -> str | None:
        parts = [f"{{{k}}}" for k in keys if k in present]
        return None if not parts else parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"

    branches: list[str] = []
    fallback: list[str] = []
    sp_effective = first("sp_net_effective", "sp_effective")
    if sp_effective:
        branches.append(f"WHEN 'savingsplancoveredusage' THEN coalesce({sp_effective}, {billed})")
    else:
        fallback.append("SavingsPlanCoveredUsage (no savingsPlan/SavingsPlanEffectiveCost)")
    if {"sp_total_commitment", "sp_used_commitment"} <= present:
        branches.append("WHEN 'savingsplanrecurringfee' THEN "
                        f"coalesce({{sp_total_commitment}} - {{sp_used_commitment}}, {billed})")
    else:
        fallback.append("SavingsPlanRecurringFee (no savingsPlan/TotalCommitmentToDate and UsedCommitment)")
    branches.append("WHEN 'savingsplannegation' THEN 0::DECIMAL(38, 12)")
    branches.append("WHEN 'savingsplanupfrontfee' THEN 0::DECIMAL(38, 12)")
    ri_effective = first("ri_net_effective", "ri_effective")
    if ri_effective:
        branches.append(f"WHEN 'discountedusage' THEN coalesce({ri_effective}, {billed})")
    else:
        fallback.append("DiscountedUsage (no reservation/EffectiveCost)")
    unused_upfront = first("ri_net_unused_upfront", "ri_unused_upfront")
    unused_recurring = first("ri_net_unused_recurring", "ri_unused_recurring")
    if unused_upfront or unused_recurring:
        parts = " + ".join(f"coalesce({p}, 0)" for p in (unused_upfront, unused_recurring) if p)
        branches.append(f"WHEN 'rifee' THEN CAST({parts} AS DECIMAL(38, 12))")
    else:
        fallback.append("RIFee (no reservation/UnusedAmortizedUpfrontFeeForBillingPeriod or UnusedRecurringFee)")
    if "ri_arn" in present:
        branches.append(f"WHEN 'fee' THEN CASE WHEN nullif({{ri_arn}}, '') IS NOT NULL THEN 0::DECIMAL(38, 12) "
                        f"ELSE {billed} END")
    expr = f"CASE lower({{charge_type}}) {' '.join(branches)} ELSE {billed} END"
    notes = [f"EffectiveCost = BilledCost for any {', '.join(fallback)} rows"] if fallback else []
    return expr, notes


def _tags_expr(tags: list[tuple[str, str]], present: set[str], parquet: bool) -> str:
    """``ss_tags_from_pairs`` over the per-tag columns and the CUR 2.0 maps (see the module doc for keys)."""
    lists: list[str] = []
    if tags:
        pairs = ", ".join(f"{{'k': {sql_string(key)}, 'v': {{tag_{i}}}}}" for i, (_, key) in enumerate(tags))
        lists.append(f"[{pairs}]")

    def entries(key: str, prefix: str = "") -> str:
        value = f"{{{key}}}" if parquet else f"CAST({{{key}}} AS MAP(VARCHAR, VARCHAR))"
        name = f"{sql_string(prefix)} || e.key" if prefix else "e.key"
        return f"list_transform(map_entries({value}), lambda e: {{'k': {name}, 'v': CAST(e.value AS VARCHAR)}})"

    if "tags_map" in present:
        lists.append(entries("tags_map"))
    else:
        if "resource_tags_map" in present:
            lists.append(entries("resource_tags_map"))
        if "cost_category_map" in present:
            lists.append(entries("cost_category_map", "costCategory/"))
    if not lists:
        return "NULL::JSON"
    combined = lists[0] if len(lists) == 1 else f"list_concat({', '.join(lists)})"
    return f"ss_tags_from_pairs({combined})"


def _part_file_note(source: Source) -> list[str]:
    """A note when the file is one of several parts of an export (each part would replace the period)."""
    if len(source.files) != 1:
        return []
    path = Path(source.files[0])
    match = _PART_FILE.match(path.name)
    if not match:
        return []
    siblings = [p for p in path.parent.glob(f"{match['stem']}-*{match['ext']}")
                if _PART_FILE.match(p.name) and _PART_FILE.match(p.name)["stem"] == match["stem"]]
    if len(siblings) < 2:
        return []
    return [f"{len(siblings)} part files of this export are in {path.parent} but only this one was loaded, and it "
            "replaces the whole billing period: load the folder or all parts together"]
