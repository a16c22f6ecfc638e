"""Each page's first markdown, right under its title, is its headline sentence, with the figures of SQL totals (or
of an independent computation) written the way the page writes them."""

from __future__ import annotations

from datetime import date

import pytest

from dashboard.formats import money
from dashboard.queries.reader import Reader
from dashboard.queries.schema import catalog
from dashboard.services import event_spend
from etl.warehouse import Warehouse
from tests.dashboard import builders
from tests.dashboard.builders import FIRST, LAST
from tests.dashboard.test_event_page import expected as expected_study
from tests.dashboard.test_event_spend import independent_car, share

SPEND = "SELECT {} FROM daily_spend_in_currency('USD') WHERE NOT fx_missing"


def marks(stars: str) -> str:
    return f" {stars}" if stars else ""


def headline(at, title: str) -> str:
    assert at.title[0].value == title
    return at.markdown[0].value


def test_overview_headline_is_the_sql_total_providers_and_top_share(app, spend_db, query):
    [(total, providers)] = query(SPEND.format("sum(effective_cost_reporting), count(DISTINCT provider)"))
    [(top, amount)] = query(SPEND.format("provider, sum(effective_cost_reporting) AS s")
                            + " GROUP BY 1 ORDER BY s DESC LIMIT 1")
    assert headline(app(), "Overview") == (
        f"From {FIRST} to {LAST}, our effective cost was **{money(total, 'USD')}** across {providers} providers; "
        f"{top} was the largest at **{amount / total:.1%}**.")
    assert money(total, "USD") == "USD 34,672.50"


def test_overview_headline_follows_the_filters(app, spend_db, query):
    at = app(ov_basis="Billed cost", ov_providers=["CoreWeave"], ov_dates=["2025-04-01", "2025-05-31"])
    [(total,)] = query(SPEND.format("sum(billed_cost_reporting)") + " AND provider = 'CoreWeave' AND date BETWEEN "
                       "DATE '2025-04-01' AND DATE '2025-05-31'")
    assert headline(at, "Overview") == (
        f"From 2025-04-01 to 2025-05-31, our billed cost was **{money(total, 'USD')}** across 1 provider: CoreWeave.")


def test_spend_vs_market_headline_is_the_share_change_and_car_of_the_providers_event(app, spend_db, query, study):
    builders.create_events(Warehouse(spend_db))
    at = app("spend_vs_market", sm_provider="Google Cloud")
    [(title,)] = query("SELECT headline FROM events WHERE event_id = 'ev-tpu'")  # Google Cloud's only event
    before = share("Google Cloud", date(2025, 1, 31), date(2025, 4, 30))
    after = share("Google Cloud", date(2025, 5, 1), date(2025, 7, 29))
    car = independent_car("GOOGL", "2025-05-01")
    cars = event_spend.event_cars(Reader(spend_db), (("ev-tpu", "GOOGL"),), "SPY", study=study)
    [(p, stars)] = cars[["car_m1_p1_p", "car_m1_p1_stars"]].values.tolist()
    assert 0 < p < 0.01 and stars == "***"
    assert headline(at, "Spend vs market") == (
        f"Google Cloud's share of our effective cost went from **{before:.1%}** in the 90 days before “{title}” "
        f"(2025-05-01) to **{after:.1%}** in the 90 days from it (the loaded spend does not cover both 90-day "
        f"windows); GOOGL's CAR[-1,+1] was **{car:+.2%}** (p = {p:.3f} ***).")
    events = at.dataframe[-1].value  # the table beside it shows the same CAR with its p-value
    tpu = events[events["event_id"] == "ev-tpu"].iloc[0]
    assert tpu["car_m1_p1"] == pytest.approx(car) and tpu["car_m1_p1_p"] == pytest.approx(p)


def test_event_study_headline_is_the_first_events_car_per_ticker(app, spend_db):
    builders.create_study_events(Warehouse(spend_db))
    at = app("event_study", es_events="ev-tpu")
    results = expected_study(spend_db).results
    main = results[results["window"] == "[-1,+1]"].set_index("ticker")
    googl, msft = main.loc["GOOGL"], main.loc["MSFT"]
    assert headline(at, "Event study") == (
        "Around “Acme signs a TPU capacity deal with Google” (2025-05-01), CAR[-1,+1] was "
        f"**{googl.car:+.2%}** for GOOGL against SPY (p = {googl.car_t_p:.3f}{marks(googl.stars)}) and "
        f"**{msft.car:+.2%}** for MSFT against SPY (p = {msft.car_t_p:.3f}{marks(msft.stars)}).")


def test_data_health_headline_counts_the_feeds(app, spend_db, query):
    [(feeds, until)] = query("SELECT count(*), max(data_until)::DATE FROM billing_freshness")
    [(tickers, last_session)] = query("SELECT count(DISTINCT ticker), max(date) FROM prices")
    [(pairs, last_rate)] = query("SELECT count(DISTINCT currency || quote_currency), max(date) FROM fx_rates")
    assert headline(app("data_health"), "Data health") == (  # the fixture's data ends on 2025-06-30: all stale
        f"**0 of {feeds} billing feeds** are fresh (billing data until {until}); **0 open failures**; prices up to "
        f"{last_session} (0 of {tickers} tickers fresh); FX rates up to {last_rate} (0 of {pairs} pair fresh).")


def test_sql_headline_is_what_the_warehouse_holds(app, spend_db, query):
    [(rows, providers, first, last)] = query("SELECT sum(rows)::BIGINT, count(DISTINCT provider), min(date), "
                                             "max(date) FROM daily_spend")
    [(tickers,)] = query("SELECT count(DISTINCT ticker) FROM prices")
    [(events,)] = query("SELECT count(*) FROM events")
    [(relations,)] = query("SELECT count(DISTINCT table_name) FROM information_schema.columns WHERE table_name IN "
                           "(SELECT unnest(?))", [[d.name for d in catalog()]])
    assert headline(app("sql_console"), "SQL") == (
        f"The warehouse holds **{rows:,} cost rows** of {providers} providers from {first} to {last}, prices of "
        f"{tickers} tickers and {events} events; {relations} documented relations are listed beside the console.")
