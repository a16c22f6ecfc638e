"""Deterministic SYNTHETIC billing exports of a made-up AI company, in each provider's native layout.

The company, "DEMO Synthetic AI Labs", runs training and inference on five clouds from January 2024 to the
demo's end date (by default the last full day before it is built, so a fresh demo is fresh: one file per
provider and billing month, the last month partial up to the end date). GPU and AI compute grow throughout; from
June 2025 spend shifts toward Google Cloud (TPUs), Azure flattens, Oracle and CoreWeave keep growing, and AWS
picks up in November 2025. Every billing account name starts with ``DEMO`` and every row carries the tag
``spendscope-demo: synthetic`` so the data can never be mistaken for real spend.

Data is generated set-based in DuckDB (no Python loop over rows), one chunk at a time (a provider's billing
month): a table of that chunk's synthetic line items, then a ``COPY`` in the provider's format:

* Google Cloud: detailed usage cost export as BigQuery writes it to newline-delimited JSON (nested service,
  sku, project, labels, credits, invoice);
* Azure: EA cost details CSV (2024-08-01 schema, M/D/YYYY dates, Tags without braces), billed in EUR;
* AWS: CUR 2.0 Parquet (snake_case columns, ``resource_tags`` map), with an EC2 Reserved Instance;
* Oracle: OCI cost report CSV (``lineItem/…``, ``cost/myCost``, ``tags/…`` columns);
* CoreWeave: FOCUS 1.2 CSV.

Pseudo-random noise comes from hashes of (seed, row key), so the same seed gives byte-identical files
whatever the thread count.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

log = logging.getLogger(__name__)

START = date(2024, 1, 1)
PROVIDERS = ("Google Cloud", "Microsoft", "AWS", "Oracle", "CoreWeave")

# provider, service, sku, unit, unit price, share of the provider's spend, AI/GPU compute (grows faster)
SERVICES: tuple[tuple[str, str, str, str, float, float, bool], ...] = (
    ("Google Cloud", "Cloud TPU", "TPU v5p chip hours", "hour", 4.20, 0.45, True),
    ("Google Cloud", "Compute Engine", "Nvidia H100 80GB GPU running in Americas", "hour", 9.80, 0.25, True),
    ("Google Cloud", "Cloud Storage", "Standard Storage US Multi-region", "gibibyte month", 0.026, 0.12, False),
    ("Google Cloud", "BigQuery", "Analysis", "tebibyte", 6.25, 0.10, False),
    ("Google Cloud", "Networking", "Network Internet Egress from Americas to Americas", "gibibyte", 0.12, 0.08,
     False),
    ("Microsoft", "Virtual Machines", "ND H100 v5", "1 Hour", 98.32, 0.55, True),
    ("Microsoft", "Foundry Models", "Azure OpenAI GPT-4o Input Tokens", "1K", 0.0025, 0.20, True),
    ("Microsoft", "Storage", "Premium SSD v2 Capacity", "1 GiB/Month", 0.082, 0.15, False),
    ("Microsoft", "Bandwidth", "Standard Data Transfer Out", "1 GB", 0.087, 0.10, False),
    ("AWS", "AmazonEC2", "p5.48xlarge", "Hrs", 98.32, 0.50, True),
    ("AWS", "AmazonSageMaker", "ml.p4d.24xlarge-Training", "Hrs", 37.69, 0.15, True),
    ("AWS", "AmazonS3", "TimedStorage-ByteHrs", "GB-Mo", 0.023, 0.20, False),
    ("AWS", "AWSDataTransfer", "DataTransfer-Out-Bytes", "GB", 0.09, 0.15, False),
    ("Oracle", "COMPUTE", "BM.GPU.H100.8 - GPU Per Hour", "Hours", 10.00, 0.70, True),
    ("Oracle", "BLOCK_STORAGE", "Block Volume - Storage", "Gigabyte Storage Capacity Per Month", 0.0255, 0.15,
     False),
    ("Oracle", "NETWORK", "Outbound Data Transfer Zone 1", "Gigabytes", 0.0085, 0.15, False),
    ("CoreWeave", "GPU Compute", "gd-8xh100ib-i128", "Hours", 49.24, 0.80, True),
    ("CoreWeave", "AI Object Storage", "Hot Storage", "GB-Months", 0.11, 0.12, False),
    ("CoreWeave", "Networking", "Public IP Addresses", "Hours", 0.004, 0.08, False),
)

# Monthly spend in the billing currency: base at 2024-01, monthly growth, and multipliers from a date on.
SPEND_PROFILE: dict[str, tuple[float, float, tuple[tuple[str, float], ...]]] = {
    "Google Cloud": (180_000.0, 0.02, (("2025-06-01", 2.6),)),
    "Microsoft": (620_000.0, 0.04, (("2025-06-01", 0.85),)),
    "AWS": (140_000.0, 0.01, (("2025-11-01", 1.8),)),
    "Oracle": (60_000.0, 0.03, (("2024-06-01", 2.0), ("2025-07-01", 1.6))),
    "CoreWeave": (90_000.0, 0.06, (("2025-03-01", 1.4),)),
}
CURRENCY = {"Microsoft": "EUR"}  # the European subsidiary's Azure agreement; everything else bills in USD
ACCOUNTS = {
    "Google Cloud": ("01D3M0-5YNTH1-C0FFEE", "DEMO Synthetic AI Labs (Google Cloud)"),
    "Microsoft": ("70000001", "DEMO Synthetic AI Labs Europe (Azure EA)"),
    "AWS": ("000123456789", "DEMO Synthetic AI Labs (AWS payer)"),
    "Oracle": ("ocid1.tenancy.oc1..demosyntheticailabs", "DEMO Synthetic AI Labs (OCI)"),
    "CoreWeave": ("cw-demo-0001", "DEMO Synthetic AI Labs (CoreWeave)"),
}
DEMO_TAG_KEY, DEMO_TAG_VALUE = "spendscope-demo", "synthetic"
DEMO_TAG_KEYS = (DEMO_TAG_KEY, "user_" + DEMO_TAG_KEY.replace("-", "_"))  # in Tags; the second is CUR 2.0's form


def last_full_day(now: datetime | None = None) -> date:
    """Yesterday in UTC: the last day whose charges are complete, the demo's default end date."""
    return (now or datetime.now(UTC)).astimezone(UTC).date() - timedelta(days=1)


