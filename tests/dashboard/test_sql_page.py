"""SQL page: every documented relation with its live columns, and every example query runs."""

from __future__ import annotations

import pytest

from dashboard.queries.schema import catalog
from etl.warehouse import VIEWS_DIR


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
    columns = at.dataframe[0].value  # the `cost` expander is the first
    assert columns["column"].tolist()[:3] == ["BillingAccountId", "BillingAccountName", "SubAccountId"]
    assert dict(zip(columns["column"], columns["type"], strict=True))["BilledCost"] == "DECIMAL(38,12)"
    assert [e.label for e in at.expander][:3] == ["`cost` (view)", "`daily_spend` (view)", "`load_log` (table)"]
    assert any("sum(BilledCost)" in code.value for code in at.code)
