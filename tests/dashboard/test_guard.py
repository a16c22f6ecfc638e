"""The page guard (dashboard/ui/guard.py) under AppTest: every page starts with it, so every page says the same
thing for a missing, unreadable or older warehouse and for a failed query, and a page that needs billing data,
prices or events says which command loads them."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from etl.warehouse import Warehouse, latest_schema_version
from tests.dashboard import builders

PAGES = {"overview": "Overview", "spend_vs_market": "Spend vs market", "event_study": "Event study",
         "data_health": "Data health", "sql_console": "SQL"}


def shown(at) -> list[str]:
    return [element.value for element in (*at.info, *at.error)]


@pytest.mark.parametrize("page", PAGES)
def test_without_a_warehouse_every_page_says_which_command_loads_data(app, page):
    at = app(page)
    assert at.title[0].value == PAGES[page]
    [message] = shown(at)
    assert message.startswith("There is no warehouse yet.") and "python -m etl demo" in message
    assert not at.dataframe and not at.get("plotly_chart")


def make_older(db_path: Path) -> None:
    """The warehouse as published before migration 0004 and the views that came with it."""
    con = duckdb.connect(str(db_path))
    con.execute("DELETE FROM schema_migrations WHERE version >= 4; ALTER TABLE load_log DROP COLUMN synthetic; "
                "DROP VIEW synthetic_data; DROP VIEW synthetic_loads; DROP VIEW source_status; DROP VIEW load_history")
    con.close()


@pytest.mark.parametrize("page", PAGES)
def test_an_older_warehouse_gets_the_upgrade_message_on_every_page(app, spend_db, page):
    make_older(spend_db)
    at = app(page)
    assert shown(at) == [f"This warehouse is at schema version 3, older than this dashboard's "
                         f"{latest_schema_version()}: run `python -m etl init` to upgrade it, then reload this page."]
    assert not at.dataframe and not at.get("plotly_chart")


@pytest.mark.parametrize("page", PAGES)
def test_a_file_that_cannot_be_read_shows_the_error_on_every_page(app, db_path, page):
    db_path.write_bytes(b"this is not a DuckDB file" * 100)
    at = app(page)
    [error] = at.error
    assert error.value.startswith(f"The query failed: cannot open the warehouse {db_path}")


@pytest.mark.parametrize("page", PAGES)
def test_a_failed_query_shows_its_error_on_every_page(app, spend_db, page):
    con = duckdb.connect(str(spend_db))
    con.execute("DROP VIEW daily_spend")  # what the guard's summary reads
    con.close()
    at = app(page)
    [error] = at.error
    assert error.value.startswith("The query failed: Catalog Error: Table with name daily_spend does not exist")


@pytest.mark.parametrize("page", ["overview", "spend_vs_market"])
def test_a_spend_page_without_billing_data_says_how_to_load_it(app, warehouse, page):
    with warehouse.write("init"):
        pass
    [message] = shown(app(page))
    assert message.startswith("No billing data is loaded yet.") and "python -m etl billing load" in message


def test_the_event_study_needs_events_and_prices(app, db_path, tmp_path):
    builders.build(db_path, tmp_path, with_prices=False)
    assert shown(app("event_study")) == [
        "No events yet: `python -m etl init` loads the catalog, `python -m etl events add` adds your own."]
    builders.create_events(Warehouse(db_path))
    [message] = shown(app("event_study"))
    assert message.startswith("No prices are loaded yet: run `python -m etl prices fetch`")


@pytest.mark.parametrize("page", ["data_health", "sql_console"])
def test_the_health_and_sql_pages_need_no_data(app, warehouse, page):
    with warehouse.write("init"):
        pass
    at = app(page)
    assert not at.error and at.dataframe  # feeds (empty) and recent loads, or the columns of every relation
