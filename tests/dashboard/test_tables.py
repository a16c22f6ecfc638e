"""Finance-grade tables: what ``dashboard.ui.tables.present`` decides, and what every page's tables pass to
Streamlit (read back from the dataframe elements' column config under AppTest)."""

from __future__ import annotations

import json
import re
from datetime import date

import numpy as np
import pandas as pd
import pytest

from dashboard.ui.tables import OWN_CURRENCY, label, present
from etl.warehouse import Warehouse
from tests.dashboard import builders


def test_labels_are_human():
    assert label("car_m1_p1") == "CAR[-1,+1]"
    assert label("share_before_90d") == "Share 90d before"
    assert label("change_30d_pp") == "Share change 30d"
    assert label("car_brown_warner_1985_p") == "CAR Brown Warner 1985 p-value"
    assert label("first_day") == "First day"  # the fallback: snake_case in words, sentence case


def test_amounts_carry_their_currency_in_the_header_with_thousands_separators():
    frame = pd.DataFrame({"service": ["TPU"], "previous": [1187730.4], "change_pct": [12.5]})
    shown = present(frame, "USD", formats={"change_pct": "%+.1f %%"})
    assert shown.config["previous"]["label"] == "Previous (USD)"
    assert shown.config["previous"]["type_config"]["format"] == "%,.2f"
    assert shown.config["change_pct"]["type_config"]["format"] == "%+.1f %%"
    with pytest.raises(ValueError, match="need their currency"):
        present(frame)


def test_own_currency_amounts_sit_next_to_the_currency_column_and_long_text_comes_last():
    frame = pd.DataFrame({"currency": ["EUR"], "fx_issue": ["no EUR/USD rate"], "rows": [9], "amount": [405.0],
                          "first_day": pd.to_datetime(["2025-03-01"])})
    shown = present(frame, OWN_CURRENCY)
    assert shown.order == ["rows", "currency", "amount", "first_day", "fx_issue"]
    assert shown.config["amount"]["label"] == "Amount (own currency)"
    assert shown.config["first_day"]["type_config"]["format"] == "YYYY-MM-DD"


def test_columns_with_missing_values_keep_their_type_and_format():
    frame = pd.DataFrame({"event_id": ["a", "b"], "car": [0.0123, np.nan], "car_t": [-0.971, np.nan],
                          "effective_cost": [1234567.891, None], "note": ["x", None],
                          "day0": [date(2025, 6, 3), None], "sessions_behind": pd.array([359, None], dtype="Int64")})
    shown = present(frame, "USD", first=("event_id", "car"))
    formats = {name: config["type_config"].get("format") for name, config in shown.config.items()}
    assert formats == {"event_id": None, "car": "percent", "car_t": "%,.2f", "effective_cost": "%,.2f", "note": None,
                       "day0": "YYYY-MM-DD", "sessions_behind": "%,d"}
    assert shown.frame["car"].tolist()[0] == 0.0123 and shown.frame["car"].isna().tolist() == [False, True]
    assert shown.frame["day0"].tolist() == [date(2025, 6, 3), None]  # a date, so it sorts as one
    assert shown.order[:2] == ["event_id", "car"]


def test_a_sql_result_keeps_the_names_the_user_wrote():
    frame = pd.DataFrame({"effective_cost": [1.5], "my_col": [None]})
    shown = present(frame, raw_names=True)
    assert [shown.config[c]["label"] for c in frame] == ["effective_cost", "my_col"]
    assert shown.frame["my_col"].isna().all() and shown.order == []


def _columns(element) -> dict:
    """The column config a dataframe element was drawn with, per column (the hidden index left out)."""
    return {name: config for name, config in json.loads(element.proto.columns).items() if not config.get("hidden")}


@pytest.mark.parametrize("page", ["overview", "spend_vs_market", "event_study", "data_health", "sql_console"])
def test_every_table_of_a_page_is_finance_grade(app, spend_db, page):
    builders.create_events(Warehouse(spend_db))
    at = app(page)
    assert len(at.dataframe) >= 1
    for element in at.dataframe:
        headers = [c["label"] for c in _columns(element).values()]
        assert not [h for h in headers if re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", h)], headers  # no snake_case
        assert element.proto.placeholder == "–"  # a missing value is an en dash, not Streamlit's "None"
        amounts = [h for h in headers if h.startswith(("Amount", "Billed cost", "Effective cost", "Previous"))]
        assert all(h.endswith(("(USD)", "(own currency)")) for h in amounts), amounts


def test_the_events_table_answers_first_and_shows_shares_as_percentages(app, spend_db):
    builders.create_events(Warehouse(spend_db))
    at = app("spend_vs_market")
    events = at.dataframe[-1]
    columns = _columns(events)
    assert list(events.proto.column_order)[:3] == ["event_id", "ticker", "car_m1_p1"]
    assert list(events.proto.column_order)[-2:] == ["headline", "car_note"]
    assert columns["car_m1_p1"] == {"label": "CAR[-1,+1]", "type_config": {"type": "number", "format": "percent"}}
    assert columns["share_after_90d"]["type_config"]["format"] == "percent"
    assert columns["change_30d_pp"]["type_config"]["format"] == "%+.2f pp"
    assert columns["headline"]["width"] == "large" and "double-click" in columns["headline"]["help"]


def test_billing_feeds_show_amounts_in_their_own_currency_and_freshness_first(app, spend_db, query):
    at = app("data_health")
    feeds = at.dataframe[0]
    columns = _columns(feeds)
    assert list(feeds.proto.column_order)[:5] == ["provider", "account", "stale", "days_behind", "data_until"]
    assert columns["billed_cost"] == {"label": "Billed cost (own currency)",
                                      "type_config": {"type": "number", "format": "%,.2f"}}
    assert columns["days_behind"]["label"] == "Days behind" and columns["data_until"]["label"] == "Data until (UTC)"
    order = list(feeds.proto.column_order)
    assert order.index("currency") + 1 == order.index("billed_cost")
    [(google,)] = query("SELECT sum(BilledCost) FROM cost WHERE ServiceProviderName = 'Google Cloud'")
    shown = feeds.value.set_index("provider")["billed_cost"]
    assert float(shown["Google Cloud"]) == float(google) == 20_740.0  # drawn as "20,740.00" (format %,.2f)