def write_demo_exports(out: Path, rows: int = 20_000, seed: int = 20250610,
                       providers: tuple[str, ...] = PROVIDERS, monthly_files: bool = True,
                       end: date | None = None) -> list[Path]:
    """Write the synthetic exports under ``out`` and return the files written (in load order).

    ``rows`` is the approximate total number of cost rows, split evenly over ``providers``. With
    ``monthly_files`` each provider gets one file per billing month, as its exports arrive; otherwise one file
    per provider (what the ingest benchmark uses). The data runs from 2024-01-01 to ``end`` (default
    :func:`last_full_day`); the same seed and end give the same files.

    Lines are generated and written one chunk (one provider's billing month) at a time, so memory stays that of
    a chunk whatever ``rows`` is; a single file per provider is appended to chunk after chunk.
    """
    end = end or last_full_day()
    if end < START:
        raise ValueError(f"the demo's end date {end} is before its first day {START}")
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        prepare(con, rows, providers, end)
        months = billing_months(end)
        written: list[Path] = []
        total = 0
        for provider in providers:
            export = EXPORTS[provider]
            chunks = (build_lines(con, seed, provider, month, min(_month_end(month), end)) for month in months)
            if monthly_files:
                for month, lines in zip(months, chunks, strict=True):
                    written.append(_copy(con, export.select, out / export.path(month.strftime("%Y%m")),
                                         export.options))
                    total += lines
            else:
                written.append(out / export.path(f"{START.year}-{end.year}"))
                total += _append(con, export, written[-1], chunks)
        log.info("wrote %d synthetic export files (%d rows) to %s", len(written), total, out)
        return written
    finally:
        con.close()


def write_day(out: Path, day: date, rows: int = 1_000, seed: int = 20250610, provider: str = "Oracle") -> Path:
    """One ``provider`` export file of the single ``day`` with about ``rows`` lines: a nightly incremental file
    (OCI cost reports are incremental, one replace unit per file). Its lines are those the demo has for that
    day at a size of ``rows`` lines a day."""
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        prepare(con, rows * ((day - START).days + 1), (provider,), day)
        build_lines(con, seed, provider, day, day)
        export = EXPORTS[provider]
        return _copy(con, export.select, out / export.path(day.strftime("%Y%m%d")), export.options)
    finally:
        con.close()


