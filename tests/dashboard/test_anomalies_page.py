"""Anomalies: the queries over the stored table (no Streamlit), the page and the Overview's marks under AppTest.

The fixture warehouse's Cloud TPU doubles on 2025-05-01 (the day of the test event "Acme signs a TPU capacity deal
with Google") and CoreWeave's GPU Compute rises by half on 2025-06-01 (event on 2025-06-02): both are found by the
ETL's anomaly run, here with a money floor of 10 (the fixture's amounts are small).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from dashboard.formats import money
from dashboard.queries import anomalies as queries
from dashboard.queries.reader import Reader
from dashboard.queries.spend import SpendFilter
from etl.finops import anomalies
from etl.finops.anomalies import AnomalySettings
from etl.warehouse import Warehouse
from tests.dashboard.apptest import figures, values
from tests.dashboard.builders import FIRST, LAST, create_events

TPU_DEAL = "2025-05-01: Acme signs a TPU capacity deal with Google"
EVERYTHING = queries.AnomalyFilter(FIRST, LAST)


@pytest.fixture
def scored(spend_db: Path) -> Path:
    warehouse = Warehouse(spend_db)
    create_events(warehouse)
    with warehouse.write("test anomalies") as session:
        anomalies.run(session, "USD", AnomalySettings(min_excess=10))
    return spend_db


def test_the_list_has_the_stored_anomalies_with_the_events_of_their_provider_nearby(scored) -> None:
    reader = Reader(scored)
    found = queries.anomaly_list(reader, EVERYTHING)
    google = found[found["series"] == "Google Cloud"].set_index("date")
    assert list(google.index) == [pd.Timestamp(2025, 5, d) for d in (5, 4, 3, 2)]  # newest first
    assert google.loc[pd.Timestamp(2025, 5, 2), "events"] == TPU_DEAL
    assert pd.isna(google.loc[pd.Timestamp(2025, 5, 5), "events"])  # four days after: not "nearby"
    assert set(google["actual"]) == {198.0}  # (200 + 20) x 0.9 effective, every day of May
    assert (google["actual"] > google["expected_high"]).all() and (google["severity"] == "high").all()
    total = found[found["level"] == "All providers"]
    assert set(total["events"]) == {TPU_DEAL}  # the level total has every provider's events
    coreweave = found[found["series"] == "CoreWeave / GPU Compute"]
    assert coreweave["events"].iloc[-1] == "2025-06-02: CoreWeave expands its GPU contract with Acme"
    stored = Reader(scored).frame("SELECT count(*) AS n FROM spend_anomalies WHERE basis = 'reporting'")
    assert len(found) == stored["n"][0] and set(found["currency"]) == {"USD"}


def test_the_filters_select_provider_level_severity_period_and_basis(scored) -> None:
    reader = Reader(scored)
    only = queries.anomaly_list(reader, queries.AnomalyFilter(FIRST, LAST, providers=("CoreWeave",),
                                                              levels=("service",)))
    assert set(only["series"]) == {"CoreWeave / GPU Compute"} and set(only["level"]) == {"Service"}
    assert queries.anomaly_list(reader, queries.AnomalyFilter(FIRST, LAST, severities=("low",))).empty
    may = queries.anomaly_list(reader, queries.AnomalyFilter(date(2025, 5, 1), date(2025, 5, 31)))
    assert {d.month for d in may["date"]} == {5}
    billed = queries.anomaly_list(reader, queries.AnomalyFilter(FIRST, LAST, basis="billing"))
    assert set(billed["currency"]) <= {"USD", "EUR"}  # each billing currency: USD providers' total, Microsoft


def test_the_chart_marks_follow_the_overview_filter(scored) -> None:
    reader = Reader(scored)
    marks = queries.chart_marks(reader, SpendFilter(FIRST, LAST), "month")
    assert set(marks["period"]) == {pd.Timestamp(2025, 5, 1), pd.Timestamp(2025, 6, 1)}
    assert set(marks["series"]) == {"All providers", "Google Cloud", "CoreWeave"}
    one = queries.chart_marks(reader, SpendFilter(FIRST, LAST, providers=("CoreWeave",)), "day")
    assert set(one["series"]) == {"CoreWeave"} and list(one["period"]) == list(one["date"])
    assert queries.chart_marks(reader, SpendFilter(FIRST, LAST, measure="billed"), "month").empty  # stored: effective
    with pytest.raises(ValueError, match="unknown grain"):
        queries.chart_marks(reader, SpendFilter(FIRST, LAST), "year")


def test_the_page_lists_them_with_amounts_in_the_currency_and_the_events(app, scored, csvs) -> None:
    at = app("anomalies")
    found = queries.anomaly_list(Reader(scored), EVERYTHING)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Anomalies"] == f"{len(found):,}"
    assert metrics["High severity"] == f"{int((found['severity'] == 'high').sum()):,}"
    assert metrics["Excess over the expected range"] == money(found["excess"].sum(), "USD")
    shown = at.dataframe[0]
    pd.testing.assert_frame_equal(shown.value.reset_index(drop=True), found)
    config = shown.proto.columns
    assert '"Actual (USD)"' in config and '"Events nearby"' in config and '"Expected up to (USD)"' in config
    assert TPU_DEAL in set(shown.value["events"])
    pd.testing.assert_frame_equal(csvs["anomalies"], found)
    assert not [c for c in at.caption if "None" in c.value or "nan" in c.value]


def test_the_page_filters_by_severity_through_the_url(app, scored) -> None:
    at = app("anomalies", an_severities=["Low"])
    assert {m.label: m.value for m in at.metric}["Anomalies"] == "0"
    assert [s.value for s in at.success] == ["No anomaly in this selection."]


def test_the_page_says_how_to_score_when_no_run_is_stored(app, spend_db) -> None:
    at = app("anomalies")
    assert "`python -m etl anomalies run`" in at.info[0].value


def test_the_overview_marks_the_anomalies_above_the_bars(app, scored) -> None:
    at = app()  # Overview: monthly bars per provider
    over_time = figures(at)[0]
    [marks] = [t for t in over_time["data"] if t["name"] == "Anomalies"]
    bars = [t for t in over_time["data"] if t["type"] == "bar"]
    heights: dict[str, float] = {}
    for bar in bars:
        for x, y in zip(bar["x"], values(bar["y"]), strict=True):
            heights[x[:10]] = heights.get(x[:10], 0.0) + y
    assert [x[:10] for x in marks["x"]] == ["2025-05-01", "2025-06-01"]
    assert values(marks["y"]) == pytest.approx([heights["2025-05-01"], heights["2025-06-01"]])
    assert "2025-05-02 Google Cloud: 198.00 USD (expected 157.32" in marks["hovertext"][0]
    assert any(c.value.startswith("★ marks the periods with anomalies: 18 days of") for c in at.caption)


def test_spend_vs_market_marks_the_anomalies_of_the_chosen_provider(app, scored) -> None:
    at = app("spend_vs_market")  # the first provider with prices, CoreWeave, in weekly bars
    one = figures(at)[0]
    [marks] = [t for t in one["data"] if t["name"] == "Anomalies"]
    expected = queries.chart_marks(Reader(scored), SpendFilter(FIRST, LAST, providers=("CoreWeave",)), "week")
    assert len(expected) and set(expected["series"]) == {"CoreWeave"}
    assert [x[:10] for x in marks["x"]] == sorted({str(period)[:10] for period in expected["period"]})
    assert all(line.split(" ", 1)[1].startswith("CoreWeave:") for text in marks["hovertext"]
               for line in text.split("<br>"))
    assert any(c.value.startswith(f"★ marks the periods with CoreWeave's spend anomalies ({len(expected)} days")
               for c in at.caption)
