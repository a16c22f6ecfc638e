"""Event study page under AppTest: what it shows equals the event-study queries; choices live in the URL."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from dashboard.queries import events as queries
from dashboard.queries.reader import Reader
from etl.events.store import write_events
from etl.events.validate import Event
from etl.warehouse import Warehouse
from tests.dashboard import builders
from tests.dashboard.apptest import figures, values

GOOGLE = Event("ev-tpu", datetime(2025, 5, 1, 14, 30), "minute", "intraday",
               "Acme signs a TPU capacity deal with Google", ("GOOGL", "MSFT"), providers=("Google Cloud",),
               source_urls=("https://example.com/ev-tpu",), notes="Timing verified on the wire.",
               reported_moves=(("GOOGL", 0.05),))
EARLY = Event("ev-early", datetime(2024, 2, 1), "date", "unknown", "Too early for an estimation window",
              ("GOOGL",), source_urls=("https://example.com/ev-early",))


@pytest.fixture
def event_page(app, spend_db):
    with Warehouse(spend_db).write("test events") as session, session.transaction() as con:
        con.execute("DELETE FROM event_day0; DELETE FROM events")
        write_events(con, [GOOGLE, EARLY], origin="user")
    return lambda **params: app("event_study", **params)


def expected(spend_db, event_ids=("ev-tpu",), **params) -> queries.StudyTables:
    return queries.study(Reader(spend_db), tuple(event_ids), **params)


def test_results_chart_and_facts_equal_the_study(event_page, spend_db, csvs):
    at = event_page(es_events="ev-tpu")
    assert at.title[0].value == "Event study"
    study = expected(spend_db)
    catalog, day0, results, cross, daily, facts = (frame.value for frame in at.dataframe)
    assert catalog["event_id"].tolist() == ["ev-tpu", "ev-early"]
    assert day0[["ticker", "day0"]].astype(str).values.tolist() == [["GOOGL", "2025-05-01"], ["MSFT", "2025-05-01"]]
    assert results["car"].tolist() == pytest.approx(study.results["car"].tolist())
    assert results["stars"].tolist() == study.results["stars"].tolist()
    assert results["window"].tolist()[:2] == ["[0,0]", "[0,0]"]
    assert cross["car_patell"].tolist() == pytest.approx(study.cross["car_patell"].tolist())
    assert daily["rank"].tolist() == pytest.approx(study.cross_daily["rank"].tolist(), nan_ok=True)
    assert facts[["ticker", "T"]].values.tolist() == [["GOOGL", 240], ["MSFT", 240]]
    [chart] = figures(at)
    paths = queries.car_paths(study)
    googl = next(t for t in chart["data"] if t.get("name") == "GOOGL")
    assert values(googl["y"]) == pytest.approx((paths[paths["ticker"] == "GOOGL"]["car"] * 100).tolist())
    assert values(googl["x"]) == list(range(-10, 11))
    assert chart["layout"]["yaxis"]["title"]["text"] == "Cumulative abnormal return (%)"
    assert csvs["event study car paths"]["car"].tolist() == pytest.approx(paths["car"].tolist())


def test_a_media_figure_far_from_the_close_to_close_move_is_noted(event_page, spend_db):
    at = event_page(es_events="ev-tpu")
    day0_return = expected(spend_db).daily.query("ticker == 'GOOGL' and relative_day == 0")["ret"].item()
    [note] = [w.value for w in at.warning if "media reported" in w.value]
    assert "GOOGL +5.00%" in note and f"{day0_return:+.2%}" in note


def test_choices_in_the_url_reopen_the_same_study(event_page, spend_db):
    # a bound widget's URL value is its label as shown (the model's), so a shared link reads naturally
    at = event_page(es_events="ev-tpu", es_model="market-adjusted", es_windows="-1:1", es_tickers="GOOGL")
    results = at.dataframe[2].value
    study = expected(spend_db, model="market_adjusted", windows="-1:1", tickers=("GOOGL",))
    assert results[["ticker", "window"]].values.tolist() == [["GOOGL", "[-1,+1]"]]
    assert results["car"].tolist() == pytest.approx(study.results["car"].tolist())
    r = builders.stored_prices("GOOGL").set_index("date")["adj_close"].pct_change()
    m = builders.stored_prices("SPY").set_index("date")["adj_close"].pct_change()
    window = pd.Timestamp("2025-04-30"), pd.Timestamp("2025-05-02")
    assert results["car"][0] == pytest.approx(float((r - m).loc[window[0]:window[1]].sum()), rel=1e-12)


def test_an_event_without_enough_history_shows_its_exclusion(event_page):
    at = event_page(es_events="ev-early")
    left_out = at.dataframe[-1].value
    assert left_out[["event_id", "ticker", "status"]].values.tolist() == [["ev-early", "GOOGL", "excluded"]]
    assert "minimum 60" in left_out["reason"][0]
    assert any("No ticker could be studied" in info.value for info in at.info)


def test_car_bands_widen_with_the_days_cumulated(spend_db, event_page):
    paths = queries.car_paths(expected(spend_db))
    googl = paths[paths["ticker"] == "GOOGL"]
    half = (googl["upper"] - googl["car"]).to_numpy()
    s = expected(spend_db).results.query("ticker == 'GOOGL'")["s"].iloc[0]
    assert half == pytest.approx(1.959963984540054 * s * np.sqrt(np.arange(1, 22)))
