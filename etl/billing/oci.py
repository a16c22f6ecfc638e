"""Oracle Cloud Infrastructure cost reports in OCI's own format (CSV or CSV.GZ, ``reports/cost-csv/…``).

Columns are ``lineItem/…``, ``product/…``, ``usage/…`` and ``cost/…`` names, then one ``tags/<namespace>.<key>``
column per tag. Real files differ from the documentation in casing (``lineItem/tenantId``,
``product/Description``, ``lineItem/backreferenceNo``), so names are matched case-insensitively; older files
have ``cost/billingUnitReadable`` where newer ones have ``cost/skuUnitDescription``, and only newer ones have
``cost/attributedCost``/``usage/attributedUsage`` (not used: they re-attribute shared costs and would count
them twice). ``lineItem/intervalUsageStart`` is written without seconds (``2023-11-13T10:00Z``) while the end
has them; both parse.

Mapping decisions:

* **BilledCost = EffectiveCost = ListCost = ContractedCost = cost/myCost** (billedQuantity × unitPrice,
  overage included). ``cost/myCostOverage`` is only the overage part and is empty in practice (focus_converters
  maps BilledCost to it; that is a bug). The report carries no list price, so ListCost is the cost.
* **BillingCurrency** = cost/currencyCode; **BillingAccountId** = lineItem/tenantId (the tenancy, which is what
  is invoiced); **SubAccountId/Name** = product/compartmentId/compartmentName.
* **ChargePeriodStart/End** = lineItem/intervalUsageStart/End; **BillingPeriodStart/End** = the UTC calendar
  month of the start (OCI bills tenancies by calendar month).
* **ChargeClass** = Correction for rows with lineItem/isCorrection true: corrections arrive as new rows that
  point at the corrected one (lineItem/backReferenceNo), and they are kept as rows so that sums stay right.
* **ServiceName** = product/service (also the service-category key), **SkuId** = cost/productSku,
  **ChargeDescription** = product/Description, **RegionId** = product/region, **ResourceId** =
  product/resourceId, **ConsumedQuantity** = **PricingQuantity** = usage/billedQuantity (the quantity the unit
  price applies to), **ConsumedUnit** = **PricingUnit** = cost/skuUnitDescription, else
  cost/billingUnitReadable.
* **Tags**: one key per non-empty ``tags/…`` column, named as in the header after ``tags/`` (e.g.
  ``Oracle-Tags.CreatedBy``), case and odd characters (``\\``, ``.``) kept.
* ChargeCategory Usage (native charge type ``usage``), ChargeFrequency Usage-Based, ServiceProviderName and
  InvoiceIssuerName Oracle.
* Cost reports are **incremental** (a file about every six hours, late rows up to a day, corrections as new
  rows), so the replace unit is the file: every report of a month stays loaded, and loading a report again
  replaces only its own rows (``--replace period`` overrides).
"""

from __future__ import annotations

import json
from typing import ClassVar

from etl.billing.base import Adapter, Field, LoadOptions, Plan, sql_string
from etl.billing.sources import Header, Source

TAG_PREFIX = "tags/"
_INTERVAL_FORMATS = "['%Y-%m-%dT%H:%MZ', '%Y-%m-%dT%H:%M:%SZ']"


def _interval(field: str, column: str) -> str:
    """strptime on OCI's two forms first, the checked ss_ts (and its error) for anything else."""
    return f"coalesce(try_strptime({{{field}}}, {_INTERVAL_FORMATS}), ss_ts({{{field}}}, x_line, '{column}'))"


_START = _interval("start", "lineItem/intervalUsageStart")


