"""Event study page under AppTest: what it shows equals the event-study service; choices live in the URL and
default to the ``eventstudy.*`` settings."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from dashboard.queries.reader import Reader
from dashboard.services import event_study
from dashboard.services.settings import StudyConfig
from etl.config import load_config
from etl.eventstudy.engine import CAR_STATISTICS, DAILY_STATISTICS
from etl.eventstudy.warehouse import StudyTables
from etl.warehouse import Warehouse
from tests.dashboard import builders
from tests.dashboard.apptest import figures, values


@pytest.fixture
def event_page(app, spend_db):
    builders.create_study_events(Warehouse(spend_db))
    return lambda **params: app("event_study", **params)


def expected(spend_db, event_ids=("ev-tpu",), **params) -> StudyTables:
    return event_study.study(Reader(spend_db), tuple(event_ids), config=StudyConfig.from_config(load_config()),
                             **params)


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
    paths = event_study.car_paths(study)
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


def test_on_synthetic_prices_the_media_figure_is_not_compared_and_the_page_says_why(event_page, spend_db):
    with Warehouse(spend_db).write("mark as demo") as session:  # as `python -m etl demo` records its price loads
        session.con.execute("UPDATE load_log SET synthetic = true WHERE kind = 'prices'")
    at = event_page(es_events="ev-tpu")
    day0_return = expected(spend_db).daily.query("ticker == 'GOOGL' and relative_day == 0")["ret"].item()
    assert not [w.value for w in at.warning if "media reported" in w.value]
    [note] = [i.value for i in at.info if "media reported" in i.value]
    assert note.startswith("The media reported **GOOGL +5.00%** for this announcement. GOOGL's prices here are "
                           "synthetic demo data")
    assert f"{day0_return:+.2%}" not in note and "cannot be compared" in note


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


def test_the_defaults_are_the_eventstudy_settings(event_page, spend_db, monkeypatch):
    monkeypatch.setenv("SPENDSCOPE_EVENTSTUDY__WINDOWS", "-2:2")
    monkeypatch.setenv("SPENDSCOPE_EVENTSTUDY__MODEL", "market_adjusted")
    monkeypatch.setenv("SPENDSCOPE_EVENTSTUDY__ESTIMATION", "-120:-6")
    at = event_page(es_events="ev-tpu")
    assert at.text_input(key="es_windows").value == "-2:2"
    assert at.text_input(key="es_estimation").value == "-120:-6"
    assert at.radio(key="es_model").value == "market_adjusted"
    results = at.dataframe[2].value
    assert results["window"].unique().tolist() == ["[-2,+2]"]
    r = builders.stored_prices("GOOGL").set_index("date")["adj_close"].pct_change()
    m = builders.stored_prices("SPY").set_index("date")["adj_close"].pct_change()
    googl = results[results["ticker"] == "GOOGL"]
    assert googl["car"].item() == pytest.approx(float((r - m).loc["2025-04-29":"2025-05-05"].sum()), rel=1e-12)


def test_a_malformed_setting_is_shown_not_raised(event_page, monkeypatch):
    monkeypatch.setenv("SPENDSCOPE_EVENTSTUDY__ESTIMATION", "last year")
    at = event_page()
    assert at.error[0].value.startswith("A setting cannot be used: setting eventstudy.estimation: expected a window")


def test_several_events_draw_one_small_chart_each_with_at_most_three_bands(app, spend_db):
    builders.create_events(Warehouse(spend_db))  # ev-tpu (GOOGL), ev-cw (CRWV, NVDA: no prices), ev-msft (MSFT)
    at = app("event_study", es_events=["ev-tpu", "ev-cw", "ev-msft"], es_tickers=["GOOGL", "MSFT", "CRWV"])
    charts_drawn = figures(at)
    assert [c["layout"]["title"]["text"] for c in charts_drawn] == [
        "Acme signs a TPU capacity deal with Google", "CoreWeave expands its GPU contract with Acme",
        "Microsoft prices a new GPU tier"]
    for chart in charts_drawn:
        lines = [t["name"] for t in chart["data"] if t["mode"] == "lines+markers"]
        assert sorted(lines) == ["CRWV", "GOOGL", "MSFT"]
        assert len([t for t in chart["data"] if t.get("fill") == "tonexty"]) == 3
    paths = event_study.car_paths(event_study.study(Reader(spend_db), ("ev-tpu", "ev-cw", "ev-msft"),
                                                    tickers=("GOOGL", "MSFT", "CRWV"),
                                                    config=StudyConfig.from_config(load_config())))
    cw = next(t for t in charts_drawn[1]["data"] if t.get("name") == "CRWV")
    expected_car = paths.query("event_id == 'ev-cw' and ticker == 'CRWV'")["car"] * 100
    assert values(cw["y"]) == pytest.approx(expected_car.tolist())
    assert [m.label for m in at.multiselect] == ["Events", "Tickers (default: each event's own)"]  # no band choice


def test_the_statistics_tables_show_every_test_with_a_line_on_hover(event_page, spend_db):
    at = event_page(es_events="ev-tpu")
    study = expected(spend_db)
    for element, frame, names in ((at.dataframe[3], study.cross, CAR_STATISTICS),
                                  (at.dataframe[4], study.cross_daily, DAILY_STATISTICS)):
        shown, columns = element.value, json.loads(element.proto.columns)
        for name in names:
            assert shown[name].tolist() == pytest.approx(frame[name].tolist(), nan_ok=True), name
            assert shown[f"{name}_stars"].tolist() == frame[f"{name}_stars"].tolist(), name
            assert columns[name]["help"] == event_study.STATISTIC_HELP[name]
            assert columns[f"{name}_p"]["help"].startswith(f"Two-sided p-value of {name}.")
            assert columns[f"{name}_stars"]["help"].startswith(f"Significance of {name}: * 10 %")
        assert "Kolari-Pynnönen" in columns["r_bar"]["help"]
        assert shown["r_bar"].tolist() == pytest.approx(frame["r_bar"].tolist())
    cross = json.loads(at.dataframe[3].proto.columns)
    assert cross["car_grank"]["label"] == "CAR GRANK" and "GRANK-T" in cross["car_grank"]["help"]
    assert cross["bhar_skew_t"]["label"] == "BHAR skewness-adjusted t"
    assert at.dataframe[3].value["car_grank"].notna().all()  # two tickers: GRANK is defined