def billing_months(end: date) -> list[date]:
    """The first day of every billing month from START to ``end``."""
    return [date(START.year + m // 12, m % 12 + 1, 1)
            for m in range((end.year - START.year) * 12 + end.month - START.month + 1)]


def _month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def prepare(con: duckdb.DuckDBPyConnection, rows: int, providers: tuple[str, ...], end: date) -> None:
    """The small tables every chunk is built from: services with their resource counts, the spend profile, and
    each provider's line count per day and first line id (ids number the lines by provider, day, service and
    resource, as if the whole data set were one table)."""
    services = [s for s in SERVICES if s[0] in providers]
    days = (end - START).days + 1
    per_provider = max(rows // max(len(providers), 1), 1)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE demo_service (provider VARCHAR, service VARCHAR, sku VARCHAR, unit VARCHAR,"
        " unit_price DOUBLE, share DOUBLE, ai BOOLEAN, resources INTEGER)"
    )
    for provider in providers:
        mine = [s for s in services if s[0] == provider]
        resources = max(round(per_provider / (days * len(mine))), 1)
        con.executemany("INSERT INTO demo_service VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [(*s, resources) for s in mine])
    profile_rows = [(p, base, growth, date, mult) for p, (base, growth, steps) in SPEND_PROFILE.items()
                    for date, mult in (steps or (("2100-01-01", 1.0),))]
    con.execute("CREATE OR REPLACE TEMP TABLE demo_step (provider VARCHAR, base DOUBLE, growth DOUBLE, "
                "since DATE, mult DOUBLE)")
    con.executemany("INSERT INTO demo_step VALUES (?, ?, ?, ?, ?)", profile_rows)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE demo_provider AS "
        "SELECT provider, per_day, ? * (sum(per_day) OVER (ORDER BY provider) - per_day) AS lines_before "
        "FROM (SELECT provider, sum(resources) AS per_day FROM demo_service GROUP BY provider)", [days])
    con.execute("CREATE OR REPLACE TEMP TABLE demo_end AS SELECT ?::DATE AS last_month",
                [billing_months(end)[-1]])


def build_lines(con: duckdb.DuckDBPyConnection, seed: int, provider: str, first: date, last: date) -> int:
    """Replace ``demo_lines`` by ``provider``'s synthetic line items from ``first`` to ``last``: one per (day,
    service, resource). Returns their number."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE demo_lines AS
        WITH day AS (
            SELECT d::DATE AS day, date_trunc('month', d)::DATE AS month,
                   datediff('month', DATE '{START}', d) AS month_index,
                   day(last_day(d)) AS days_in_month
            FROM generate_series(DATE '{first}', DATE '{last}', INTERVAL 1 DAY) t(d)
        ),
        monthly AS (
            SELECT d.day, d.month, d.month_index, d.days_in_month, p.provider,
                   any_value(p.base) * pow(1 + any_value(p.growth), d.month_index)
                   * product(CASE WHEN d.day >= p.since THEN p.mult ELSE 1 END) AS month_spend
            FROM day d CROSS JOIN demo_step p
            WHERE p.provider = $provider
            GROUP BY d.day, d.month, d.month_index, d.days_in_month, p.provider
        ),
        line AS (
            SELECT m.*, s.service, s.sku, s.unit, s.unit_price, s.share, s.ai, r.r AS resource_no, s.resources,
                   (hash({seed}, m.provider, s.service, m.day, r.r) % 1000000) / 1000000.0 AS u1,
                   (hash({seed} + 1, m.provider, s.service, m.day, r.r) % 1000000) / 1000000.0 AS u2
            FROM monthly m
            JOIN demo_service s USING (provider)
            CROSS JOIN LATERAL (SELECT range AS r FROM range(s.resources)) r
        ),
        base AS (
            SELECT provider, day, month, month_index, service, sku, unit, ai,
                   format('{{}}-{{}}-{{:03d}}', lower(replace(provider, ' ', '')),
                          lower(regexp_replace(service, '\\W', '', 'g')), resource_no) AS resource,
                   CASE resource_no % 3 WHEN 0 THEN 'training' WHEN 1 THEN 'inference' ELSE 'research' END AS team,
                   round(month_spend / days_in_month * share * (CASE WHEN ai THEN 1 + 0.015 * month_index ELSE 1 END)
                         * (0.8 + 0.4 * u1) / resources, 6) AS cost,
                   unit_price,
                   round(u2 * 0.05 * month_spend / days_in_month * share / resources, 6) AS credit
            FROM line
        )
        SELECT base.*, round(cost / unit_price, 6) AS quantity, round(cost * 1.18, 6) AS list_cost,
               p.lines_before + datediff('day', DATE '{START}', DATE '{first}') * p.per_day
               + row_number() OVER (ORDER BY day, service, resource) AS id
        FROM base JOIN demo_provider p USING (provider)
        """,
        {"provider": provider},
    )
    [(count,)] = con.execute("SELECT count(*) FROM demo_lines").fetchall()
    return count


@dataclass(frozen=True)
class Export:
    """One provider's export format: the ``SELECT`` over a chunk's ``demo_lines`` (in line order), where its
    files go under the output folder (from a label: ``YYYYMM`` or the years covered) and the ``COPY`` options."""

    select: str
    path: Callable[[str], str]
    options: str

    @property
    def header(self) -> bool:
        return "HEADER" in self.options


