-- 0001: billing warehouse. Every cost row of every provider, normalised to FOCUS 1.2 columns.
CREATE TABLE schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       VARCHAR NOT NULL,
    applied_at TIMESTAMP NOT NULL
);

CREATE SEQUENCE load_id_seq START 1;

-- One row per load attempt of a billing source (a file, or a manifest and all its blobs).
CREATE TABLE load_log (
    load_id      BIGINT PRIMARY KEY,
    kind         VARCHAR NOT NULL,            -- 'billing' (later issues add 'prices', 'fx')
    source       VARCHAR NOT NULL,            -- the file or manifest path as given
    files        VARCHAR[] NOT NULL,          -- every data file read
    sha256       VARCHAR,                     -- of the file, or of the manifest plus its blobs
    bytes        BIGINT,                      -- total size of the data files
    format       VARCHAR,                     -- adapter that read it (NULL when none recognised it)
    dataset      VARCHAR,                     -- 'cost', 'actual' or 'amortized'
    export_time  TIMESTAMP,                   -- when the provider produced the export, when known
    rows         BIGINT NOT NULL DEFAULT 0,
    totals       STRUCT(currency VARCHAR, rows BIGINT, billed DECIMAL(38, 12),
                        effective DECIMAL(38, 12))[],
    scope        STRUCT(provider VARCHAR, account VARCHAR)[],  -- billing accounts the load's rows belong to
    status       VARCHAR NOT NULL,            -- loaded | unchanged | superseded | failed
    error        VARCHAR,
    message      VARCHAR,
    started_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP NOT NULL
);

-- Normalised cost rows. Money is DECIMAL(38,12) so sums reconcile exactly; timestamps are UTC.
CREATE TABLE cost_line (
    BillingAccountId       VARCHAR NOT NULL,
    BillingAccountName     VARCHAR,
    SubAccountId           VARCHAR,
    SubAccountName         VARCHAR,
    BillingCurrency        VARCHAR NOT NULL,
    BillingPeriodStart     TIMESTAMP NOT NULL,
    BillingPeriodEnd       TIMESTAMP NOT NULL,
    ChargePeriodStart      TIMESTAMP NOT NULL,
    ChargePeriodEnd        TIMESTAMP NOT NULL,
    ChargeCategory         VARCHAR NOT NULL,
    ChargeClass            VARCHAR,
    ChargeDescription      VARCHAR,
    ChargeFrequency        VARCHAR,
    BilledCost             DECIMAL(38, 12) NOT NULL,
    EffectiveCost          DECIMAL(38, 12) NOT NULL,
    ListCost               DECIMAL(38, 12) NOT NULL,
    ContractedCost         DECIMAL(38, 12) NOT NULL,
    ServiceProviderName    VARCHAR NOT NULL,
    InvoiceIssuerName      VARCHAR NOT NULL,
    ServiceName            VARCHAR NOT NULL,
    ServiceCategory        VARCHAR NOT NULL,
    SkuId                  VARCHAR,
    RegionId               VARCHAR,
    RegionName             VARCHAR,
    ResourceId             VARCHAR,
    ResourceName           VARCHAR,
    ResourceType           VARCHAR,
    PricingCategory        VARCHAR,
    CommitmentDiscountId   VARCHAR,
    CommitmentDiscountType VARCHAR,
    ConsumedQuantity       DECIMAL(38, 12),
    ConsumedUnit           VARCHAR,
    PricingQuantity        DECIMAL(38, 12),
    PricingUnit            VARCHAR,
    Tags                   JSON,
    x_SourceFormat         VARCHAR NOT NULL,
    x_SourceFile           VARCHAR NOT NULL,
    x_SourceLine           BIGINT NOT NULL,
    x_LoadId               BIGINT NOT NULL,
    x_Dataset              VARCHAR NOT NULL,  -- 'cost' (one dataset), 'actual' or 'amortized' (Azure)
    x_ExportTime           TIMESTAMP,         -- when the provider produced the export, when known
    x_ReplaceKey           VARCHAR NOT NULL,  -- the unit a newer export replaces (see etl/billing/loader.py)
    x_CategorySource       VARCHAR NOT NULL   -- ServiceCategory from the 'file', the 'map', or 'default' (Other)
);

-- Which load currently owns each replaceable unit (a provider/account/billing period/dataset, or a file).
CREATE TABLE replace_unit (
    replace_key  VARCHAR PRIMARY KEY,
    load_id      BIGINT NOT NULL,
    export_time  TIMESTAMP,
    loaded_at    TIMESTAMP NOT NULL
);

-- Daily rollup kept current by the loader, so dashboards never aggregate cost_line on their hot path.
CREATE TABLE daily_spend_rollup (
    date                 DATE NOT NULL,
    provider             VARCHAR NOT NULL,
    billing_account_id   VARCHAR NOT NULL,
    billing_account_name VARCHAR,
    sub_account_id       VARCHAR,
    sub_account_name     VARCHAR,
    service_category     VARCHAR NOT NULL,
    service_name         VARCHAR NOT NULL,
    charge_category      VARCHAR NOT NULL,
    currency             VARCHAR NOT NULL,
    billed_cost          DECIMAL(38, 12) NOT NULL,
    effective_cost       DECIMAL(38, 12) NOT NULL,
    list_cost            DECIMAL(38, 12) NOT NULL,
    rows                 BIGINT NOT NULL
);
