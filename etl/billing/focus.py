"""FOCUS 1.0–1.3 cost and usage files (CSV or Parquet) from any provider.

Covers Azure's FocusCost export, AWS's FOCUS tables, Google's FOCUS table, OCI FOCUS reports and CoreWeave's
FOCUS export. Accepts the 1.0-preview names (AmortizedCost, ChargeType, UsageQuantity, Region), the 1.3
renames (ServiceProviderName, HostProviderName), the literal ``NULL``, ``YYYY-MM-DD HH:MM:SS`` timestamps and
M/D/YY dates. Enumerated values are normalised to the spec's spelling (``Usage-based`` becomes
``Usage-Based``). A file without ListCost or ContractedCost (older or usage-only exports) gets them from
EffectiveCost, and the load says so; so does a row whose ListCost or ContractedCost cell is empty.

Commitment columns (FOCUS 1.1): CommitmentDiscountCategory, Name and Status are read when the file has them. A
FOCUS 1.0 file has no CommitmentDiscountStatus, so a row with a CommitmentDiscountId gets it from ChargeSubcategory
(Used Commitment / Unused Commitment) when present, else, for a Usage row, as the spec defines the unused part:
Unused when ConsumedQuantity is null (nothing was consumed), Used otherwise. Other rows get none.
"""

from __future__ import annotations

from typing import ClassVar

from etl.billing.base import Adapter, Field, LoadOptions, MissingColumnsError, Plan
from etl.billing.sources import Header, Source