class Oci(Adapter):
    NAME = "oci"
    DESCRIPTION = "Oracle OCI cost reports (CSV, CSV.GZ: lineItem/…, cost/myCost, tags/… columns)"
    SOURCE_KINDS = ("csv",)
    REPLACE = "file"  # cost reports are incremental: see the module docstring
    DERIVED = ("tags",)

    FIELDS: ClassVar[dict[str, Field]] = {
        "account": Field(("lineitem/tenantid",), required=True, not_null=True),
        "start": Field(("lineitem/intervalusagestart",), "raw", required=True, not_null=True),  # parsed in FOCUS
        "end": Field(("lineitem/intervalusageend",), "raw", required=True, not_null=True),
        "service": Field(("product/service",), required=True, not_null=True),
        "compartment_id": Field(("product/compartmentid",)),
        "compartment_name": Field(("product/compartmentname",)),
        "region": Field(("product/region",)),
        "resource": Field(("product/resourceid",)),
        "quantity": Field(("usage/billedquantity",), "num"),
        "sku": Field(("cost/productsku",)),
        "description": Field(("product/description",)),
        "cost": Field(("cost/mycost",), "num", required=True, not_null=True),
        "currency": Field(("cost/currencycode",), required=True, not_null=True),
        "unit": Field(("cost/skuunitdescription", "cost/billingunitreadable")),
        "correction": Field(("lineitem/iscorrection",)),
    }

    FOCUS: ClassVar[dict[str, str]] = {
        "BillingAccountId": "{account}",
        "SubAccountId": "{compartment_id}",
        "SubAccountName": "{compartment_name}",
        "BillingCurrency": "{currency}",
        "BillingPeriodStart": f"CAST(date_trunc('month', {_START}) AS TIMESTAMP)",
        "BillingPeriodEnd": f"CAST(date_trunc('month', {_START}) + INTERVAL 1 MONTH AS TIMESTAMP)",
        "ChargePeriodStart": _START,
        "ChargePeriodEnd": _interval("end", "lineItem/intervalUsageEnd"),
        "ChargeClass": (
            "CASE WHEN {correction} IS NULL OR lower(trim({correction})) = 'false' THEN NULL "
            "WHEN lower(trim({correction})) = 'true' THEN 'Correction' "
            "ELSE error(format('line {}, column \"lineItem/isCorrection\": \"{}\" is not true or false', "
            "x_line, {correction})) END"
        ),
        "ChargeDescription": "{description}",
        "ChargeFrequency": "'Usage-Based'",
        "BilledCost": "{cost}",
        "EffectiveCost": "{cost}",
        "ListCost": "{cost}",
        "ContractedCost": "{cost}",
        "ServiceProviderName": "'Oracle'",
        "InvoiceIssuerName": "'Oracle'",
        "ServiceName": "{service}",
        "SkuId": "{sku}",
        "RegionId": "{region}",
        "ResourceId": "{resource}",
        "ConsumedQuantity": "{quantity}",
        "ConsumedUnit": "{unit}",
        "PricingQuantity": "{quantity}",
        "PricingUnit": "{unit}",
        "Tags": "{tags}",
        "x_ServiceKey": "{service}",
        "x_ChargeType": "'usage'",
    }

    def canonical(self, column: str) -> str:
        """Lower case, BOM and blanks stripped; nothing else, since tag names may contain anything."""
        return column.replace("\ufeff", "").strip().lower()

    def detect(self, columns: tuple[str, ...], options: LoadOptions) -> int:
        names = {self.canonical(c) for c in columns}
        if not {"lineitem/intervalusagestart", "cost/mycost"} <= names:
            return 0
        return 100 if "lineitem/tenantid" in names else 60

    def plan(self, header: Header, options: LoadOptions, source: Source) -> Plan:
        fields = dict(self.FIELDS)
        pairs: list[str] = []
        seen: set[str] = set()
        for original, name in zip(header.columns, self.column_names(header.columns), strict=True):
            key = original.replace("\ufeff", "").strip()[len(TAG_PREFIX):]
            if not name.startswith(TAG_PREFIX) or not key or key in seen:
                continue
            seen.add(key)
            field_key = f"tag_{len(pairs)}"
            fields[field_key] = Field((name,))
            pairs.append(f"CASE WHEN {{{field_key}}} <> '' THEN {_literal(json.dumps(key) + ':')} "
                         f"|| to_json({{{field_key}}})::VARCHAR END")
        # Written as JSON text (keys escaped here, values by to_json): much cheaper than a MAP per row. Empty values
        # are left out, as ss_tags_from_pairs does; no tag at all gives NULL.
        tags = (f"CAST(nullif('{{' || concat_ws(',', {', '.join(pairs)}) || '}}', '{{}}') AS JSON)" if pairs
                else "NULL::JSON")
        return self.bind(header, options, fields=fields, derived={"tags": tags})


def _literal(text: str) -> str:
    """A SQL string literal whose braces cannot be mistaken for the engine's ``{field}`` placeholders."""
    return sql_string(text).replace("{", "' || chr(123) || '").replace("}", "' || chr(125) || '")
