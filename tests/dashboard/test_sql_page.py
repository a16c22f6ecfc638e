"""SQL page: the console (examples, results, truncation, refusals, DuckDB's errors), and every documented relation
with its live columns; every catalog example query runs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
import pytest

from dashboard.queries.schema import catalog
from etl.adhoc.examples import examples
from etl.warehouse import VIEWS_DIR

SPEND = "SELECT provider, currency, sum(billed_cost) AS billed FROM daily_spend GROUP BY ALL ORDER BY ALL"


def test_every_view_is_documented_in_the_catalog():
    documented = {d.name for d in catalog() if d.kind == "view"}
    defined = set()
    for path in VIEWS_DIR.glob("*.sql"):
        text = path.read_text()
        defined |= {line.split()[4] for line in text.splitlines() if line.startswith("CREATE OR REPLACE VIEW")}
    assert defined == documented


@pytest.mark.parametrize("relation", catalog(), ids=lambda d: d.name)
def test_every_example_query_runs(relation, warehouse, query):
    with warehouse.write("init"):
        pass
    assert relation.examples, f"{relation.name} has no example query in sql/catalog.toml"
    for example in relation.examples:
        query(example)  # raises on an error


def test_the_page_lists_relations_with_their_columns(app, warehouse):
    with warehouse.write("init"):
        pass
    at = app("sql_console")
    assert len(at.dataframe) == len(catalog())  # no result before a query runs
    columns = at.dataframe[0].value  # the `cost` expander is the first
    assert columns["column"].tolist()[:3] == ["BillingAccountId", "BillingAccountName", "SubAccountId"]
    assert dict(zip(columns["column"], columns["type"], strict=True))["BilledCost"] == "DECIMAL(38,12)"
    assert [e.label for e in at.expander][:3] == ["`cost` (view)", "`daily_spend` (view)", "`load_log` (table)"]
    assert any("sum(BilledCost)" in code.value for code in at.code)


def run_query(at, sql: str):
    at.text_area(key="sql-text").input(sql).run()
    at.button(key="sql-run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def shown_result(at) -> pd.DataFrame:
    """The result table: the console's column comes first, so it precedes the catalog's column tables."""
    assert len(at.dataframe) == len(catalog()) + 1
    return at.dataframe[0].value


def test_the_console_runs_a_query_and_offers_its_csv(app, spend_db, csvs):
    at = run_query(app("sql_console"), SPEND)
    result = shown_result(at)
    assert result.to_dict("records") == [
        {"provider": "CoreWeave", "currency": "USD", "billed": Decimal("11570")},
        {"provider": "Google Cloud", "currency": "USD", "billed": Decimal("20740")},
        {"provider": "Microsoft", "currency": "EUR", "billed": Decimal("6100")},
    ]
    assert any(c.value.startswith("3 rows, 3 columns, in ") for c in at.caption)
    assert not at.warning and not at.error
    assert csvs["query result"].to_dict("records") == result.to_dict("records")


def test_an_example_fills_the_query_box_and_runs(app, spend_db):
    example = examples()[0]
    at = app("sql_console")
    at.selectbox(key="sql-example").select(example.title).run()
    assert at.text_area(key="sql-text").value == example.sql
    at.button(key="sql-run").click().run()
    result = shown_result(at)
    assert result.columns.tolist() == ["month", "provider", "currency", "billed", "effective"]
    assert result.iloc[0].tolist() == [date(2025, 3, 1), "CoreWeave", "USD", Decimal("2635"),
                                       Decimal("2371.5")]


def test_a_long_result_is_truncated_visibly(app, spend_db, monkeypatch):
    monkeypatch.setenv("SPENDSCOPE_SQL__MAX_ROWS", "5")
    at = run_query(app("sql_console"), "SELECT * FROM range(10000000) t(n)")
    assert shown_result(at)["n"].tolist() == [0, 1, 2, 3, 4]
    assert at.warning[0].value.startswith("**Truncated at 5 rows**: the query returns more.")


def test_a_refused_query_says_why_and_changes_nothing(app, spend_db, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir()), spend_db.stat().st_mtime_ns
    at = run_query(app("sql_console"), "COPY (SELECT * FROM cost) TO 'stolen.csv'")
    assert at.error[0].value.startswith("**Refused:** COPY statements are not allowed: only one read-only query")
    assert len(at.dataframe) == len(catalog())  # no result table
    assert (sorted(p.name for p in tmp_path.iterdir()), spend_db.stat().st_mtime_ns) == before


def test_a_failing_query_shows_duckdbs_error(app, spend_db):
    at = run_query(app("sql_console"), "SELECT nope FROM daily_spend")
    assert at.error[0].value.startswith('**The query failed:** Binder Error: Referenced column "nope" not found in '
                                        "FROM clause!")
    assert "LINE 1: SELECT nope FROM daily_spend" in at.error[0].value  # where, from DuckDB's message
