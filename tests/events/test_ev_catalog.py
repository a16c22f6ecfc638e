"""The shipped event catalog: complete, sourced, valid, and loaded idempotently by ``init``."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date, datetime

import pytest

from etl.config import load_config
from etl.events.catalog import CATALOG_FILE, refresh_catalog
from etl.events.files import read_event_csv
from etl.events.store import write_events
from etl.events.validate import Event, Known
from etl.market.calendars import LISTING_FILE
from tests.conftest import SHARED

SHARED_EVENTS = SHARED / "data" / "events-2019-2025.csv"
PROVIDERS = {"AWS", "Microsoft", "Google Cloud", "Oracle", "CoreWeave"}
REQUIRED = {  # the list: date and the ticker that must be studied
    "msft-openai-investment-2019": (date(2019, 7, 22), "MSFT"),
    "msft-openai-extension-2023": (date(2023, 1, 23), "MSFT"),
    "oracle-oci-openai-capacity-2024": (date(2024, 6, 11), "ORCL"),
    "stargate-2025": (date(2025, 1, 21), "ORCL"),
    "coreweave-openai-contract-2025": (date(2025, 3, 10), "MSFT"),
    "coreweave-ipo-2025": (date(2025, 3, 28), "CRWV"),
    "openai-google-cloud-2025": (date(2025, 6, 10), "GOOGL"),
    "oracle-30b-cloud-contract-2025": (date(2025, 6, 30), "ORCL"),
    "oracle-openai-4-5gw-2025": (date(2025, 7, 22), "ORCL"),
    "oracle-openai-300b-2025": (date(2025, 9, 10), "ORCL"),
    "msft-openai-recapitalization-2025": (date(2025, 10, 28), "MSFT"),
    "aws-openai-38b-2025": (date(2025, 11, 3), "AMZN"),
}


@pytest.fixture(scope="module")
def catalog() -> dict[str, Event]:
    with open(LISTING_FILE, encoding="utf-8", newline="") as handle:
        listed = {row["ticker"] for row in csv.DictReader(handle)}
    batch = read_event_csv(CATALOG_FILE, Known(tickers=listed, providers=PROVIDERS))
    return {event.event_id: event for event, _ in batch}


def test_the_required_events_are_present_with_sources(catalog):
    for event_id, (day, ticker) in REQUIRED.items():
        event = catalog[event_id]
        assert event.local_date == day, event_id
        assert ticker in event.tickers, event_id
        assert event.source_urls and all(url.startswith("https://") for url in event.source_urls), event_id
        assert event.notes and ("verified" in event.notes or "not found" in event.notes), event_id


def test_every_catalog_event_is_sourced_and_explained(catalog):
    for event in catalog.values():
        assert event.source_urls and event.notes and event.companies, event.event_id
        assert set(event.providers) <= PROVIDERS, event.event_id


def test_verified_timings_and_reported_moves(catalog):
    google = catalog["openai-google-cloud-2025"]
    assert (google.announced_at, google.time_precision, google.market_time) == \
        (datetime(2025, 6, 10, 10, 21), "minute", "pre")
    assert "10:21 AM UTC" in google.notes and dict(google.reported_moves) == {"GOOGL": 0.021, "MSFT": -0.006}
    stargate = catalog["stargate-2025"]
    assert (stargate.time_precision, stargate.market_time) == ("date", "post")
    assert "9984.T" in stargate.tickers and "+7.17 % on 01-21 and +6.75 % on 01-22" in stargate.notes
    ipo = catalog["coreweave-ipo-2025"]
    assert (ipo.announced_at, ipo.market_time, ipo.time_zone) == \
        (datetime(2025, 3, 28, 17, 14), "intraday", "America/New_York")


@pytest.mark.skipif(not SHARED_EVENTS.exists(), reason=f"{SHARED_EVENTS} not found (../shared beside the checkout)")
def test_every_event_of_the_shared_list_is_in_the_catalog(catalog):
    with open(SHARED_EVENTS, encoding="utf-8", newline="") as handle:
        shared = Counter(date.fromisoformat(row["event_date"]) for row in csv.DictReader(handle))
    assert Counter(event.local_date for event in catalog.values()) == shared


def test_init_loads_the_catalog_once(cli, query):
    assert cli("init").code == 0
    first = query("SELECT event_id, added_at FROM events WHERE origin = 'catalog' ORDER BY event_id")
    assert len(first) == 24
    assert query("SELECT count(*) FROM event_day0 WHERE event_id = 'stargate-2025'") == [(4,)]
    assert query("SELECT count(*) FROM load_log WHERE kind = 'events'") == [(1,)]
    assert cli("init").code == 0 and cli("events", "list").code == 0
    assert query("SELECT event_id, added_at FROM events WHERE origin = 'catalog' ORDER BY event_id") == first
    assert query("SELECT count(*) FROM load_log WHERE kind = 'events'") == [(1,)]


def test_a_user_event_is_never_overwritten_by_the_catalog(warehouse, query):
    mine = Event("stargate-2025", datetime(2025, 1, 21), "date", "unknown", "My own Stargate note", ("ORCL",))
    config = load_config(None, environ={})
    with warehouse.write("test") as session:
        with session.transaction() as con:
            write_events(con, [mine], "user")
        assert "1 skipped (their ids belong to user events: stargate-2025)" in refresh_catalog(session, config).message
    assert query("SELECT origin, headline FROM events WHERE event_id = 'stargate-2025'") == \
        [("user", "My own Stargate note")]
    assert query("SELECT count(*) FROM events WHERE origin = 'catalog'") == [(23,)]
