"""Azure Cost Management cost details (formerly usage details): actual and amortized, CSV or Parquet.

Dialects, told apart by their header (after :func:`canonical_name`, so case, a BOM and localised headers such
as ``Abonnement-GUID (SubscriptionGuid)`` do not matter):

* **EA cost details**, versions 2020-01-01, 2021-01-01, 2021-10-01, 2023-12-01-preview and 2024-08-01
  (``CostInBillingCurrency``, ``BillingCurrencyCode``, ``Date``; the 2021-10-01 column order differs, which
  does not matter here). 2020-01-01 and 2021-01-01 lack ``benefitId``/``benefitName`` (and 2020-01-01
  ``CostAllocationRuleName``); 2024-08-01 adds ``AccountId`` and ``ResourceLocationNormalized``.
* **C360** (the layout of Microsoft's finops-toolkit EA samples and of the ``actualcost_c360`` schema FinOps
  hubs ingest): ``Cost``, ``BillingCurrency``, ``Product``, ``InvoiceSection``.
* **MCA** camelCase (``costInBillingCurrency``, ``billingCurrency``, ``paygCostInBillingCurrency``,
  ``exchangeRatePricingToBilling``, ``InstanceName``…), with casing mixed within one file; the older
  PascalCase MCA 2019-10-01 names (``ExchangeRate``, ``MarketPrice``, ``BillingCurrencyCode``) too.
* **Legacy** usage details: pay-as-you-go 2019-11-01 and EA 2019-07-02-preview/2019-10-01
  (``PreTaxCost``, ``UsageDateTime``, ``SubscriptionGuid``, ``UsageQuantity``, ``InstanceId``), localised
  headers included. Pay-as-you-go has a ``Currency`` column; the legacy EA versions have none.

Dates may be ISO, ``M/D/YYYY`` or ``MM/DD/YYYY``; ``Tags`` may lack its braces (both handled by the parse
macros). ``AdditionalInfo`` is service metadata, not tags, and is not loaded.

**Dataset.** An Azure export is either *actual* (what is invoiced: a reservation purchase is one charge) or
*amortized* (purchases spread over the usage they cover). Which one a file is comes from, in this order,
``--dataset``, the manifest's ``exportConfig.type``, the file name (containing ``amortized`` or ``actual``,
any case), else ``actual``. The cost column feeds every measure either way; when a period holds both datasets
the loader keeps BilledCost from the actual rows and EffectiveCost/ListCost/ContractedCost from the amortized
rows (:meth:`Azure.after_load`), so amortized data is what feeds EffectiveCost.

**Mapping** (FOCUS column = source; ``{x}`` names a field below):

* BilledCost, EffectiveCost = the cost column (CostInBillingCurrency / costInBillingCurrency / Cost /
  PreTaxCost), in the billing currency.
* ContractedCost = UnitPrice x Quantity (UnitPrice is the negotiated price), else the cost. ListCost =
  paygCostInBillingCurrency where a row has it, else PayGPrice (MarketPrice) x Quantity, else
  ContractedCost. MCA prices are in the pricing currency, so a file with an exchange-rate column multiplies
  them by ``exchangeRatePricingToBilling`` (empty rate = 1). A price or quantity of 0 on a row whose cost is
  not 0 is treated as unknown (EA writes PayGPrice 0 on reservation usage and purchases) and falls back the same
  way, and a product takes the sign of a negative cost (refunds). Products are exact, rounded to 12 decimals
  (``ss_mul`` in ``sql/macros.sql``, which takes DOUBLE's product only where it is provably that result). The
  legacy ``ResourceRate`` is a blended effective rate, not a contracted price, so legacy files get
  ContractedCost = ListCost = cost.
* BillingCurrency = BillingCurrencyCode / BillingCurrency / billingCurrency / Currency. An export without
  any of them is rejected unless ``--currency CODE`` names the agreement's currency; it is never guessed.
* BillingAccountId/Name = BillingAccountId/Name; rows without one (legacy files, MPA partner exports) use the
  subscription id and name, as OpenCost does. SubAccountId/Name = SubscriptionId (SubscriptionGuid) /
  SubscriptionName.
* BillingPeriodStart = BillingPeriodStartDate; BillingPeriodEnd = BillingPeriodEndDate + 1 day, because
  Azure writes the last day of the period (inclusive) and FOCUS ends are exclusive; an end already one
  month after the start is kept as is. Without billing-period columns or values (legacy files; some MCA
  files leave them empty) the period is the calendar month of the charge date.
* ChargePeriodStart = Date (UsageDateTime); ChargePeriodEnd = + 1 day (cost details rows are daily).
* ChargeCategory/ChargeClass from ChargeType through ``charge_category_map.csv`` (Usage, Purchase, Refund =
  Purchase/Correction, UnusedReservation, UnusedSavingsPlan, …; an unknown one rejects the file). Files
  without a ChargeType column (the legacy, usage-only datasets) are all ``Usage`` and ``Usage-Based``, and
  the load says so. ChargeFrequency from Frequency: OneTime = One-Time, Recurring, UsageBased = Usage-Based.
* PricingCategory from PricingModel through ``pricing_category_map.csv`` (OnDemand/On Demand = Standard,
  Reservation/SavingsPlan = Committed, Spot = Dynamic).
* ServiceProviderName = Microsoft; InvoiceIssuerName = the reseller (resellerName) when there is one, else
  Microsoft.
* ServiceName = MeterCategory, else ConsumedService, else the product name; the same value is the
  x_ServiceKey looked up in ``service_category_map.csv``.
* ChargeDescription = MeterName, else ProductName (Product). SkuId = MeterId, else PartNumber (ProductId).
* RegionId = ResourceLocationNormalized, else ResourceLocation, lower-cased; RegionName = Location (MCA),
  else MeterRegion.
* ResourceId = ResourceId / InstanceId / InstanceName; ResourceName; ResourceType (legacy files).
* CommitmentDiscountId = benefitId, else ReservationId; CommitmentDiscountType = ``Savings Plan`` for a
  ``/microsoft.billingbenefits/`` id, ``Reservation`` for a ``/microsoft.capacity/`` id or a bare
  ReservationId. CommitmentDiscountCategory = Spend for a savings plan, Usage for a reservation;
  CommitmentDiscountName = benefitName with a benefitId, else ReservationName. CommitmentDiscountStatus (amortized
  cost details carry both parts): ChargeType UnusedReservation/UnusedSavingsPlan = Unused; a Usage row priced by
  the commitment (PricingModel Reservation/SavingsPlan) = Used; a Purchase gets none.
* ConsumedQuantity/PricingQuantity = Quantity (UsageQuantity); ConsumedUnit/PricingUnit = UnitOfMeasure
  (kept as Azure writes it, e.g. ``10K``, ``1 Hour``).
* Tags = Tags as a JSON object.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

import duckdb

from etl.billing import rollup
from etl.billing.base import Adapter, Field, LoadOptions, MissingColumnsError, Plan, sql_string
from etl.billing.sources import Header, Source

COST_NAMES = ("costinbillingcurrency", "pretaxcost", "cost")
DATE_NAMES = ("date", "usagedatetime")
CURRENCY_NAMES = ("billingcurrencycode", "billingcurrency", "currency")
# Columns only Azure cost details have; one of them must be present besides a cost and a date column.
AZURE_MARKERS = ("metercategory", "meterid", "consumedservice", "subscriptionguid", "metersubcategory")
_CHARGE_START = "{date}"
_PERIOD_START = "coalesce({period_start}, date_trunc('month', {date}))"

_FREQUENCY = (
    "CASE lower({frequency}) WHEN 'onetime' THEN 'One-Time' WHEN 'one-time' THEN 'One-Time' "
    "WHEN 'recurring' THEN 'Recurring' WHEN 'usagebased' THEN 'Usage-Based' WHEN 'usage-based' THEN 'Usage-Based' "
    "ELSE {frequency} END"
)
_CURRENCY_CODE = re.compile(r"[A-Za-z]{3}")


class Azure(Adapter):
    NAME = "azure"
    DESCRIPTION = ("Azure cost details, actual or amortized (CSV, Parquet): EA 2020-01-01..2024-08-01, C360, MCA "
                   "camelCase, legacy pay-as-you-go/EA (PreTaxCost), localised headers")
    SOURCE_KINDS = ("csv", "parquet")
    DERIVED = ("billing_currency", "native_charge_type", "charge_frequency", "contracted_cost", "list_cost")

    FIELDS: ClassVar[dict[str, Field]] = {
        # The cost first: on a row that is empty throughout, its error is the one reported.
        "cost": Field(COST_NAMES, "num", required=True, not_null=True),
        "date": Field(DATE_NAMES, "ts", required=True, not_null=True),
        "currency": Field(CURRENCY_NAMES, required=True, not_null=True),
        "account": Field(("billingaccountid",)),
        "account_name": Field(("billingaccountname",)),
        "subscription": Field(("subscriptionid", "subscriptionguid")),
        "subscription_name": Field(("subscriptionname",)),
        "period_start": Field(("billingperiodstartdate",), "ts"),
        "period_end": Field(("billingperiodenddate",), "ts"),
        "charge_type": Field(("chargetype",)),
        "frequency": Field(("frequency",)),
        "pricing_model": Field(("pricingmodel",)),
        "meter_category": Field(("metercategory",)),
        "consumed_service": Field(("consumedservice",)),
        "product": Field(("productname", "product")),
        "meter_name": Field(("metername",)),
        "meter_id": Field(("meterid",)),
        "part_number": Field(("partnumber", "productid")),
        "region": Field(("resourcelocationnormalized", "resourcelocation")),
        "region_name": Field(("location", "meterregion")),
        "resource_id": Field(("resourceid", "instanceid", "instancename")),
        "resource_name": Field(("resourcename",)),
        "resource_type": Field(("resourcetype",)),
        "benefit_id": Field(("benefitid",)),
        "reservation_id": Field(("reservationid",)),
        "benefit_name": Field(("benefitname",)),
        "reservation_name": Field(("reservationname",)),
        "quantity": Field(("quantity", "usagequantity", "consumedquantity"), "num"),
        "unit": Field(("unitofmeasure",)),
        "unit_price": Field(("unitprice",), "num"),
        "payg_price": Field(("paygprice", "marketprice"), "num"),
        "payg_cost": Field(("paygcostinbillingcurrency",), "num"),
        "exchange_rate": Field(("exchangeratepricingtobilling", "exchangerate"), "num"),
        "reseller": Field(("resellername",)),
        "tags": Field(("tags",), "json"),
    }

    FOCUS: ClassVar[dict[str, str]] = {
        "BillingAccountId": "coalesce({account}, {subscription})",
        "BillingAccountName": "CASE WHEN {account} IS NULL THEN {subscription_name} ELSE {account_name} END",
        "SubAccountId": "{subscription}",
        "SubAccountName": "{subscription_name}",
        "BillingPeriodStart": _PERIOD_START,
        "BillingPeriodEnd": (
            f"CASE WHEN {{period_end}} IS NULL THEN {_PERIOD_START} + INTERVAL 1 MONTH "
            f"WHEN {{period_end}} = {_PERIOD_START} + INTERVAL 1 MONTH THEN {{period_end}} "
            "ELSE {period_end} + INTERVAL 1 DAY END"
        ),
        "ChargePeriodStart": _CHARGE_START,
        "ChargePeriodEnd": f"{_CHARGE_START} + INTERVAL 1 DAY",
        "ChargeDescription": "coalesce({meter_name}, {product})",
        "BilledCost": "{cost}",
        "EffectiveCost": "{cost}",
        "ServiceProviderName": "'Microsoft'",
        "InvoiceIssuerName": "coalesce({reseller}, 'Microsoft')",
        "ServiceName": "coalesce({meter_category}, {consumed_service}, {product})",
        "SkuId": "coalesce({meter_id}, {part_number})",
        "RegionId": "lower({region})",
        "RegionName": "{region_name}",
        "ResourceId": "{resource_id}",
        "ResourceName": "{resource_name}",
        "ResourceType": "{resource_type}",
        "CommitmentDiscountId": "coalesce({benefit_id}, {reservation_id})",
        "CommitmentDiscountType": (
            "CASE WHEN contains(lower({benefit_id}), '/microsoft.billingbenefits/') THEN 'Savings Plan' "
            "WHEN contains(lower({benefit_id}), '/microsoft.capacity/') "
            "OR ({benefit_id} IS NULL AND {reservation_id} IS NOT NULL) THEN 'Reservation' END"
        ),
        "CommitmentDiscountCategory": (
            "CASE WHEN contains(lower({benefit_id}), '/microsoft.billingbenefits/') THEN 'Spend' "
            "WHEN contains(lower({benefit_id}), '/microsoft.capacity/') "
            "OR ({benefit_id} IS NULL AND {reservation_id} IS NOT NULL) THEN 'Usage' END"
        ),
        "CommitmentDiscountName": "CASE WHEN {benefit_id} IS NOT NULL THEN {benefit_name} ELSE {reservation_name} END",
        "CommitmentDiscountStatus": (
            "CASE WHEN coalesce({benefit_id}, {reservation_id}) IS NULL THEN NULL "
            "WHEN lower({charge_type}) IN ('unusedreservation', 'unusedsavingsplan') THEN 'Unused' "
            "WHEN lower(coalesce({charge_type}, 'usage')) = 'usage' "
            "AND lower({pricing_model}) IN ('reservation', 'savingsplan') THEN 'Used' END"
        ),
        "BillingCurrency": "{billing_currency}",
        "ChargeFrequency": "{charge_frequency}",
        "ListCost": "{list_cost}",
        "ContractedCost": "{contracted_cost}",
        "ConsumedQuantity": "{quantity}",
        "ConsumedUnit": "{unit}",
        "PricingQuantity": "{quantity}",
        "PricingUnit": "{unit}",
        "Tags": "{tags}",
        "x_ServiceKey": "coalesce({meter_category}, {consumed_service}, {product})",
        "x_ChargeType": "{native_charge_type}",
        "x_PricingModel": "{pricing_model}",
    }

    def detect(self, columns: tuple[str, ...], options: LoadOptions) -> int:
        """A cost column, a date column and one Azure-only column (MeterCategory, MeterId, ConsumedService…)."""
        names = {self.canonical(c) for c in columns}
        if "billedcost" in names:  # a FOCUS file (Azure's FocusCost export included)
            return 0
        if names.isdisjoint(COST_NAMES) or names.isdisjoint(DATE_NAMES) or names.isdisjoint(AZURE_MARKERS):
            return 0
        return 80

    def plan(self, header: Header, options: LoadOptions, source: Source) -> Plan:
        names = set(self.column_names(header.columns))

        def has(key: str) -> bool:
            return not names.isdisjoint(self.FIELDS[key].names)

        fields = dict(self.FIELDS)
        notes: list[str] = []
        if has("currency"):
            currency = "{currency}"
        elif options.currency:
            if not _CURRENCY_CODE.fullmatch(options.currency.strip()):
                raise MissingColumnsError(f"--currency {options.currency!r} is not a 3-letter ISO 4217 code")
            code = options.currency.strip().upper()
            fields.pop("currency")
            currency = sql_string(code)
            notes.append(f"no currency column: BillingCurrency = {code} (--currency)")
        else:
            raise MissingColumnsError(
                "missing required column(s) for the azure format: BillingCurrencyCode or BillingCurrency or "
                "Currency; this export has no currency column, so pass --currency CODE with the agreement's "
                "billing currency (for example --currency USD)"
            )
        if has("charge_type"):
            charge_type, frequency = "{charge_type}", _FREQUENCY
        else:
            charge_type, frequency = "'Usage'", f"coalesce({_FREQUENCY}, 'Usage-Based')"
            notes.append("no ChargeType column: every row is Usage")
        rate = has("exchange_rate")
        contracted = _priced("{unit_price}", "{cost}", rate)
        list_cost = _priced("{payg_price}", contracted, rate)
        if has("payg_cost"):
            list_cost = (f"CASE WHEN {{payg_cost}} IS NULL OR ({{payg_cost}} = 0 AND {{cost}} <> 0) "
                         f"THEN {list_cost} ELSE {{payg_cost}} END")
        dataset, reason = _dataset(options, source)
        derived = {"billing_currency": currency, "native_charge_type": charge_type, "charge_frequency": frequency,
                   "contracted_cost": contracted, "list_cost": list_cost}
        return self.bind(header, options, fields=fields, derived=derived, dataset=dataset,
                         notes=[f"dataset {dataset} ({reason})", *notes])

    def after_load(self, con: duckdb.DuckDBPyConnection, load_id: int) -> None:
        """Actual and amortized exports of one period coexist: once both are present, the actual rows carry
        BilledCost only and the amortized rows carry EffectiveCost, ListCost and ContractedCost only, so that
        every measure sums correctly over the union. A period with a single dataset keeps all its measures."""
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE both_datasets AS
            SELECT ServiceProviderName, BillingAccountId, BillingPeriodStart
            FROM cost_line
            WHERE x_Dataset IN ('actual', 'amortized')
              AND (ServiceProviderName, BillingAccountId, BillingPeriodStart) IN (
                  SELECT DISTINCT ServiceProviderName, BillingAccountId, BillingPeriodStart
                  FROM cost_line WHERE x_LoadId = ?)
            GROUP BY ALL
            HAVING min(x_Dataset) <> max(x_Dataset)  -- both; count(DISTINCT) held ~500 MiB at 5M rows
            """,
            [load_id],
        )
        if not con.execute("SELECT count(*) FROM both_datasets").fetchone()[0]:
            return
        for dataset, assignments in (("actual", "EffectiveCost = 0, ListCost = 0, ContractedCost = 0"),
                                     ("amortized", "BilledCost = 0")):
            con.execute(
                f"""
                UPDATE cost_line c SET {assignments}
                FROM both_datasets b
                WHERE c.x_Dataset = '{dataset}' AND c.ServiceProviderName = b.ServiceProviderName
                  AND c.BillingAccountId = b.BillingAccountId AND c.BillingPeriodStart = b.BillingPeriodStart
                """
            )
        rollup.mark_touched(con, """
            SELECT DISTINCT c.ServiceProviderName, c.BillingAccountId, CAST(c.ChargePeriodStart AS DATE)
            FROM cost_line c JOIN both_datasets b USING (ServiceProviderName, BillingAccountId, BillingPeriodStart)
            """)


