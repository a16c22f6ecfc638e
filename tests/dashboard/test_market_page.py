"""Spend vs market page under AppTest: charts equal the query results; events appear once their table exists."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from dashboard import charts
from dashboard.queries import spend
from dashboard.queries.reader import Reader
from dashboard.queries.spend import SpendFilter
from dashboard.services import event_spend, stock_lines
from etl.warehouse import Warehouse
from tests.dashboard import builders
from tests.dashboard.apptest import figures, values
from tests.dashboard.builders import FIRST, LAST

PAIRS = tuple(sorted(builders.TICKERS.items()))


@pytest.fixture
def market_page(app):
    return lambda **params: app("spend_vs_market", **params)


def test_one_provider_spend_and_stock_price(market_page, spend_db, csvs, study):
    at = market_page()
    assert at.title[0].value == "Spend vs market"
    one, grid = figures(at)
    reader = Reader(spend_db)
    weekly = spend.spend_over_time(reader, SpendFilter(FIRST, LAST), "week", "provider", top=1000)
    coreweave = weekly[weekly["provider"] == "CoreWeave"]  # the first provider with prices
    assert one["layout"]["title"]["text"] == "CoreWeave: weekly effective cost (USD) and CRWV close"
    assert one["layout"]["yaxis"]["title"]["text"] == "Effective cost (USD)"
    assert one["layout"]["yaxis2"]["title"]["text"] == "CRWV close (USD)"
    # 2025-03-01 is a Saturday and 2025-06-30 a Monday: the first and last weeks are partial, drawn hatched
    full, partial = (t for t in one["data"] if t["type"] == "bar")
    assert values(full["y"]) == coreweave["amount"].tolist()[1:-1]
    assert (values(partial["y"]), partial["marker"]["pattern"]["shape"], partial["customdata"]) == (
        [coreweave["amount"].iloc[0], coreweave["amount"].iloc[-1]], "/",
        ["<br>partial: 2 of 7 days", "<br>partial: 1 of 7 days"])
    assert any("Hatched bars" in c.value and "2025-02-24 partial: 2 of 7 days" in c.value for c in at.caption)
    stock = next(t for t in one["data"] if t["name"] == "CRWV close")
    line = stock_lines.stock_line(reader, "CRWV", FIRST, LAST, "price", study=study)
    assert values(stock["y"]) == line.frame["value"].tolist()
    assert [a["text"] for a in grid["layout"]["annotations"]] == ["CoreWeave (CRWV)", "Google Cloud (GOOGL)",
                                                                  "Microsoft (MSFT)"]
    assert any("No event names a provider of our spend" in info.value for info in at.info)  # none loaded
    table = csvs["CoreWeave spend and stock"]
    assert sorted(table[table["series"] == "CoreWeave spend"]["y"]) == sorted(coreweave["amount"])
    assert len(csvs["all providers spend and stock"]) == sum(len(values(t["y"])) for t in grid["data"])


def test_the_stock_as_cumulative_abnormal_return(market_page, spend_db, study):
    at = market_page()
    at.radio(key="sm_view").set_value("car").run()
    at.radio(key="sm_model").set_value("market").run()
    one = figures(at)[0]
    assert one["layout"]["yaxis2"]["title"]["text"] == "CRWV CAR vs SPY (%)"
    line = stock_lines.stock_line(Reader(spend_db), "CRWV", FIRST, LAST, "car", "SPY", "market", study=study)
    stock = next(t for t in one["data"] if t["name"] == "CRWV CAR vs SPY")
    assert values(stock["y"]) == pytest.approx(line.frame["value"].tolist())
    assert any(c.value.startswith("CRWV CAR vs SPY: market model fitted over 240 sessions of the estimation window "
                                  "[-250,-11]") for c in at.caption)


def test_url_parameters_reopen_a_view(market_page, spend_db, study):
    at = market_page(sm_provider="Google Cloud", sm_view="Cumulative return", sm_grain="Month",
                     sm_dates=["2025-04-01", "2025-06-30"], sm_basis="Billed cost")
    assert at.selectbox(key="sm_provider").value == "Google Cloud"
    one = figures(at)[0]
    assert one["layout"]["title"]["text"] == "Google Cloud: monthly billed cost (USD) and GOOGL cumulative return"
    assert values(one["data"][0]["y"]) == [float(builders.expected(date(2025, m, 1), date(2025, m, d), "billed",
                                                                   providers=("Google Cloud",)))
                                           for m, d in ((4, 30), (5, 31), (6, 30))]
    line = stock_lines.stock_line(Reader(spend_db), "GOOGL", date(2025, 4, 1), LAST, "return", study=study)
    assert values(one["data"][1]["y"]) == pytest.approx(line.frame["value"].tolist())


def test_the_benchmark_follows_the_setting(market_page, spend_db, monkeypatch):
    monkeypatch.setenv("SPENDSCOPE_DASHBOARD__BENCHMARK", "msft")
    at = market_page(sm_view="Cumulative abnormal return")
    assert at.selectbox(key="sm_benchmark").value == "MSFT"
    assert figures(at)[0]["layout"]["yaxis2"]["title"]["text"] == "CRWV CAR vs MSFT (%)"


def test_events_as_markers_and_their_share_changes_next_to_the_car(market_page, spend_db, csvs, study):
    builders.create_events(Warehouse(spend_db))
    at = market_page(sm_provider="Google Cloud")
    one = figures(at)[0]
    [markers] = [t for t in one["data"] if t["name"] == "Events"]
    assert markers["hovertext"] == ["2025-05-01 · Google Cloud<br>Acme signs a TPU capacity deal with Google"]
    shown = at.dataframe[-1].value
    computed = event_spend.event_share_changes(Reader(spend_db), "USD", "effective", 7, PAIRS, "SPY", study=study)
    pd.testing.assert_frame_equal(shown.reset_index(drop=True), computed, check_dtype=False)
    assert shown["event_id"].tolist() == ["ev-msft", "ev-tpu", "ev-cw"]
    assert csvs["events and spend share"].equals(computed)
    grid = figures(at)[1]
    assert sum(1 for t in grid["data"] if t["name"] == "Events") == 3  # one marker trace per provider panel


def test_without_prices_the_page_says_how_to_load_them(app, db_path, tmp_path: Path):
    builders.build(db_path, tmp_path, with_prices=False)
    at = app("spend_vs_market")
    assert any("python -m etl prices fetch" in info.value for info in at.info)
    assert not at.get("plotly_chart")


def test_the_line_of_a_figure_matches_the_csv(spend_db, study):
    reader = Reader(spend_db)
    line = stock_lines.stock_line(reader, "MSFT", FIRST, LAST, "return", study=study)
    spend_frame = pd.DataFrame({"period": [pd.Timestamp("2025-03-03")], "amount": [1.0]})
    table = charts.figure_frame(charts.spend_vs_stock(spend_frame, line, "Microsoft", "USD", "effective", "week"))
    assert table[table["series"] == line.label]["y"].tolist() == line.frame["value"].tolist()


def test_synthetic_market_data_is_labelled(market_page, spend_db):
    with Warehouse(spend_db).write("mark as demo") as session:  # as `python -m etl demo` records its price loads
        session.con.execute("UPDATE load_log SET synthetic = true WHERE kind = 'prices'")
    at = market_page()
    label = "**Synthetic market data.** The prices of CRWV, GOOGL, MSFT, SPY were made up by `python -m etl demo`"
    assert any(w.value.startswith(label) for w in at.warning)
