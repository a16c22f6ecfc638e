-- Compute classes of cost rows, for the dashboard's AI-compute share: GPU (also other AI accelerators: Trainium,
-- Inferentia, Gaudi), TPU, CPU (vCPUs and the memory sold with them), 'Other compute' (disks, IPs and traffic
-- billed under a compute service) and 'Unclassified' (compute spend no rule recognises: shown as such, never
-- guessed). A row is compute when its ServiceCategory is 'Compute' or a GPU/TPU rule matches it (SageMaker's
-- ml.p4d, Google's Cloud TPU); other rows have no class.
--
-- Google Cloud: the pricing catalog decides (view gcp_compute_class, `python -m etl gcp catalog`): the SKU's class,
-- 'Other compute' for a catalogued SKU of another resource family on a Compute row, 'Unclassified' for a SKU the
-- catalog does not hold. The other providers: the rules below, first match wins, on the FOCUS columns every adapter
-- fills (ChargeDescription: AWS's line item description, Azure's meter, OCI's product description, a FOCUS file's
-- ChargeDescription; ServiceName; SkuId). A change of these rules must ship with a migration that rebuilds
-- daily_compute_rollup (as 0009_compute_class does), so the stored classes follow.

-- Per catalogued Google SKU: its compute class, or 'Other compute' (a SKU of another resource family).
CREATE OR REPLACE VIEW gcp_sku_compute_class AS
SELECT s.sku_id, coalesce(any_value(k.compute_class), 'Other compute') AS compute_class
FROM gcp_sku_catalog s LEFT JOIN gcp_compute_class k USING (sku_id)
GROUP BY s.sku_id;

-- The class of one cost row, or NULL when it is not compute. `catalog_class`: the Google SKU's class in
-- gcp_sku_compute_class (NULL for a SKU the catalog does not hold, and for the other providers).
CREATE OR REPLACE MACRO ss_compute_class(provider, category, service, sku, description, catalog_class) AS
    CASE
        WHEN provider = 'Google Cloud' THEN
            CASE
                WHEN catalog_class <> 'Other compute' THEN catalog_class
                WHEN category = 'Compute' THEN coalesce(catalog_class, 'Unclassified')
            END
        -- GPU and AI accelerators. AWS instance families P, G, Gr, DL, Trn, Inf (EC2 and SageMaker's ml.*):
        -- '$98.32 per On Demand Linux p5.48xlarge Instance Hour', 'ml.p4d.24xlarge-Training'
        WHEN provider = 'AWS' AND regexp_matches(coalesce(description, '') || ' ' || coalesce(sku, ''),
                '(?i)\b(ml\.)?(p[2-6][a-z0-9-]*|g[3-6][a-z0-9-]*|gr6[a-z0-9-]*|dl[12][a-z0-9-]*|trn[12][a-z0-9-]*|inf[12][a-z0-9-]*)\.[0-9]*x?(large|metal)')
            THEN 'GPU'
        -- Azure's GPU VM series NC, ND, NG, NV: meters 'ND96isr H100 v5', 'NC24ads A100 v4', 'Standard_NV12s_v3'
        WHEN provider = 'Microsoft' AND regexp_matches(coalesce(description, ''), '(^|[\s_,])N[CDGV][0-9]*[a-z]*(\s|_|$)')
            THEN 'GPU'
        -- OCI GPU shapes ('BM.GPU.H100.8'), and any provider's description naming a GPU or an Nvidia part:
        -- 'Compute - GPU - H100', CoreWeave's 'H100 GPU hours'
        WHEN regexp_matches(coalesce(description, '') || ' ' || coalesce(sku, ''), '(?i)\bgpus?\b|\bnvidia\b|\.gpu\.')
            THEN 'GPU'
        -- CoreWeave's GPU instances and services ('gd-8xh100ib-i128', ServiceName 'GPU Compute')
        WHEN provider = 'CoreWeave' AND regexp_matches(coalesce(service, '') || ' ' || coalesce(sku, ''),
                '(?i)\bgpu\b|h100|h200|a100|b200|gb200|l40|a40|rtx')
            THEN 'GPU'
        WHEN category <> 'Compute' THEN NULL
        -- Not processor time, billed under a compute service: disks, snapshots, IP addresses, NAT, traffic
        WHEN regexp_matches(coalesce(description, ''),
                '(?i)\bebs\b|\bvolume|snapshot|elastic ?ip|\bip address|public ip|nat ?gateway|data ?transfer|\bdisks?\b|egress')
            THEN 'Other compute'
        -- CPU: AWS instance types of the other families ('m7i.large', 'c7g.xlarge', 'r7i.large reserved instance'),
        -- Lambda and Fargate; Azure's other VM series; OCI's OCPU/ECPU and memory; vCPU or vCore anywhere
        WHEN provider = 'AWS' AND regexp_matches(coalesce(description, ''),
                '(?i)\b[a-z][a-z0-9-]*\.[0-9]*x?(large|medium|small|micro|nano|metal)\b')
            THEN 'CPU'
        WHEN provider = 'AWS' AND regexp_matches(coalesce(service, ''), '(?i)lambda|fargate') THEN 'CPU'
        WHEN provider = 'Microsoft' AND service = 'Virtual Machines' THEN 'CPU'
        WHEN provider = 'Oracle' AND regexp_matches(coalesce(description, ''), '(?i)\b(ocpu|ecpu|memory)\b')
            THEN 'CPU'
        WHEN regexp_matches(coalesce(description, ''), '(?i)\bv?cpus?\b|\bvcores?\b') THEN 'CPU'
        ELSE 'Unclassified'
    END;

-- Spend per UTC charge date, provider, billing account, service category, currency and compute class, from the
-- rollup the loader and the catalog refresh keep current. Only compute rows; amounts in `currency` (never add
-- currencies: convert with fx_rates_into, as daily_compute_class_in_currency does).
CREATE OR REPLACE VIEW daily_compute_class AS
SELECT date, provider, billing_account_id, service_category, currency, compute_class,
       billed_cost, effective_cost, list_cost, rows
FROM daily_compute_rollup;

-- daily_compute_class with its amounts converted to `target` (the rate lookup every conversion uses).
CREATE OR REPLACE MACRO daily_compute_class_in_currency(target, max_age_days := 7) AS TABLE
    SELECT d.*, r.reporting_currency, r.fx_rate, r.fx_missing, r.fx_issue,
        ss_fx_amount(d.billed_cost, r.fx_rate) AS billed_cost_reporting,
        ss_fx_amount(d.effective_cost, r.fx_rate) AS effective_cost_reporting,
        ss_fx_amount(d.list_cost, r.fx_rate) AS list_cost_reporting
    FROM daily_compute_class d
    JOIN fx_rates_into(target, max_age_days := max_age_days) r USING (date, currency);