class Focus(Adapter):
    NAME = "focus"
    DESCRIPTION = "FOCUS 1.0-1.3 cost and usage (CSV, Parquet): Azure FocusCost, AWS/Google/OCI/CoreWeave FOCUS"
    SOURCE_KINDS = ("csv", "parquet")

    FIELDS: ClassVar[dict[str, Field]] = {
        "billed": Field(("billedcost",), "num", required=True, not_null=True),
        "effective": Field(("effectivecost", "amortizedcost"), "num", required=True, not_null=True),
        "list": Field(("listcost",), "num"),
        "contracted": Field(("contractedcost",), "num"),
        "account": Field(("billingaccountid",), required=True, not_null=True),
        "account_name": Field(("billingaccountname",)),
        "sub_account": Field(("subaccountid",)),
        "sub_account_name": Field(("subaccountname",)),
        "currency": Field(("billingcurrency",), required=True, not_null=True),
        "period_start": Field(("billingperiodstart",), "ts", required=True, not_null=True),
        "period_end": Field(("billingperiodend",), "ts", required=True, not_null=True),
        "charge_start": Field(("chargeperiodstart",), "ts", required=True, not_null=True),
        "charge_end": Field(("chargeperiodend",), "ts", required=True, not_null=True),
        "category": Field(("chargecategory", "chargetype"), required=True, not_null=True),
        "charge_class": Field(("chargeclass",)),
        "description": Field(("chargedescription",)),
        "frequency": Field(("chargefrequency",)),
        "provider": Field(("serviceprovidername", "providername"), required=True, not_null=True),
        "issuer": Field(("invoiceissuername", "invoiceissuer")),
        "service": Field(("servicename",), required=True, not_null=True),
        "service_category": Field(("servicecategory",)),
        "sku": Field(("skuid",)),
        "region": Field(("regionid", "region")),
        "region_name": Field(("regionname",)),
        "resource": Field(("resourceid",)),
        "resource_name": Field(("resourcename",)),
        "resource_type": Field(("resourcetype",)),
        "pricing_category": Field(("pricingcategory",)),
        "commitment_id": Field(("commitmentdiscountid",)),
        "commitment_type": Field(("commitmentdiscounttype",)),
        "commitment_category": Field(("commitmentdiscountcategory",)),
        "commitment_name": Field(("commitmentdiscountname",)),
        "commitment_status": Field(("commitmentdiscountstatus",)),
        "charge_subcategory": Field(("chargesubcategory",)),  # FOCUS 1.0 (Used/Unused Commitment)
        "consumed_quantity": Field(("consumedquantity", "usagequantity"), "num"),
        "consumed_unit": Field(("consumedunit", "usageunit")),
        "pricing_quantity": Field(("pricingquantity",), "num"),
        "pricing_unit": Field(("pricingunit",)),
        "tags": Field(("tags",), "json"),
    }

    FOCUS: ClassVar[dict[str, str]] = {
        "BillingAccountId": "{account}",
        "BillingAccountName": "{account_name}",
        "SubAccountId": "{sub_account}",
        "SubAccountName": "{sub_account_name}",
        "BillingCurrency": "{currency}",
        "BillingPeriodStart": "{period_start}",
        "BillingPeriodEnd": "{period_end}",
        "ChargePeriodStart": "{charge_start}",
        "ChargePeriodEnd": "{charge_end}",
        "ChargeCategory": "{category}",
        "ChargeClass": "CASE WHEN lower({charge_class}) = 'correction' THEN 'Correction' ELSE {charge_class} END",
        "ChargeDescription": "{description}",
        "ChargeFrequency": (
            "CASE lower({frequency}) WHEN 'usage-based' THEN 'Usage-Based' WHEN 'one-time' THEN 'One-Time' "
            "WHEN 'recurring' THEN 'Recurring' ELSE {frequency} END"
        ),
        "BilledCost": "{billed}",
        "EffectiveCost": "{effective}",
        "ListCost": "coalesce({list}, {effective})",
        "ContractedCost": "coalesce({contracted}, {effective})",
        "ServiceProviderName": "{provider}",
        "InvoiceIssuerName": "coalesce({issuer}, {provider})",
        "ServiceName": "{service}",
        "ServiceCategory": "{service_category}",
        "SkuId": "{sku}",
        "RegionId": "{region}",
        "RegionName": "{region_name}",
        "ResourceId": "{resource}",
        "ResourceName": "{resource_name}",
        "ResourceType": "{resource_type}",
        "PricingCategory": (
            "CASE lower({pricing_category}) WHEN 'standard' THEN 'Standard' WHEN 'dynamic' THEN 'Dynamic' "
            "WHEN 'committed' THEN 'Committed' WHEN 'other' THEN 'Other' ELSE {pricing_category} END"
        ),
        "CommitmentDiscountId": "{commitment_id}",
        "CommitmentDiscountType": "{commitment_type}",
        "CommitmentDiscountCategory": (
            "CASE lower({commitment_category}) WHEN 'spend' THEN 'Spend' WHEN 'usage' THEN 'Usage' "
            "ELSE {commitment_category} END"
        ),
        "CommitmentDiscountName": "{commitment_name}",
        "CommitmentDiscountStatus": (
            "CASE WHEN {commitment_id} IS NULL THEN NULL "
            "WHEN lower({commitment_status}) = 'used' THEN 'Used' WHEN lower({commitment_status}) = 'unused' "
            "THEN 'Unused' WHEN {commitment_status} IS NOT NULL THEN {commitment_status} "
            "WHEN lower({charge_subcategory}) = 'used commitment' THEN 'Used' "
            "WHEN lower({charge_subcategory}) = 'unused commitment' THEN 'Unused' "
            "WHEN lower({category}) = 'usage' THEN CASE WHEN {consumed_quantity} IS NULL THEN 'Unused' ELSE 'Used' END "
            "END"
        ),
        "ConsumedQuantity": "{consumed_quantity}",
        "ConsumedUnit": "{consumed_unit}",
        "PricingQuantity": "{pricing_quantity}",
        "PricingUnit": "{pricing_unit}",
        "Tags": "{tags}",
        "x_ServiceKey": "{service}",
    }

    def detect(self, columns: tuple[str, ...], options: LoadOptions) -> int:
        """BilledCost is FOCUS's signature column; :meth:`plan` then names any other missing column. A FOCUS file
        without costs (CoreWeave's preview export is usage-only) is recognised so it can be refused clearly."""
        names = {self.canonical(c) for c in columns}
        if "billedcost" in names:
            return 100 if "chargeperiodstart" in names else 50
        return 40 if {"chargeperiodstart", "consumedquantity", "servicename"} <= names else 0

    def plan(self, header: Header, options: LoadOptions, source: Source) -> Plan:
        names = set(self.column_names(header.columns))
        if "billedcost" not in names:
            raise MissingColumnsError(
                "this FOCUS file has usage but no cost columns (BilledCost, EffectiveCost); CoreWeave's FOCUS "
                "export is usage-only for now: load its invoices with --format generic --mapping FILE instead"
            )
        notes = [f"no {label} column: {label} = EffectiveCost" for key, label in
                 (("list", "ListCost"), ("contracted", "ContractedCost")) if names.isdisjoint(self.FIELDS[key].names)]
        return self.bind(header, options, notes=notes)
