-- 0004: every load records whether the rows it wrote are SYNTHETIC (made up by `python -m etl demo`), so that
-- one definition (view `synthetic_loads`, sql/views/50_synthetic.sql) serves `status`, the dashboard and
-- analysts. Loads from before this migration are marked by what the demo wrote then: market loads of format
-- 'synthetic' from a 'demo:' source, and billing loads whose rows carry the demo tag.
ALTER TABLE load_log ADD COLUMN synthetic BOOLEAN NOT NULL DEFAULT false;

UPDATE load_log SET synthetic = true
WHERE (kind IN ('prices', 'fx') AND format = 'synthetic' AND starts_with(source, 'demo:'))
   OR load_id IN (SELECT DISTINCT x_LoadId FROM cost_line
                  WHERE Tags->>'spendscope-demo' = 'synthetic' OR Tags->>'user_spendscope_demo' = 'synthetic');
