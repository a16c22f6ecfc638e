-- 0006: the Cloud Billing API (issue 11): billing accounts and their projects, the check that each configured
-- account is visible, and the pricing catalog (services, SKUs, tiered list prices). Written by
-- `python -m etl gcp accounts|catalog` and the `gcp` step of `run` (etl/gcp/); read by the views `cost`,
-- `daily_spend` (names where an export lacks them) and `gcp_compute_class` (GPU/TPU/CPU).

-- Billing accounts the credentials can see (CloudBillingClient.list_billing_accounts).
CREATE TABLE gcp_billing_accounts (
    billing_account_id     VARCHAR NOT NULL,   -- 012345-6789AB-CDEF01 (without "billingAccounts/")
    display_name           VARCHAR,
    open                   BOOLEAN,
    master_billing_account VARCHAR,            -- a reseller's parent account, when there is one
    refreshed_at           TIMESTAMP NOT NULL  -- UTC
);

-- Projects linked to the checked accounts (list_project_billing_info). The API gives the project ID only.
CREATE TABLE gcp_projects (
    project_id         VARCHAR NOT NULL,
    billing_account_id VARCHAR NOT NULL,
    billing_enabled    BOOLEAN,
    refreshed_at       TIMESTAMP NOT NULL
);

-- The last visibility check of each checked account (gcp.billing_accounts, else every listed one).
CREATE TABLE gcp_account_checks (
    billing_account_id VARCHAR NOT NULL,
    visible            BOOLEAN NOT NULL,
    projects           INTEGER,             -- linked projects, when visible
    error              VARCHAR,             -- why not, naming the account
    checked_at         TIMESTAMP NOT NULL
);

-- One row per SKU of the fetched services (CloudCatalogClient.list_skus), its latest pricing info.
CREATE TABLE gcp_sku_catalog (
    sku_id                 VARCHAR NOT NULL,   -- 2E27-4F75-95CD: the export's sku.id
    service_id             VARCHAR NOT NULL,   -- 6F81-5844-456A
    service_name           VARCHAR NOT NULL,   -- Compute Engine
    description            VARCHAR,
    resource_family        VARCHAR,            -- category.resource_family: Compute, Storage, Network...
    resource_group         VARCHAR,            -- category.resource_group: GPU, CPU, RAM, N1Standard...
    usage_type             VARCHAR,            -- OnDemand, Preemptible, Commit1Yr...
    service_regions        VARCHAR[],
    usage_unit             VARCHAR,            -- pricing_expression.usage_unit: h, GiBy.mo...
    usage_unit_description VARCHAR,
    currency               VARCHAR,            -- of the tiers' prices
    effective_time         TIMESTAMP,          -- when this pricing took effect
    aggregation_level      VARCHAR,            -- the tiers count usage per ACCOUNT or per PROJECT (NULL: account)
    aggregation_interval   VARCHAR,            -- ... per DAILY or MONTHLY interval (NULL: the billing period)
    refreshed_at           TIMESTAMP NOT NULL
);

-- Tiered list prices: tier n applies from start_usage_amount (in usage_unit) up to the next tier's start.
CREATE TABLE gcp_sku_tiers (
    sku_id             VARCHAR NOT NULL,
    tier               INTEGER NOT NULL,
    start_usage_amount DECIMAL(38, 12) NOT NULL,
    unit_price         DECIMAL(38, 12) NOT NULL,
    currency           VARCHAR NOT NULL
);

-- Where a cost row's ListCost comes from: NULL = the export's own list cost; 'cost' = the export had none, so
-- ListCost is the cost (as before); 'catalog' = filled from the SKU's tiered list price (etl/gcp/listcost.py).
ALTER TABLE cost_line ADD COLUMN x_ListCostSource VARCHAR;
