"""What finance teams expect of a cost tool, computed by the ETL from the warehouse: spend anomalies, month- and
quarter-end forecasts, budgets and commitments. Every module reads its daily series from :mod:`etl.finops.series`
and writes its results through the write session, so the dashboard only reads stored tables."""
