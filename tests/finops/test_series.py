"""The daily series every finops statistic reads: levels, bases, twins left out, dense days, missing rates."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pytest

from etl.finops.series import KEYS, daily_series, distinct_series
from etl.warehouse import Warehouse, connect_readonly

ROLLUP = """INSERT INTO daily_spend_rollup VALUES
    (DATE '2025-06-01', 'AWS', 'a1', 'Prod', NULL, NULL, 'Compute', 'EC2', 'Usage', 'USD', 10, 10, 10, 1, NULL),
    (DATE '2025-06-01', 'AWS', 'a1', 'Prod', NULL, NULL, 'Storage', 'S3', 'Usage', 'USD', 2, 2, 2, 1, NULL),
    (DATE '2025-06-03', 'AWS', 'a1', 'Prod', NULL, NULL, 'Compute', 'EC2', 'Usage', 'USD', 5, 5, 5, 1, NULL),
    (DATE '2025-06-04', 'AWS', 'a1', 'Prod', NULL, NULL, 'Compute', 'EC2', 'Usage', 'USD', 7, 7, 7, 1, NULL),
    (DATE '2025-06-02', 'Microsoft', 'm1', NULL, NULL, NULL, 'Compute', 'VMs', 'Usage', 'EUR', 100, 90, 100, 1, NULL),
    (DATE '2025-06-03', 'Microsoft', 'm1', NULL, NULL, NULL, 'Compute', 'VMs', 'Usage', 'EUR', 100, 90, 100, 1, NULL)
"""
RATES = """INSERT INTO fx_rates VALUES
    (DATE '2025-06-02', 'EUR', 'USD', 1.1, 'test', 1, now()), (DATE '2025-06-03', 'EUR', 'USD', 1.2, 'test', 1, now())
"""


@pytest.fixture
def con(tmp_path: Path):
    warehouse = Warehouse(tmp_path / "w.duckdb")
    with warehouse.write("test") as session, session.transaction() as write:
        write.execute(ROLLUP)
        write.execute(RATES)
    connection = connect_readonly(warehouse.path)
    yield connection
    connection.close()


def _series(frame, **keys) -> dict[date, float]:
    mask = frame.index == frame.index
    for key, value in keys.items():
        mask &= frame[key] == value
    return {row.date.date(): row.amount for row in frame[mask].itertuples()}


def test_levels_bases_and_dense_days(con) -> None:
    frame = daily_series(con, "usd")
    # AWS is billed in USD only, the reporting currency: its billing twin is left out; the gap on 06-02 is 0
    assert _series(frame, level="provider", basis="reporting", provider="AWS") == {
        date(2025, 6, 1): 12.0, date(2025, 6, 2): 0.0, date(2025, 6, 3): 5.0, date(2025, 6, 4): 7.0}
    assert _series(frame, level="provider", basis="billing", provider="AWS") == {}
    # Microsoft in EUR as billed and converted with the rate of each day
    assert _series(frame, level="provider", basis="billing", provider="Microsoft") == {
        date(2025, 6, 2): 90.0, date(2025, 6, 3): 90.0}
    converted = _series(frame, level="provider", basis="reporting", provider="Microsoft")
    assert converted == pytest.approx({date(2025, 6, 2): 99.0, date(2025, 6, 3): 108.0})
    # the total stops at the earliest provider's last day (Microsoft's 06-03), and never adds EUR to USD
    total = _series(frame, level="total", basis="reporting")
    assert list(total) == [date(2025, 6, 1), date(2025, 6, 2), date(2025, 6, 3)]
    assert total[date(2025, 6, 2)] == pytest.approx(99.0)
    assert _series(frame, level="total", basis="billing", currency="EUR") == {
        date(2025, 6, 2): 90.0, date(2025, 6, 3): 90.0}
    assert set(frame.loc[frame.level == "service", "member"]) == {"EC2", "S3", "VMs"}
    assert set(frame.loc[frame.level == "account", "member_name"]) == {"Prod", "m1"}


def test_missing_rate_is_nan_not_a_fall(con) -> None:
    frame = daily_series(con, "GBP", measure="billed_cost", levels=["provider"])
    gbp = _series(frame, basis="reporting", provider="AWS")
    assert [day for day, amount in gbp.items() if math.isnan(amount)] == [date(2025, 6, 1), date(2025, 6, 3),
                                                                         date(2025, 6, 4)]
    assert gbp[date(2025, 6, 2)] == 0.0  # nothing charged needs no rate
    assert _series(frame, basis="billing", provider="AWS")[date(2025, 6, 1)] == 12.0


def test_rejects_unknown_measure_and_level(con) -> None:
    with pytest.raises(ValueError, match="measure must be one of"):
        daily_series(con, "USD", measure="cost")
    with pytest.raises(ValueError, match="levels must be among"):
        daily_series(con, "USD", levels=["region"])


def test_distinct_series_keeps_one_of_the_same_numbers(con) -> None:
    frame = daily_series(con, "USD")
    kept = distinct_series(frame)
    names = set(kept[list(KEYS)].drop_duplicates().itertuples(index=False, name=None))
    # AWS has one account (a1): the account series is the provider's numbers and goes, its two services stay
    assert ("provider", "reporting", "USD", "AWS", "") in names
    assert ("account", "reporting", "USD", "AWS", "a1") not in names
    assert {("service", "reporting", "USD", "AWS", "EC2"), ("service", "reporting", "USD", "AWS", "S3")} <= names
    # Microsoft: one account and one service, and the only provider billed in EUR: the provider series stays
    assert ("provider", "billing", "EUR", "Microsoft", "") in names
    assert not {("account", "billing", "EUR", "Microsoft", "m1"), ("service", "billing", "EUR", "Microsoft", "VMs"),
                ("total", "billing", "EUR", "", "")} & names
    # the reporting total adds AWS and Microsoft: its own numbers, kept; every kept series keeps all its days
    assert ("total", "reporting", "USD", "", "") in names
    assert len(kept) == len(frame.merge(kept[list(KEYS)].drop_duplicates(), on=list(KEYS)))
    assert distinct_series(frame.iloc[:0]).empty


def test_charge_categories_keep_only_those_charges(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "w.duckdb")
    with warehouse.write("test") as session, session.transaction() as write:
        write.execute("""INSERT INTO daily_spend_rollup VALUES
            (DATE '2025-06-01', 'AWS', 'a1', NULL, NULL, NULL, 'Compute', 'EC2', 'Usage', 'USD', 10, 10, 10, 1, NULL),
            (DATE '2025-06-01', 'AWS', 'a1', NULL, NULL, NULL, 'Compute', 'Savings Plans', 'Purchase', 'USD', 500, 0,
             500, 1, NULL),
            (DATE '2025-06-02', 'AWS', 'a1', NULL, NULL, NULL, 'Compute', 'EC2', 'Usage', 'USD', 12, 12, 12, 1, NULL)
        """)
    con = connect_readonly(warehouse.path)
    try:
        usage = daily_series(con, "USD", measure="billed_cost", levels=["provider"], charge_categories=["Usage"])
        every = daily_series(con, "USD", measure="billed_cost", levels=["provider"])
    finally:
        con.close()
    assert _series(usage, basis="reporting") == {date(2025, 6, 1): 10.0, date(2025, 6, 2): 12.0}
    assert _series(every, basis="reporting") == {date(2025, 6, 1): 510.0, date(2025, 6, 2): 12.0}