def _copy(con: duckdb.DuckDBPyConnection, select: str, path: Path, options: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY ({select}) TO '{path}' ({options})")
    return path


def _append(con: duckdb.DuckDBPyConnection, export: Export, path: Path, chunks: Iterator[int]) -> int:
    """Write one file from every chunk ``chunks`` builds in turn (each yields its line count) and return the line
    count: a text format is appended chunk by chunk (the header once), Parquet gets a row group per chunk through
    pyarrow (DuckDB's own merge of Parquet parts buffers them all: 1.1 GB at 300,000 rows)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    total = 0
    if "PARQUET" in export.options:
        writer: pq.ParquetWriter | None = None
        try:
            for lines in chunks:
                batch = con.sql(export.select).to_arrow_table()
                writer = writer or pq.ParquetWriter(path, batch.schema, compression="snappy")
                writer.write_table(batch)
                total += lines
        finally:
            if writer:
                writer.close()
        return total
    part = path.with_name(path.name + ".part")
    try:
        with open(path, "wb") as target:
            for i, lines in enumerate(chunks):
                _copy(con, export.select, part, export.options)
                with open(part, "rb") as source:
                    if i and export.header:  # the first chunk wrote it
                        source.readline()
                    shutil.copyfileobj(source, target, 1 << 20)
                total += lines
        return total
    finally:
        part.unlink(missing_ok=True)


def _account(provider: str) -> tuple[str, str]:
    return ACCOUNTS[provider]


def google_cloud_export() -> Export:
    account, _ = _account("Google Cloud")
    select = f"""
        SELECT '{account}' AS billing_account_id,
               {{'id': upper(substr(md5(service), 1, 4) || '-' || substr(md5(service), 5, 4) || '-'
                       || substr(md5(service), 9, 4)), 'description': service}} AS service,
               {{'id': upper(substr(md5(sku), 1, 4) || '-' || substr(md5(sku), 5, 4) || '-' || substr(md5(sku), 9, 4)),
                 'description': sku}} AS sku,
               strftime(day::TIMESTAMP, '%Y-%m-%d %H:%M:%S UTC') AS usage_start_time,
               strftime(day::TIMESTAMP + INTERVAL 1 DAY, '%Y-%m-%d %H:%M:%S UTC') AS usage_end_time,
               {{'id': 'synthetic-' || team, 'number': '1000000000' || (hash(team) % 10)::VARCHAR,
                 'name': 'DEMO ' || team, 'labels': [{{'key': 'cost-center', 'value': team}}],
                 'ancestry_numbers': '/123456789/', 'ancestors': []::STRUCT(resource_name VARCHAR,
                 display_name VARCHAR)[]}} AS project,
               [{{'key': 'team', 'value': team}}, {{'key': '{DEMO_TAG_KEY}', 'value': '{DEMO_TAG_VALUE}'}}] AS labels,
               []::STRUCT(key VARCHAR, value VARCHAR)[] AS system_labels,
               {{'location': 'us-central1', 'country': 'US', 'region': 'us-central1', 'zone': 'us-central1-a'}}
                   AS location,
               'GOOGLE' AS transaction_type,
               strftime(day::TIMESTAMP + INTERVAL 30 HOUR, '%Y-%m-%d %H:%M:%S UTC') AS export_time,
               cost, 'USD' AS currency, 1 AS currency_conversion_rate,
               {{'amount': quantity * 3600, 'unit': 'seconds', 'amount_in_pricing_units': quantity,
                 'pricing_unit': unit}} AS usage,
               CASE WHEN credit > 0 THEN [{{'name': 'Committed use discount', 'amount': -credit, 'id': 'CUD-demo',
                                            'type': 'COMMITTED_USAGE_DISCOUNT'}}]
                    ELSE []::STRUCT(name VARCHAR, amount DOUBLE, id VARCHAR, type VARCHAR)[]
               END AS credits,
               {{'month': strftime(month, '%Y%m')}} AS invoice,
               'regular' AS cost_type, list_cost AS cost_at_list,
               {{'name': resource, 'global_name': '//compute.googleapis.com/projects/synthetic/' || resource}}
                   AS resource
        FROM demo_lines ORDER BY id
    """
    return Export(select, lambda label: f"google_cloud/gcp_billing_export_resource_v1_{label}.jsonl", "FORMAT JSON")


def azure_export() -> Export:
    account, name = _account("Microsoft")
    select = f"""
        SELECT 'DEMO Research' AS InvoiceSectionName, 'DEMO Platform' AS AccountName,
               'finops@demo.invalid' AS AccountOwnerId,
               '00000000-0000-4000-8000-0000000000' || lpad((hash(team) % 100)::VARCHAR, 2, '0') AS SubscriptionId,
               'demo-' || team AS SubscriptionName, 'rg-' || team AS ResourceGroup, 'westeurope' AS ResourceLocation,
               strftime(day, '%-m/%-d/%Y') AS Date, sku AS ProductName, service AS MeterCategory,
               sku AS MeterSubCategory, md5(sku)::UUID::VARCHAR AS MeterId, sku AS MeterName,
               'EU West' AS MeterRegion, unit AS UnitOfMeasure, quantity AS Quantity,
               unit_price AS EffectivePrice, cost AS CostInBillingCurrency, team AS CostCenter,
               CASE service WHEN 'Virtual Machines' THEN 'Microsoft.Compute'
                            WHEN 'Foundry Models' THEN 'Microsoft.CognitiveServices'
                            WHEN 'Storage' THEN 'Microsoft.Storage' ELSE 'Microsoft.Network' END AS ConsumedService,
               '/subscriptions/demo/resourceGroups/rg-' || team || '/providers/' || resource AS ResourceId,
               '"team": "' || team || '","{DEMO_TAG_KEY}": "{DEMO_TAG_VALUE}"' AS Tags,
               'MS-AZR-0017P' AS OfferId, '' AS AdditionalInfo, '' AS ServiceInfo1, '' AS ServiceInfo2,
               resource AS ResourceName, '' AS ReservationId, '' AS ReservationName,
               unit_price AS UnitPrice,  -- the EA negotiated price; PayGPrice is the retail one
               '' AS ProductOrderId, '' AS ProductOrderName, '' AS Term, 'Azure' AS PublisherType,
               'Microsoft' AS PublisherName, 'Usage' AS ChargeType, 'UsageBased' AS Frequency,
               'OnDemand' AS PricingModel, '' AS AvailabilityZone, '{account}' AS BillingAccountId,
               '{name}' AS BillingAccountName, 'EUR' AS BillingCurrencyCode,
               strftime(month, '%-m/%-d/%Y') AS BillingPeriodStartDate,
               strftime(last_day(month), '%-m/%-d/%Y') AS BillingPeriodEndDate,
               '{account}' AS BillingProfileId, '{name}' AS BillingProfileName, 'demo-section' AS InvoiceSectionId,
               'TRUE' AS IsAzureCreditEligible, 'AAA-00001' AS PartNumber, round(unit_price * 1.18, 6) AS PayGPrice,
               '' AS PlanName, CASE WHEN ai THEN 'Compute' ELSE 'Storage' END AS ServiceFamily,
               '' AS CostAllocationRuleName, '' AS benefitId, '' AS benefitName, 'demo-account' AS AccountId,
               'westeurope' AS ResourceLocationNormalized
        FROM demo_lines ORDER BY id
    """
    return Export(select, lambda label: f"azure/ea_actual_cost_{label}.csv", "FORMAT CSV, HEADER")


RESERVATION_ARN = "arn:aws:ec2:us-east-1:000123456789:reserved-instances/0d3e5f7a-demo-4c1b-9e2d-5a7b9c1d3e5"
RI_TERM_MONTHS = 36  # a 3-year No Upfront standard RI, renewed (a new ARN: the prefix + the term's number) at its end
# The AWS lines a demo EC2 Reserved Instance touches, without adding lines (the demo's row count is fixed), as real
# CUR 2.0 writes them: a third of the EC2 lines (each resource every third day, resource 000 from the 1st, so even a
# month's first day has some) are DiscountedUsage, unblended cost 0 (the RI fee pays for them) and
# reservation_effective_cost = reservation_recurring_fee_for_usage = 72 % of their on-demand cost (the RI's hourly rate
# is 72 % of on-demand; No Upfront, so nothing amortized upfront); the first day's AWSDataTransfer line of resource
# 000 becomes the month's RIFee of the reservation: unblended cost = the reserved hours x the RI's hourly rate, sized
# to the month's covered usage over a utilization of 85-94 % (by month), and reservation_unused_recurring_fee /
# reservation_unused_quantity its unused part. So, with no negation line needed, BilledCost = on-demand usage + the
# RI fee and EffectiveCost = on-demand usage + the covered usage at the RI rate + the unused fee: both exact, equal
# over a month (No Upfront). A chunk is one billing month, so the window sums the month (the open last month's fee
# covers its generated days).
_RESERVED_LINES = f"""
    SELECT * REPLACE (CASE WHEN ri = 'fee' THEN 'AmazonEC2' ELSE service END AS service,
                      CASE WHEN ri = 'fee' THEN ri_sku ELSE sku END AS sku,
                      CASE WHEN ri = 'fee' THEN ri_unit ELSE unit END AS unit,
                      CASE WHEN ri = 'fee' THEN true ELSE ai END AS ai,
                      CASE ri WHEN 'fee' THEN ri_fee WHEN 'covered' THEN 0.0 ELSE cost END AS cost,
                      CASE WHEN ri = 'fee' THEN round(ri_fee / ri_rate, 6) ELSE quantity END AS quantity,
                      CASE WHEN ri = 'fee' THEN 0.0 ELSE list_cost END AS list_cost),
           CASE WHEN ri = 'fee' THEN round(ri_fee - ri_month_used, 6) END AS ri_unused,
           '{RESERVATION_ARN}' || (month_index // {RI_TERM_MONTHS})::VARCHAR AS ri_arn,
           DATE '{START}' + to_months(month_index // {RI_TERM_MONTHS} * {RI_TERM_MONTHS}) AS ri_start
    FROM (
        SELECT *,
               CASE WHEN ri = 'fee' THEN coalesce(sum(ri_used) OVER (PARTITION BY month), 0) END AS ri_month_used,
               CASE WHEN ri = 'fee' THEN round(coalesce(sum(ri_used) OVER (PARTITION BY month), 0)
                                               / (0.85 + (hash(month) % 10) / 100.0), 6) END AS ri_fee
        FROM (
            SELECT *,
                   CASE WHEN service = 'AmazonEC2' AND (right(resource, 3)::INTEGER + day(day) + 2) % 3 = 0
                        THEN 'covered'
                        WHEN service = 'AWSDataTransfer' AND right(resource, 3) = '000' AND day(day) = 1 THEN 'fee'
                   END AS ri,
                   CASE WHEN ri = 'covered' THEN round(cost * 0.72, 6) END AS ri_used
            FROM demo_lines,
                 (SELECT sku AS ri_sku, unit AS ri_unit, round(unit_price * 0.72, 6) AS ri_rate
                  FROM demo_service WHERE service = 'AmazonEC2')
        )
    )
"""


def aws_export() -> Export:
    """CUR 2.0 (Data Exports) Parquet: the fixed schema in AWS's column order and types (costs double, rates
    string, map columns), one file per billing period under ``BILLING_PERIOD=YYYY-MM`` as AWS delivers it. A
    Reserved Instance covers part of the EC2 lines (see :data:`_RESERVED_LINES`)."""
    account, name = _account("AWS")
    reserved, reserved_fee = "CASE WHEN ri IS NOT NULL THEN ", "CASE WHEN ri = 'fee' THEN "
    rate = "(CASE WHEN ri IS NOT NULL THEN ri_rate ELSE unit_price END)::VARCHAR"
    unblended_rate = "(CASE ri WHEN 'covered' THEN 0.0 WHEN 'fee' THEN ri_rate ELSE unit_price END)::VARCHAR"
    ts = "%Y-%m-%dT%H:%M:%S.000Z"
    select = f"""
        SELECT 'Anniversary' AS bill_bill_type, 'AWS' AS bill_billing_entity,
               (month + INTERVAL 1 MONTH)::TIMESTAMP AS bill_billing_period_end_date,
               month::TIMESTAMP AS bill_billing_period_start_date,
               CASE WHEN month < (SELECT last_month FROM demo_end)  -- the open last month has no invoice yet
                    THEN 'EUINDE' || strftime(month, '%y%m') ELSE '' END AS bill_invoice_id,
               'Amazon Web Services, Inc.' AS bill_invoicing_entity, '{account}' AS bill_payer_account_id,
               '{name}' AS bill_payer_account_name,
               MAP {{}}::MAP(VARCHAR, VARCHAR) AS cost_category, MAP {{}}::MAP(VARCHAR, DOUBLE) AS discount,
               NULL::DOUBLE AS discount_bundled_discount, 0.0::DOUBLE AS discount_total_discount,
               md5(id::VARCHAR) AS identity_line_item_id,
               strftime(day, '%Y-%m-%dT00:00:00Z') || '/' || strftime(day + 1, '%Y-%m-%dT00:00:00Z')
                   AS identity_time_interval,
               'us-east-1a' AS line_item_availability_zone, coalesce(ri_used, cost) AS line_item_blended_cost,
               {rate} AS line_item_blended_rate, 'USD' AS line_item_currency_code,
               'Amazon Web Services, Inc.' AS line_item_legal_entity,
               CASE ri WHEN 'fee' THEN format('USD {{}} hourly fee per Linux/UNIX (Amazon VPC), {{}} instance '
                                              '(synthetic)', ri_rate, sku)
                       WHEN 'covered' THEN format('USD 0.0 per Linux/UNIX (Amazon VPC), {{}} reserved instance '
                                                  'applied (synthetic)', sku)
                       ELSE sku || ' usage (synthetic)' END AS line_item_line_item_description,
               CASE ri WHEN 'covered' THEN 'DiscountedUsage' WHEN 'fee' THEN 'RIFee'
                       ELSE 'Usage' END AS line_item_line_item_type,
               cost AS line_item_net_unblended_cost, {unblended_rate} AS line_item_net_unblended_rate,
               1.0::DOUBLE AS line_item_normalization_factor, quantity AS line_item_normalized_usage_amount,
               CASE service WHEN 'AmazonS3' THEN 'StandardStorage' WHEN 'AWSDataTransfer' THEN 'GetObject'
                            ELSE 'RunInstances' END AS line_item_operation,
               service AS line_item_product_code, resource AS line_item_resource_id, '' AS line_item_tax_type,
               cost AS line_item_unblended_cost, {unblended_rate} AS line_item_unblended_rate,
               CASE team WHEN 'training' THEN '000987654321' WHEN 'inference' THEN '000987654322'
                         ELSE '000987654323' END AS line_item_usage_account_id,
               'DEMO ' || team AS line_item_usage_account_name,
               quantity AS line_item_usage_amount, (day + 1)::TIMESTAMP AS line_item_usage_end_date,
               day::TIMESTAMP AS line_item_usage_start_date,
               CASE WHEN ri = 'fee' THEN 'HeavyUsage:' ELSE 'USE1-' END || sku AS line_item_usage_type,
               'USD' AS pricing_currency, {reserved}'3yr' ELSE '' END AS pricing_lease_contract_length,
               {reserved}'standard' ELSE '' END AS pricing_offering_class,
               list_cost AS pricing_public_on_demand_cost,
               CASE WHEN ri = 'fee' THEN '0.0' ELSE round(unit_price * 1.18, 6)::VARCHAR END
                   AS pricing_public_on_demand_rate, {reserved}'No Upfront' ELSE '' END AS pricing_purchase_option,
               upper(substr(md5(sku), 1, 16)) || '.JRTCKXETXF.6YS6EN2CT7' AS pricing_rate_code,
               (hash(sku) % 1000000000)::VARCHAR AS pricing_rate_id, {reserved}'Reserved' ELSE 'OnDemand' END
                   AS pricing_term,
               unit AS pricing_unit,
               MAP {{'product_name': CASE service WHEN 'AmazonEC2' THEN 'Amazon Elastic Compute Cloud'
                                                  WHEN 'AmazonSageMaker' THEN 'Amazon SageMaker'
                                                  WHEN 'AmazonS3' THEN 'Amazon Simple Storage Service'
                                                  WHEN 'AWSDataTransfer' THEN 'AWS Data Transfer'
                                                  ELSE service END,
                     'region': 'us-east-1'}} AS product,
               '' AS product_comment, '' AS product_fee_code, '' AS product_fee_description,
               '' AS product_from_location, '' AS product_from_location_type, '' AS product_from_region_code,
               CASE WHEN ai THEN 'Accelerated Computing' ELSE '' END AS product_instance_family,
               CASE WHEN ai THEN sku ELSE '' END AS product_instance_type, '' AS product_instancesku,
               'US East (N. Virginia)' AS product_location, 'AWS Region' AS product_location_type,
               CASE service WHEN 'AmazonS3' THEN 'StandardStorage' WHEN 'AWSDataTransfer' THEN 'GetObject'
                            ELSE 'RunInstances' END AS product_operation,
               unit AS product_pricing_unit,
               CASE WHEN ai THEN 'Compute Instance' ELSE 'Storage' END AS product_product_family,
               'us-east-1' AS product_region_code, service AS product_servicecode,
               upper(substr(md5(sku), 1, 16)) AS product_sku, '' AS product_to_location,
               '' AS product_to_location_type, '' AS product_to_region_code, 'USE1-' || sku AS product_usagetype,
               0.0::DOUBLE AS reservation_amortized_upfront_cost_for_usage,
               0.0::DOUBLE AS reservation_amortized_upfront_fee_for_billing_period,
               '' AS reservation_availability_zone, coalesce(ri_used, 0.0) AS reservation_effective_cost,
               {reserved}strftime(ri_start + INTERVAL {RI_TERM_MONTHS} MONTH, '{ts}') ELSE '' END
                   AS reservation_end_time, '' AS reservation_modification_status,
               0.0::DOUBLE AS reservation_net_amortized_upfront_cost_for_usage,
               0.0::DOUBLE AS reservation_net_amortized_upfront_fee_for_billing_period,
               coalesce(ri_used, 0.0) AS reservation_net_effective_cost,
               coalesce(ri_used, 0.0) AS reservation_net_recurring_fee_for_usage,
               0.0::DOUBLE AS reservation_net_unused_amortized_upfront_fee_for_billing_period,
               coalesce(ri_unused, 0.0) AS reservation_net_unused_recurring_fee,
               0.0::DOUBLE AS reservation_net_upfront_value,
               {reserved_fee}quantity::VARCHAR ELSE '' END AS reservation_normalized_units_per_reservation,
               {reserved_fee}'1' ELSE '' END AS reservation_number_of_reservations,
               coalesce(ri_used, 0.0) AS reservation_recurring_fee_for_usage,
               {reserved}ri_arn ELSE '' END AS reservation_reservation_a_r_n,
               {reserved}strftime(ri_start, '{ts}') ELSE '' END AS reservation_start_time,
               {reserved}'demo-ri-' || (month_index // {RI_TERM_MONTHS})::VARCHAR ELSE '' END
                   AS reservation_subscription_id,
               {reserved_fee}quantity::VARCHAR ELSE '' END AS reservation_total_reserved_normalized_units,
               {reserved_fee}quantity::VARCHAR ELSE '' END AS reservation_total_reserved_units,
               {reserved_fee}quantity::VARCHAR ELSE '' END AS reservation_units_per_reservation,
               0.0::DOUBLE AS reservation_unused_amortized_upfront_fee_for_billing_period,
               coalesce(round(ri_unused / ri_rate, 6), 0.0) AS reservation_unused_normalized_unit_quantity,
               coalesce(round(ri_unused / ri_rate, 6), 0.0) AS reservation_unused_quantity,
               coalesce(ri_unused, 0.0) AS reservation_unused_recurring_fee, 0.0::DOUBLE AS reservation_upfront_value,
               MAP {{'user_team': team, '{DEMO_TAG_KEYS[1]}': '{DEMO_TAG_VALUE}'}}
                   AS resource_tags,
               0.0::DOUBLE AS savings_plan_amortized_upfront_commitment_for_billing_period, '' AS savings_plan_end_time,
               '' AS savings_plan_instance_type_family,
               0.0::DOUBLE AS savings_plan_net_amortized_upfront_commitment_for_billing_period,
               0.0::DOUBLE AS savings_plan_net_recurring_commitment_for_billing_period,
               0.0::DOUBLE AS savings_plan_net_savings_plan_effective_cost,
               '' AS savings_plan_offering_type,
               '' AS savings_plan_payment_option, '' AS savings_plan_purchase_term,
               0.0::DOUBLE AS savings_plan_recurring_commitment_for_billing_period, '' AS savings_plan_region,
               '' AS savings_plan_savings_plan_a_r_n, 0.0::DOUBLE AS savings_plan_savings_plan_effective_cost,
               0.0::DOUBLE AS savings_plan_savings_plan_rate, '' AS savings_plan_start_time,
               0.0::DOUBLE AS savings_plan_total_commitment_to_date, 0.0::DOUBLE AS savings_plan_used_commitment
        FROM ({_RESERVED_LINES}) ORDER BY id
    """
    return Export(select, lambda label: f"aws/BILLING_PERIOD={_period(label)}/demo-cur2-00001.snappy.parquet",
                  "FORMAT PARQUET, COMPRESSION SNAPPY")


def _period(label: str) -> str:
    """``YYYYMM`` as AWS names a billing period folder (``YYYY-MM``); another label as it is."""
    return f"{label[:4]}-{label[4:]}" if label.isdigit() and len(label) == 6 else label


def oracle_export() -> Export:
    account, _ = _account("Oracle")
    select = f"""
        SELECT md5('oci' || id::VARCHAR) AS "lineItem/referenceNo", '{account}' AS "lineItem/tenantId",
               strftime(day, '%Y-%m-%dT00:00Z') AS "lineItem/intervalUsageStart",
               strftime(day + 1, '%Y-%m-%dT00:00:00Z') AS "lineItem/intervalUsageEnd",
               service AS "product/service", 'ocid1.compartment.oc1..demo' || team AS "product/compartmentId",
               'demo-' || team AS "product/compartmentName", 'us-ashburn-1' AS "product/region",
               'AD-1' AS "product/availabilityDomain", 'ocid1.instance.oc1.iad.' || resource AS "product/resourceId",
               quantity AS "usage/billedQuantity", NULL AS "usage/billedQuantityOverage",
               'ocid1.organizationssubscription.oc1..demo' AS "cost/subscriptionId",
               'B' || (10000 + hash(sku) % 90000)::VARCHAR AS "cost/productSku", sku AS "product/Description",
               unit_price AS "cost/unitPrice", NULL AS "cost/unitPriceOverage", cost AS "cost/myCost",
               NULL AS "cost/myCostOverage", 'USD' AS "cost/currencyCode", unit AS "cost/billingUnitReadable",
               unit AS "cost/skuUnitDescription", 'false' AS "cost/overageFlag", 'false' AS "lineItem/isCorrection",
               NULL AS "lineItem/backreferenceNo", team AS "tags/Demo.Team",
               '{DEMO_TAG_VALUE}' AS "tags/{DEMO_TAG_KEY}"
        FROM demo_lines ORDER BY id
    """
    return Export(select, lambda label: f"oracle/reports_cost-csv_{label}.csv", "FORMAT CSV, HEADER")


def coreweave_export() -> Export:
    account, name = _account("CoreWeave")
    select = f"""
        SELECT cost AS BilledCost, '{account}' AS BillingAccountId, '{name}' AS BillingAccountName,
               'USD' AS BillingCurrency,
               strftime(month + INTERVAL 1 MONTH, '%Y-%m-%dT%H:%M:%SZ') AS BillingPeriodEnd,
               strftime(month, '%Y-%m-%dT%H:%M:%SZ') AS BillingPeriodStart, 'Usage' AS ChargeCategory,
               NULL AS ChargeClass, sku || ' (synthetic)' AS ChargeDescription, 'Usage-Based' AS ChargeFrequency,
               strftime(day + 1, '%Y-%m-%dT%H:%M:%SZ') AS ChargePeriodEnd,
               strftime(day, '%Y-%m-%dT%H:%M:%SZ') AS ChargePeriodStart, quantity AS ConsumedQuantity,
               unit AS ConsumedUnit, cost AS ContractedCost, cost AS EffectiveCost, 'CoreWeave' AS InvoiceIssuerName,
               list_cost AS ListCost, 'Committed' AS PricingCategory, quantity AS PricingQuantity,
               unit AS PricingUnit, 'CoreWeave' AS ServiceProviderName, 'CoreWeave' AS HostProviderName,
               'US-EAST-04' AS RegionId, 'US East 04' AS RegionName, resource AS ResourceId, resource AS ResourceName,
               'Node' AS ResourceType, CASE WHEN ai THEN 'Compute' WHEN service = 'Networking' THEN 'Networking'
                                            ELSE 'Storage' END AS ServiceCategory,
               service AS ServiceName, sku AS SkuId, 'ns-' || team AS SubAccountId, team AS SubAccountName,
               to_json(MAP {{'team': team, '{DEMO_TAG_KEY}': '{DEMO_TAG_VALUE}'}})::VARCHAR AS Tags
        FROM demo_lines ORDER BY id
    """
    return Export(select, lambda label: f"coreweave/coreweave_focus_{label}.csv", "FORMAT CSV, HEADER")


EXPORTS: dict[str, Export] = {
    "Google Cloud": google_cloud_export(),
    "Microsoft": azure_export(),
    "AWS": aws_export(),
    "Oracle": oracle_export(),
    "CoreWeave": coreweave_export(),
}
