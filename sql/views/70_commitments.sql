-- Commitment utilization and coverage per UTC charge month, from the rollup the loader keeps current
-- (commitment_month_rollup, migration 0009). Amounts are EffectiveCost in the billing currency: never add rows of
-- different currencies together.

-- Per commitment and month: the commitment cost that covered usage (status Used) and the part left unused (Unused),
-- and utilization = used / (used + unused). Google's billing export reports no unused commitment (only the credits
-- of the usage it covered), so a commitment known only from Google's export has unused_cost and utilization NULL.
CREATE OR REPLACE VIEW commitment_utilization AS
SELECT month, provider, billing_account_id, currency, commitment_id,
       any_value(commitment_type) AS commitment_type, any_value(commitment_category) AS commitment_category,
       coalesce(max(commitment_name), commitment_id) AS commitment_name,
       sum(effective_cost) FILTER (WHERE status = 'Used') AS used_cost,
       CASE WHEN bool_or(source_format <> 'gcp')
            THEN coalesce(sum(effective_cost) FILTER (WHERE status = 'Unused'), 0) END AS unused_cost,
       CASE WHEN bool_or(source_format <> 'gcp') THEN
            sum(effective_cost) FILTER (WHERE status = 'Used')
            / nullif(sum(effective_cost) FILTER (WHERE status IN ('Used', 'Unused')), 0) END AS utilization
FROM commitment_month_rollup
WHERE commitment_id IS NOT NULL AND status IN ('Used', 'Unused')
GROUP BY month, provider, billing_account_id, currency, commitment_id;

-- Per provider, billing currency and month: the commitment-eligible compute spend (ss_commitment_eligible: usage of
-- ServiceCategory Compute priced on demand or by a commitment), the part commitments covered (rows with a
-- CommitmentDiscountId, Google's commitment fees included), the on-demand rest, and coverage = covered / eligible.
CREATE OR REPLACE VIEW commitment_coverage AS
SELECT month, provider, currency,
       sum(effective_cost) AS eligible_cost,
       coalesce(sum(effective_cost) FILTER (WHERE commitment_id IS NOT NULL), 0) AS covered_cost,
       coalesce(sum(effective_cost) FILTER (WHERE commitment_id IS NULL), 0) AS on_demand_cost,
       coalesce(sum(effective_cost) FILTER (WHERE commitment_id IS NOT NULL), 0) / nullif(sum(effective_cost), 0)
           AS coverage
FROM commitment_month_rollup
WHERE eligible
GROUP BY month, provider, currency;
