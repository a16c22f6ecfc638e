"""dashboard.services.headlines: each page's one-sentence answer, from hand-made frames, word for word."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd

from dashboard.queries.meta import WarehouseSummary
from dashboard.queries.spend import Kpis
from dashboard.services import headlines
from etl.eventstudy.settings import StudySettings
from etl.eventstudy.warehouse import StudyTables
from etl.eventstudy.windows import OffsetWindow

START, END = date(2025, 1, 1), date(2025, 6, 30)


def kpis(total: str, top: str | None, top_amount: str) -> Kpis:
    zero = Decimal(0)
    return Kpis(END, date(2025, 6, 1), zero, date(2025, 5, 1), zero, zero, Decimal(total), top, Decimal(top_amount),
                zero)


def test_overview_states_the_total_the_providers_and_the_largest_share():
    assert headlines.overview(kpis("1234567.891", "Google Cloud", "617283.9455"), 3, START, END, "USD",
                              "Effective cost") == (
        "From 2025-01-01 to 2025-06-30, our effective cost was **USD 1,234,567.89** across 3 providers; "
        "Google Cloud was the largest at **50.0%**.")
    assert headlines.overview(kpis("99.5", "CoreWeave", "99.5"), 1, START, END, "EUR", "Billed cost") == (
        "From 2025-01-01 to 2025-06-30, our billed cost was **EUR 99.50** across 1 provider: CoreWeave.")
    assert headlines.overview(kpis("0", None, "0"), 0, START, END, "USD", "List cost") == (
        "From 2025-01-01 to 2025-06-30, no list cost in USD matches these filters.")


def changes(**row) -> pd.DataFrame:
    base = {"event_id": "ev-old", "date": date(2025, 3, 1), "headline": "Old news", "provider": "Google Cloud",
            "ticker": "GOOGL", "share_before_90d": 0.2, "share_after_90d": 0.25, "complete_90d": True,
            "car_m1_p1": 0.0123, "car_m1_p1_p": 0.0412, "car_m1_p1_stars": "**", "car_note": "market model vs SPY"}
    newer = base | {"event_id": "ev-new", "date": date(2025, 5, 1), "headline": "New news"}
    other = base | {"event_id": "ev-cw", "provider": "CoreWeave", "ticker": "CRWV", "date": date(2025, 6, 1)}
    return pd.DataFrame([base, newer | row, other])


def test_spend_vs_market_takes_the_newest_event_of_the_provider_with_its_share_and_car():
    assert headlines.spend_vs_market(changes(), "Google Cloud", "Effective cost") == (
        "Google Cloud's share of our effective cost went from **20.0%** in the 90 days before “New news” "
        "(2025-05-01) to **25.0%** in the 90 days from it; GOOGL's CAR[-1,+1] was **+1.23%** (p = 0.041 **).")


def test_spend_vs_market_prefers_the_openai_google_cloud_event():
    frame = changes(event_id=headlines.HEADLINE_EVENT, date=date(2025, 6, 10), headline="OpenAI adds Google Cloud")
    newest = frame.iloc[[0]].assign(event_id="ev-newest", date=date(2025, 7, 1))
    frame = pd.concat([frame, newest], ignore_index=True)
    assert headlines.headline_event(frame, "AWS") is None
    assert headlines.headline_event(frame.iloc[[0, 3]], "Google Cloud")["event_id"] == "ev-newest"
    assert headlines.headline_event(frame, "Google Cloud")["event_id"] == headlines.HEADLINE_EVENT


def test_spend_vs_market_says_what_is_missing_and_what_is_synthetic():
    synthetic = headlines.spend_vs_market(changes(complete_90d=False, car_m1_p1_stars=""), "Google Cloud",
                                          "Effective cost", synthetic=("GOOGL",))
    assert synthetic.endswith("in the 90 days from it (the loaded spend does not cover both 90-day windows); GOOGL's "
                              "CAR[-1,+1] on synthetic demo prices was **+1.23%** (p = 0.041).")
    no_car = headlines.spend_vs_market(changes(car_m1_p1=np.nan, car_note="only 40 sessions (minimum 60)"),
                                       "Google Cloud", "Effective cost")
    assert no_car.endswith("; there is no CAR[-1,+1] for GOOGL: only 40 sessions (minimum 60).")
    no_spend = headlines.spend_vs_market(changes(share_before_90d=np.nan), "Google Cloud", "Effective cost")
    assert no_spend.startswith("We have no spend in the 90 days before or from “New news” (2025-05-01) to compare "
                               "Google Cloud's share; GOOGL's CAR[-1,+1]")
    assert headlines.spend_vs_market(changes(), "AWS", "Effective cost") == (
        "No event of the catalog names AWS, so there is no move of its share or stock to report.")


def study_tables(results: list[dict], pairs: list[dict]) -> StudyTables:
    empty = pd.DataFrame()
    return StudyTables(empty, empty, pd.DataFrame(results, columns=["event_id", "ticker", "benchmark", "window", "car",
                                                                    "car_t_p", "stars"]),
                       empty, empty, empty, empty, empty, empty,
                       pd.DataFrame(pairs, columns=["event_id", "ticker", "status", "reason"]),
                       StudySettings(windows=(OffsetWindow(0, 0), OffsetWindow(-1, 1))))


EVENTS = pd.DataFrame([{"event_id": "ev", "headline": "OpenAI adds Google Cloud",
                        "announced_at": pd.Timestamp("2025-06-10 14:00")}])


def test_event_study_gives_the_main_windows_car_per_ticker_with_p_values():
    tables = study_tables(
        [{"event_id": "ev", "ticker": "GOOGL", "benchmark": "SPY", "window": "[-1,+1]", "car": 0.0143,
          "car_t_p": 0.2468, "stars": ""},
         {"event_id": "ev", "ticker": "GOOGL", "benchmark": "SPY", "window": "[0,0]", "car": 0.5, "car_t_p": 0.001,
          "stars": "***"},
         {"event_id": "ev", "ticker": "MSFT", "benchmark": "SPY", "window": "[-1,+1]", "car": -0.0039,
          "car_t_p": 0.0051, "stars": "***"},
         {"event_id": "other", "ticker": "ORCL", "benchmark": "SPY", "window": "[-1,+1]", "car": 0.2,
          "car_t_p": 0.5, "stars": ""}],
        [{"event_id": "ev", "ticker": "GOOGL", "status": "computed", "reason": None},
         {"event_id": "ev", "ticker": "MSFT", "status": "computed", "reason": None},
         {"event_id": "ev", "ticker": "AMZN", "status": "excluded", "reason": "no prices"}])
    assert headlines.event_study(EVENTS, tables) == (
        "Around “OpenAI adds Google Cloud” (2025-06-10), CAR[-1,+1] was **+1.43%** for GOOGL against SPY "
        "(p = 0.247) and **-0.39%** for MSFT against SPY (p = 0.005 ***); AMZN has none (no prices).")
    assert headlines.event_study(EVENTS, tables, ("googl",)).endswith(
        "against SPY (p = 0.005 ***), on synthetic demo prices of GOOGL; AMZN has none (no prices).")


def test_a_dollar_in_a_headline_is_not_read_as_markdown_math():
    events = EVENTS.assign(headline="A $38B deal, then $2B more")
    assert headlines.event_study(events, study_tables([], [])).startswith(
        "No ticker of “A \\$38B deal, then \\$2B more” (2025-06-10) could be studied")


def test_event_study_without_a_result_says_why():
    tables = study_tables([], [{"event_id": "ev", "ticker": "GOOGL", "status": "failed", "reason": "no day 0"}])
    assert headlines.event_study(EVENTS, tables) == (
        "No ticker of “OpenAI adds Google Cloud” (2025-06-10) could be studied: GOOGL has none (no day 0).")


def test_data_health_counts_fresh_feeds_failures_and_the_latest_market_data():
    feeds = pd.DataFrame({"provider": ["AWS", "AWS", "Google Cloud"], "account": ["a", "a", "g"],
                          "stale": [False, False, True],
                          "data_until": pd.to_datetime(["2025-06-30", "2025-06-30", "2025-06-20"])})
    prices = pd.DataFrame({"ticker": ["GOOGL", "SPY"], "stale": [False, True],
                           "last_session": [date(2025, 6, 27), date(2025, 6, 30)]})
    fx = pd.DataFrame({"pair": ["EURUSD"], "stale": [False], "last_date": [date(2025, 6, 29)]})
    assert headlines.data_health(feeds, 2, prices, fx) == (
        "**1 of 2 billing feeds** is fresh (billing data until 2025-06-30); **2 open failures**; prices up to "
        "2025-06-30 (1 of 2 tickers fresh); FX rates up to 2025-06-29 (1 of 1 pair fresh).")
    empty = pd.DataFrame(columns=["provider", "account", "stale", "data_until"])
    assert headlines.data_health(empty, 1, prices.iloc[:0], fx.iloc[:0]) == (
        "No billing feed is loaded yet; **1 open failure**; no prices; no FX rates.")


def test_sql_states_what_the_warehouse_holds():
    facts = WarehouseSummary(9, 12345, date(2024, 1, 1), END, ("AWS", "CoreWeave"), ("USD",), False, 6, 1)
    assert headlines.sql(facts, 24) == (
        "The warehouse holds **12,345 cost rows** of 2 providers from 2024-01-01 to 2025-06-30, prices of 6 tickers "
        "and 1 event; 24 documented relations are listed beside the console.")
    assert headlines.sql(WarehouseSummary(9), 1) == (
        "The warehouse holds no billing data yet; 1 documented relation is listed beside the console.")
