"""``event_spend.event_share_changes`` gives the same table as before its query was reshaped for speed.

``tests/fixtures/dashboard/event_share_changes.csv`` is the output of the previous implementation (commit 2021e51:
shares summed over the converted daily rows, a range join per event and window, the long result pivoted in pandas)
on the fixture warehouse below, for every scenario of :data:`SCENARIOS`: measures, reporting currencies (EUR
through the EUR/USD rates, with the rows before them left out), windows, benchmarks, CARs stored, excluded and
computed, events before, inside and at the end of the loaded spend.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard.queries.reader import Reader
from dashboard.services import event_spend
from etl.warehouse import Warehouse
from tests.conftest import FIXTURES
from tests.dashboard import builders
from tests.dashboard.test_event_queries import insert_results

GOLDEN = FIXTURES / "dashboard" / "event_share_changes.csv"
PAIRS = tuple(sorted(builders.TICKERS.items()))
EVENTS = (
    *builders.EVENTS,
    ("ev-early", datetime(2024, 2, 1), "date", "unknown", "Before any spend", ("GOOGL",), ("Google Cloud",)),
    ("ev-late", datetime(2025, 6, 25, 13, 0), "minute", "intraday", "At the end of the loaded spend",
     ("MSFT", "CRWV"), ("Microsoft", "Oracle")),
    ("ev-start", datetime(2025, 3, 20), "date", "pre", "EUR rates start ten days before",
     ("GOOGL", "MSFT"), ("CoreWeave",)),
)
SCENARIOS = (  # currency, measure, max_age_days, windows, benchmark
    ("USD", "effective", 7, (30, 90), "SPY"),
    ("USD", "billed", 7, (30, 90), "SPY"),
    ("EUR", "list", 7, (7, 30, 90), "SPY"),
    ("USD", "effective", 0, (14,), "QQQ"),
)


def changes(reader: Reader, study) -> pd.DataFrame:
    """Every scenario's table, one after the other, with the scenario's number."""
    frames = [event_spend.event_share_changes(reader, currency, measure, age, PAIRS, benchmark, windows,
                                              study=study).assign(scenario=number)
              for number, (currency, measure, age, windows, benchmark) in enumerate(SCENARIOS)]
    return pd.concat(frames, ignore_index=True)


@pytest.fixture
def reader(spend_db) -> Reader:
    warehouse = Warehouse(spend_db)
    builders.create_events(warehouse, EVENTS)
    builders.store_exclusions(warehouse)
    insert_results(spend_db, "('ev-tpu', 'GOOGL', 'SPY', 'market', 'simple', '[-1,+1]', 0.1234)")
    return Reader(spend_db)


def test_the_share_changes_are_the_previous_implementations(reader, study):
    got = changes(reader, study)
    want = pd.read_csv(GOLDEN, keep_default_na=False, na_values=[""])
    assert got.columns.tolist() == want.columns.tolist() and len(got) == len(want) == 40
    for column in got.columns:
        mine, theirs = got[column], want[column]
        if column.startswith(("change_", "share_", "car_m1_p1")) and not column.endswith("stars"):
            np.testing.assert_allclose(mine.astype(float), theirs.astype(float), rtol=1e-12, atol=1e-9,
                                       err_msg=column)
        else:
            assert [_text(v) for v in mine] == [_text(v) for v in theirs], column


def _text(value) -> str | None:
    """A cell as the CSV keeps it: an empty text and a missing value are both empty."""
    return None if pd.isna(value) or value == "" else str(value)


def write_golden(path: Path, reader: Reader, study) -> None:
    """How the golden file was written (by the previous implementation)."""
    changes(reader, study).to_csv(path, index=False)
