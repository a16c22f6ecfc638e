"""``events import|add|list``: the user's events, validated with located errors; nothing of a bad file stored."""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

import pytest

from tests.conftest import run_process

HEADER = ["event_id", "date", "time", "time_zone", "market_time", "headline", "companies", "tickers",
          "providers", "source_urls", "notes", "reported_moves"]


def event_row(**values: str) -> dict[str, str]:
    row = {"event_id": "", "date": "2025-06-10", "time": "", "time_zone": "", "market_time": "unknown",
           "headline": "Google Cloud signs a new AI customer", "companies": "Alphabet", "tickers": "GOOGL",
           "providers": "Google Cloud", "source_urls": "https://example.com/news/1", "notes": "",
           "reported_moves": ""}
    return row | values


def write_events(path: Path, *rows: dict[str, str], header: list[str] = HEADER) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def user_events(query) -> list[tuple]:
    return query("SELECT event_id FROM events WHERE origin = 'user' ORDER BY event_id")


@pytest.mark.parametrize("command", [["events"], ["events", "import"], ["events", "add"], ["events", "list"]],
                         ids=" ".join)
def test_every_events_command_has_help(command, cli, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli(*command, "--help")
    assert exit_info.value.code == 0
    assert "usage: python -m etl" in capsys.readouterr().out


def test_import_stores_events_with_day0_and_reimport_is_unchanged(cli, query, tmp_path):
    path = write_events(
        tmp_path / "mine.csv",
        event_row(event_id="googl-ai-customer", time="10:21", time_zone="UTC", market_time="",
                  reported_moves="GOOGL=+2.1%"),
        event_row(date="2025-01-21", market_time="post", headline="A deal announced after the close",
                  tickers="ORCL; MSFT", providers="oracle, Microsoft Azure", companies="Oracle, Microsoft",
                  source_urls="https://example.com/a | https://example.com/b"))
    result = cli("events", "import", str(path))
    assert result.code == 0, result.out
    rows = query("SELECT event_id, announced_at, time_precision, market_time, tickers, providers, source_urls, "
                 "reported_moves, time_zone, origin FROM events WHERE origin = 'user' ORDER BY announced_at")
    assert rows == [
        ("2025-01-21-a-deal-announced-after-the-close", datetime(2025, 1, 21), "date", "post", ["ORCL", "MSFT"],
         ["Oracle", "Microsoft"], ["https://example.com/a", "https://example.com/b"], {}, None, "user"),
        ("googl-ai-customer", datetime(2025, 6, 10, 10, 21), "minute", "pre", ["GOOGL"], ["Google Cloud"],
         ["https://example.com/news/1"], {"GOOGL": 0.021}, "UTC", "user"),
    ]
    assert query("SELECT ticker, calendar, day0 FROM event_day0 WHERE event_id LIKE '2025-01-21-%' ORDER BY ticker") \
        == [("MSFT", "XNAS", date(2025, 1, 22)), ("ORCL", "XNYS", date(2025, 1, 22))]
    assert query("SELECT count(*) FROM events WHERE origin = 'catalog'")[0][0] >= 20  # the catalog came along
    assert query("SELECT status, rows FROM load_log WHERE kind = 'events' AND source = ?", [str(path)]) == \
        [("loaded", 2)]
    again = cli("events", "import", str(path))
    assert again.code == 0 and "unchanged" in again.out
    assert len(user_events(query)) == 2


@pytest.mark.parametrize(("row", "error"), [
    (event_row(tickers="GOOGL;ZZZZ"), 'line 2, column "tickers": unknown ticker "ZZZZ": not in '
                                      "sql/seed/market_listing.csv and no prices in the warehouse"),
    (event_row(date="2025-02-30"), 'line 2, column "date": "2025-02-30" is not a date (expected YYYY-MM-DD'),
    (event_row(date="10/06/2025"), 'line 2, column "date": "10/06/2025" is not a date'),
    (event_row(date="2099-01-01"), 'line 2, column "date": 2099-01-01 is in the future'),
    (event_row(date="1985-01-01"), 'line 2, column "date": 1985-01-01 is before 1990-01-01'),
    (event_row(market_time="evening"), 'line 2, column "market_time": "evening" is not one of pre, intraday, '
                                       "post, unknown"),
    (event_row(market_time=""), 'line 2, column "market_time": required for an event without a time'),
    (event_row(time="10:21", time_zone="UTC", market_time="post"),
     'line 2, column "market_time": "post" contradicts the time, which is pre in New York (2025-06-10 06:21)'),
    (event_row(time="25:00"), 'line 2, column "time": "25:00" is not a time'),
    (event_row(time="02:30", date="2025-03-09"), 'line 2, column "time": 2025-03-09 02:30 does not exist in '
                                                 "America/New_York"),
    (event_row(time="10:00", time_zone="Mars/Base"), 'line 2, column "time_zone": unknown time zone "Mars/Base"'),
    (event_row(source_urls="www.example.com/x"), 'line 2, column "source_urls": "www.example.com/x" is not an '
                                                 "http(s) URL"),
    (event_row(source_urls="ftp://example.com/x"), 'line 2, column "source_urls": "ftp://example.com/x" is not'),
    (event_row(providers="Gogle Cloud"), 'line 2, column "providers": unknown provider "Gogle Cloud"'),
    (event_row(reported_moves="MSFT=+1%"), "line 2, column \"reported_moves\": MSFT is not one of the event's "
                                           "tickers (GOOGL)"),
    (event_row(reported_moves="GOOGL up"), 'line 2, column "reported_moves": "GOOGL up" is not TICKER=+2.1%'),
    (event_row(event_id="Bad Id!"), 'line 2, column "event_id": "Bad Id!" is not a readable id'),
    (event_row(headline=" "), 'line 2, column "headline": a headline is required'),
    (event_row(tickers=""), 'line 2, column "tickers": at least one ticker is required'),
])
def test_a_bad_event_refuses_the_whole_file_naming_line_and_column(cli, query, tmp_path, row, error):
    path = write_events(tmp_path / "bad.csv", row, event_row(event_id="a-good-one", headline="Fine", date="2025-06-11"))
    result = cli("events", "import", str(path))
    assert result.code == 1
    assert f"error: {path}: {error}" in result.out, result.out
    assert user_events(query) == []
    assert query("SELECT count(*) FROM load_log WHERE source = ?", [str(path)]) == [(0,)]


def test_every_problem_of_a_file_is_reported(cli, tmp_path):
    path = write_events(tmp_path / "bad.csv", event_row(tickers="ZZZZ", date="2025-13-01"),
                        event_row(market_time="soon"))
    result = cli("events", "import", str(path))
    errors = [line for line in result.out.splitlines() if line.startswith("error:")]
    assert [e.split(": ", 3)[2] for e in errors] == ['line 2, column "date"', 'line 2, column "tickers"',
                                                    'line 3, column "market_time"']


@pytest.mark.parametrize(("rows", "error"), [
    ([event_row(event_id="same-id"), event_row(event_id="same-id", headline="Other")],
     'line 3, column "event_id": duplicate id "same-id" (also at '),
    ([event_row(), event_row(headline="GOOGLE CLOUD signs a  new AI customer")],
     'line 3, column "headline": same date and headline as '),
])
def test_duplicates_inside_a_file(cli, query, tmp_path, rows, error):
    path = write_events(tmp_path / "dup.csv", *rows)
    result = cli("events", "import", str(path))
    assert result.code == 1 and f"error: {path}: {error}{path}: line 2" in result.out, result.out
    assert user_events(query) == []


def test_duplicates_of_stored_events(cli, query, tmp_path):
    first = write_events(tmp_path / "first.csv", event_row(event_id="my-event"))
    assert cli("events", "import", str(first)).code == 0
    changed = write_events(tmp_path / "changed.csv", event_row(event_id="my-event", notes="more"))
    result = cli("events", "import", str(changed))
    assert result.code == 1
    assert 'column "event_id": event "my-event" already exists with other values; use --replace' in result.out
    assert cli("events", "import", "--replace", str(changed)).code == 0
    assert query("SELECT notes FROM events WHERE event_id = 'my-event'") == [("more",)]
    other_id = write_events(tmp_path / "other.csv", event_row(event_id="another-id"))
    assert 'same date and headline as the stored event "my-event"' in cli("events", "import", str(other_id)).out
    catalog_id = write_events(tmp_path / "catalog.csv", event_row(event_id="stargate-2025", headline="Mine"))
    result = cli("events", "import", str(catalog_id))
    assert result.code == 1 and '"stargate-2025" is a catalog event; choose another id' in result.out
    assert query("SELECT origin FROM events WHERE event_id = 'stargate-2025'") == [("catalog",)]


def test_file_level_problems(cli, tmp_path):
    unknown_column = write_events(tmp_path / "cols.csv", event_row(), header=[*HEADER, "mood"])
    assert f'{unknown_column}: line 1, column 13: unknown column "mood"' in cli("events", "import",
                                                                                str(unknown_column)).out
    missing = write_events(tmp_path / "missing.csv", event_row(), header=["date", "headline"])
    assert f"{missing}: line 1: missing required column(s) market_time, tickers" in cli(
        "events", "import", str(missing)).out
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("date,market_time,headline,tickers\n2025-06-10,pre,Something\n", encoding="utf-8")
    assert f"{ragged}: line 2: expected 4 fields like the header, found 3" in cli("events", "import", str(ragged)).out
    empty = tmp_path / "empty.csv"
    empty.write_text("date,market_time,headline,tickers\n", encoding="utf-8")
    assert f"{empty}: no events below the header" in cli("events", "import", str(empty)).out
    result = cli("events", "import", str(tmp_path / "nope.csv"))
    assert result.code == 1 and "cannot read the file" in result.out


def test_a_ticker_known_only_from_prices_is_accepted(cli, query, tmp_path):
    prices = tmp_path / "ACME.csv"
    prices.write_text("Date,Open,High,Low,Close,Adj Close,Volume\n2025-06-09,1,1,1,2,2,5\n2025-06-10,1,1,1,2,2,5\n",
                      encoding="utf-8")
    assert cli("prices", "import", str(prices)).code == 0
    result = cli("events", "add", "--date", "2025-06-10", "--market-time", "pre", "--headline", "Acme news",
                 "--tickers", "acme")
    assert result.code == 0, result.out
    assert "added event 2025-06-10-acme-news (2025-06-10, pre); day 0: ACME 2025-06-10 (XNYS)" in result.out


def test_add_with_a_time_derives_the_market_time_and_shows_day0(cli, query):
    result = cli("events", "add", "--date", "2025-01-21", "--time", "16:30", "--headline", "After the bell",
                 "--tickers", "ORCL", "MSFT", "--providers", "Oracle", "--source", "https://example.com/x",
                 "--reported-move", "ORCL=+6.75%", "--id", "after-the-bell")
    assert result.code == 0, result.out
    assert ("added event after-the-bell (2025-01-21 21:30 UTC, post); day 0: MSFT 2025-01-22 (XNAS), "
            "ORCL 2025-01-22 (XNYS)") in result.out
    assert query("SELECT time_precision, time_zone, reported_moves FROM events WHERE event_id = 'after-the-bell'") \
        == [("minute", "America/New_York", {"ORCL": 0.0675})]
    same = cli("events", "add", "--date", "2025-01-21", "--time", "16:30", "--headline", "After the bell",
               "--tickers", "ORCL", "MSFT", "--providers", "Oracle", "--source", "https://example.com/x",
               "--reported-move", "ORCL=+6.75%", "--id", "after-the-bell")
    assert same.code == 0 and "unchanged: event after-the-bell" in same.out


def test_add_errors_name_the_options(cli, query):
    result = cli("events", "add", "--date", "2025-06-31", "--headline", "x", "--tickers", "NOPE",
                 "--source", "not a url")
    assert result.code == 1
    lines = [line for line in result.out.splitlines() if line.startswith("error:")]
    assert lines[0] == 'error: --date: "2025-06-31" is not a date (expected YYYY-MM-DD, e.g. 2025-06-10)'
    assert any(line.startswith('error: --tickers: unknown ticker "NOPE"') for line in lines)
    assert any(line.startswith('error: --source: "not" is not an http(s) URL') for line in lines)
    assert user_events(query) == []
    bad_choice = cli
    with pytest.raises(SystemExit) as exit_info:
        bad_choice("events", "add", "--date", "2025-06-10", "--market-time", "noon", "--headline", "x",
                   "--tickers", "MSFT")
    assert exit_info.value.code == 2


def test_list_filters_by_ticker_and_origin(cli, tmp_path):
    cli("events", "add", "--date", "2025-06-10", "--market-time", "pre", "--headline", "Mine", "--tickers", "CRWV")
    everything = cli("events", "list")
    assert everything.code == 0
    assert "openai-google-cloud-2025" in everything.out and "2025-06-10 10:21 UTC" in everything.out
    mine = cli("events", "list", "--origin", "user")
    assert "2025-06-10-mine" in mine.out and "stargate-2025" not in mine.out and "1 event(s)" in mine.out
    tokyo = cli("events", "list", "--ticker", "9984.t")
    assert "stargate-2025" in tokyo.out and "2 event(s)" in tokyo.out


def test_import_as_a_separate_process(tmp_path):
    """As cron or a user shell runs it: exit 1 and the located error for a bad file, 0 for a good one."""
    db = tmp_path / "w.duckdb"
    bad = write_events(tmp_path / "bad.csv", event_row(tickers="NOPE"))
    result = run_process(["--db", str(db), "events", "import", str(bad)])
    assert result.returncode == 1
    assert f'error: {bad}: line 2, column "tickers": unknown ticker "NOPE"' in result.stdout
    assert "refused" in result.stdout and "ERROR" in result.stderr
    good = write_events(tmp_path / "good.csv", event_row())
    result = run_process(["--db", str(db), "events", "import", str(good)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "loaded" in result.stdout
