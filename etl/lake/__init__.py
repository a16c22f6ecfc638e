"""The FOCUS lake: the warehouse's ``cost`` rows as Hive-partitioned Parquet for engines beyond one machine."""
