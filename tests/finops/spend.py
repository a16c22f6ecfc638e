"""Warehouses of synthetic daily spend for the forecast and budget tests: rows written straight into the daily
rollup every statistic reads (through ``daily_spend``), one row per day, provider and service."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from etl.warehouse import Warehouse

COLUMNS = ["date", "provider", "billing_account_id", "billing_account_name", "sub_account_id", "sub_account_name",
           "service_category", "service_name", "charge_category", "currency", "billed_cost", "effective_cost",
           "list_cost", "rows", "charge_period_end"]


def daily(first: date, last: date, amount, *, provider: str = "AWS", account: str = "a1",
          category: str = "Compute", service: str = "EC2", currency: str = "USD") -> pd.DataFrame:
    """Rollup rows from ``first`` to ``last``; ``amount`` is a number or a function of the day index and date."""
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    values = [amount(i, day) if callable(amount) else amount for i, day in enumerate(days)]
    return pd.DataFrame({"date": days, "provider": provider, "billing_account_id": account,
                         "billing_account_name": None, "sub_account_id": None, "sub_account_name": None,
                         "service_category": category, "service_name": service, "charge_category": "Usage",
                         "currency": currency, "billed_cost": values, "effective_cost": values, "list_cost": values,
                         "rows": 1, "charge_period_end": None})[COLUMNS]


def seasonal(level: float, slope: float, weekly: tuple[float, ...], noise: float, seed: int = 1):
    """Spend with a linear trend, a weekly pattern (Monday first) and Gaussian noise: (day index, date) -> amount."""
    rng = np.random.default_rng(seed)
    draws: dict[int, float] = {}

    def amount(i: int, day: date) -> float:
        if i not in draws:
            draws[i] = float(rng.normal(0, noise))
        return level + slope * i + weekly[day.weekday()] + draws[i]

    return amount


def warehouse(path: Path, *frames: pd.DataFrame) -> Warehouse:
    """A new warehouse at ``path`` whose rollup holds ``frames``."""
    store = Warehouse(path)
    with store.write("test") as session, session.transaction() as con:
        con.register("rollup_rows", pd.concat(frames, ignore_index=True))
        con.execute("INSERT INTO daily_spend_rollup BY NAME SELECT * FROM rollup_rows")
        con.unregister("rollup_rows")
    return store
