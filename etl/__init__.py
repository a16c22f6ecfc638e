"""SpendScope ETL: cloud billing exports and market data into one DuckDB warehouse (``python -m etl``)."""