def _priced(price: str, fallback: str, rate: bool) -> str:
    """``price`` x Quantity (x the pricing-to-billing rate) in DECIMAL(38,12); ``fallback`` where unknown."""
    product = f"ss_mul({price}, {{quantity}})"
    if rate:
        product = f"ss_mul({product}, CAST(coalesce({{exchange_rate}}, 1) AS DECIMAL(38, 12)))"
    # Conditions on the inputs, not the product, so that each row computes one product (DuckDB does not share
    # repeated subexpressions, and a product that needs ss_mul's exact rescale is costly).
    unknown = (f"{price} IS NULL OR {{quantity}} IS NULL "
               f"OR (({price} = 0 OR {{quantity}} = 0) AND {{cost}} <> 0)")
    return f"CASE WHEN {unknown} THEN {fallback} WHEN {{cost}} < 0 THEN -abs({product}) ELSE {product} END"


def _dataset(options: LoadOptions, source: Source) -> tuple[str, str]:
    """actual | amortized, and where that came from."""
    if options.dataset:
        return options.dataset, "--dataset"
    if source.dataset_hint:
        return source.dataset_hint, "manifest exportConfig.type"
    for name in (Path(source.label).name, *(f.name for f in source.files)):
        lowered = name.lower()
        if "amortized" in lowered or "amortised" in lowered:
            return "amortized", "file name"
        if "actual" in lowered:
            return "actual", "file name"
    return "actual", "default"
