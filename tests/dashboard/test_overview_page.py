"""Overview page under AppTest: the values shown equal SQL totals, filters and the URL change them as expected."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pandas as pd
import pytest

from dashboard.formats import money, money_short
from dashboard.queries import spend
from dashboard.queries.reader import Reader
from dashboard.queries.spend import SpendFilter
from etl.billing.base import LoadOptions
from tests.dashboard.apptest import figures, traces, values
from tests.dashboard.builders import FIRST, HEADER, LAST, expected, focus_line


def test_the_kpis_equal_the_sql_totals(app, spend_db, query):
    at = app()
    [(total,)] = query("SELECT sum(effective_cost_reporting) FROM daily_spend_in_currency('USD') WHERE NOT fx_missing")
    [(june,)] = query("SELECT sum(effective_cost_reporting) FROM daily_spend_in_currency('USD') "
                      "WHERE NOT fx_missing AND date >= DATE '2025-06-01'")
    assert total == expected(FIRST, LAST) and june == expected(date(2025, 6, 1), LAST)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Spend Jun 2025"] == money_short(june, "USD") == "USD 10,800"
    assert metrics["Spend May 2025"] == money_short(expected(date(2025, 5, 1), date(2025, 5, 31)), "USD")
    assert metrics["Spend in the range"] == money_short(total, "USD")
    google = expected(FIRST, LAST, providers=("Google Cloud",))
    assert metrics["Top provider: Google Cloud"] == f"{google / total:.1%}"
    ai = expected(FIRST, LAST, categories=("AI and Machine Learning", "Compute"))
    assert metrics["AI/compute share"] == f"{ai / total:.1%}"
    may_same_days = expected(date(2025, 5, 1), date(2025, 5, 30))
    assert metrics["Month over month"] == f"{june / may_same_days - 1:+.1%}"
    exact = next(c.value for c in at.caption if c.value.startswith("Exact:"))
    assert f"range {money(total, 'USD')}" in exact and money(google, "USD") in exact


def test_the_charts_show_the_query_results(app, spend_db, csvs):
    at = app()
    reader = Reader(spend_db)
    flt = SpendFilter(FIRST, LAST, currency="USD")
    over_time, by_category, by_service = figures(at)[:3]  # then the AI-compute section's
    frame = spend.spend_over_time(reader, flt, "month", "provider")
    assert over_time["layout"]["title"]["text"] == "Monthly effective cost per provider (USD)"
    assert over_time["layout"]["yaxis"]["title"]["text"] == "Effective cost (USD)"
    assert traces(over_time) == {p: rows["amount"].tolist() for p, rows in frame.groupby("provider", sort=False)}
    categories = spend.spend_by(reader, flt, "service_category")
    assert by_category["data"][0]["y"] == categories["service_category"].tolist()
    assert values(by_category["data"][0]["x"]) == categories["amount"].tolist()
    assert by_service["data"][0]["y"] == spend.spend_by(reader, flt, "service")["service"].tolist()
    # each chart's CSV holds exactly its data
    pd.testing.assert_frame_equal(csvs["spend per month and provider"], frame)
    pd.testing.assert_frame_equal(csvs["spend by service category"], categories)
    movers = at.dataframe[-1].value
    assert movers.equals(csvs["top movers"])
    assert movers[["provider", "service_name"]].values.tolist()[0] == ["CoreWeave", "GPU Compute"]
    assert set(csvs) >= {"spend by service", "overview amounts without a rate"}


def test_the_cost_basis_toggle_and_the_filters_change_the_values(app, spend_db):
    at = app()
    at.segmented_control(key="ov_basis").set_value("billed").run()
    assert {m.label: m.value for m in at.metric}["Spend in the range"] == money_short(
        expected(FIRST, LAST, "billed"), "USD")
    assert figures(at)[0]["layout"]["yaxis"]["title"]["text"] == "Billed cost (USD)"
    at.multiselect(key="ov_providers").set_value(["CoreWeave"]).run()
    assert not at.exception
    assert list(traces(figures(at)[0])) == ["CoreWeave"]
    assert {m.label: m.value for m in at.metric}["Spend in the range"] == money_short(
        expected(FIRST, LAST, "billed", providers=("CoreWeave",)), "USD")
    at.segmented_control(key="ov_grain").set_value("day").run()
    assert len(traces(figures(at)[0])["CoreWeave"]) == (LAST - FIRST).days + 1


def test_url_parameters_reopen_a_view(app, spend_db):
    at = app(ov_basis="List cost", ov_providers=["Google Cloud", "CoreWeave"], ov_dates=["2025-04-01", "2025-05-31"],
             ov_grain="Weekly", ov_by="Service category", ov_compare="Last 30 days vs the 30 days before")
    assert at.segmented_control(key="ov_basis").value == "list"
    assert at.multiselect(key="ov_providers").value == ["Google Cloud", "CoreWeave"]
    assert at.date_input(key="ov_dates").value == (date(2025, 4, 1), date(2025, 5, 31))
    assert at.selectbox(key="ov_compare").value == "30d"
    both = ("Google Cloud", "CoreWeave")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Spend in the range"] == money_short(
        expected(date(2025, 4, 1), date(2025, 5, 31), "list", providers=both), "USD")
    assert metrics["Spend May 2025"] == money_short(
        expected(date(2025, 5, 1), date(2025, 5, 31), "list", providers=both), "USD")
    chart = figures(at)[0]
    assert chart["layout"]["title"]["text"] == "Weekly list cost per service category (USD)"
    assert set(traces(chart)) == {"AI and Machine Learning", "Compute", "Storage", "Networking"}
    movers_caption = next(c.value for c in at.caption if c.value.startswith("Services whose"))
    assert "2025-04-02 – 2025-05-01 (previous) to 2025-05-02 – 2025-05-31 (current)" in movers_caption


def test_a_tag_filter_from_the_url(app, spend_db):
    at = app(ov_tag_key="team", ov_tag_value="research")
    assert at.selectbox(key="ov_tag_value").options == ["research", "platform", "training"]
    assert {m.label: m.value for m in at.metric}["Spend in the range"] == money_short(
        expected(FIRST, LAST, team="research"), "USD")
    assert "tag `team` = `research`" in at.caption[0].value
    assert list(traces(figures(at)[0])) == ["Google Cloud", "Microsoft"]


def test_amounts_without_a_rate_are_shown_apart_with_a_warning(app, spend_db):
    at = app()
    [warning] = at.warning
    assert "**EUR 405.00** (9 cost rows, 2025-03-01 to 2025-03-09: no EUR/USD rate on or before 2025-03-09)" in (
        warning.value)
    assert at.dataframe[0].value[["currency", "rows"]].values.tolist() == [["EUR", 9]]
    # not in the total: the range total equals the sum of converted amounts only
    assert expected(FIRST, LAST) == expected(FIRST, LAST, converted_only=False) - Decimal("405")


@pytest.mark.parametrize("page", ["overview", "spend_vs_market", "data_health"])
def test_synthetic_demo_data_is_labelled_on_every_page_that_shows_it(app, spend_db, load_billing, tmp_path, page):
    assert not [w for w in app(page).warning if "Synthetic" in w.value]
    path = tmp_path / "demo.csv"
    path.write_text(HEADER + "\n" + focus_line("CoreWeave", "D-1", "Acme Labs", "USD", "GPU Compute", "Compute", "",
                                                date(2025, 6, 1)) + "\n")
    load_billing(path, options=LoadOptions(synthetic=True))  # as `python -m etl demo` loads its exports
    [label] = [w.value for w in app(page).warning if "Synthetic" in w.value]
    assert label.startswith("**Synthetic demo data.** Billing data in this warehouse was made up by "
                            "`python -m etl demo`")


def test_query_functions_see_a_finished_etl_run_on_the_next_rerun(app, spend_db, load_billing, tmp_path):
    at = app()
    before = {m.label: m.value for m in at.metric}["Spend in the range"]
    path = tmp_path / "extra.csv"
    path.write_text(HEADER + "\n" + focus_line("CoreWeave", "C-2", "Acme 2", "USD", "GPU Compute", "Compute", "",
                                                 date(2025, 6, 30)) + "\n")
    load_billing(path)  # publishes a new warehouse file: a new version, so the cache misses
    at.run()
    after = {m.label: m.value for m in at.metric}["Spend in the range"]
    assert (before, after) == (money_short(expected(FIRST, LAST), "USD"),
                               money_short(expected(FIRST, LAST) + Decimal("108"), "USD"))  # 120 x 0.9


def test_the_filter_is_a_hashable_cache_key():
    flt = SpendFilter(FIRST, LAST, providers=("AWS",))
    assert hash(flt) == hash(replace(flt)) and flt == replace(flt)
