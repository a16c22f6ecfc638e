"""Forecasts on Overview and the Budgets page: the stored figures (tables of the ETL steps ``forecasts`` and
``budgets`` on the fixture warehouse) are what the query functions return and what the pages show."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest

from dashboard import charts
from dashboard.formats import money_short
from dashboard.queries import forecasts
from dashboard.queries.reader import Reader
from dashboard.services.forecast_view import forecast_series, shows_forecast
from tests.dashboard import builders
from tests.dashboard.apptest import figures, values
from tests.dashboard.builders import expected


@pytest.fixture(scope="session")
def forecast_template(spend_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("forecast-template")
    path = builders.copy(spend_template, work / "template.duckdb")
    builders.add_forecasts(path, work)
    return path


@pytest.fixture
def forecast_db(forecast_template: Path, db_path: Path) -> Path:
    return builders.copy(forecast_template, db_path)


def test_the_queries_return_the_stored_forecasts(forecast_db, query) -> None:
    reader = Reader(forecast_db)
    totals = forecasts.forecast_totals(reader, "USD", "effective_cost")
    assert list(totals["period"]) == ["month", "quarter"]
    month = totals.iloc[0]
    # June 30, the last loaded day, is taken as partial: as of June 29, actual June 1-29 in USD
    assert month["as_of"] == pd.Timestamp(2025, 6, 29)
    assert month["actual_to_date"] == pytest.approx(float(expected(date(2025, 6, 1), date(2025, 6, 29))))
    # a flat month: the forecast of June 30 is that day's 360 USD, within a cent per cent
    assert month["forecast_total"] == pytest.approx(float(expected(date(2025, 6, 1), date(2025, 6, 30))), rel=1e-3)
    assert month["lower_95"] < month["lower_80"] < month["forecast_total"] < month["upper_80"] < month["upper_95"]
    path = forecasts.forecast_path(reader, "USD", "effective_cost")
    assert list(path["date"]) == [pd.Timestamp(2025, 6, 30)]  # to the month's end
    assert forecasts.forecast_totals(reader, "USD", "billed_cost").empty  # only forecast.measure is stored
    assert list(forecasts.forecast_totals(reader, "USD", "effective_cost", "CoreWeave")["period"]) == [
        "month", "quarter"]
    accuracy = forecasts.accuracy(reader, "USD")
    assert list(accuracy["series"]) == ["Total", "CoreWeave", "Google Cloud", "Microsoft"]
    # May, forecast from March-April: TPU doubled in May (100 -> 200 a day), so Google Cloud's flat forecast of
    # 120 x 0.9 a day misses by (6,138 - 3,348) / 6,138 = 45.45 %
    assert accuracy.set_index("series").loc["Google Cloud", "mape_pct"] == pytest.approx(100 * 2790 / 6138)
    budgets = forecasts.budgets(reader)
    assert list(budgets["budget"]) == ["AI research", "Cloud total", "CoreWeave"]
    assert list(budgets["scope"]) == ["service category: AI and Machine Learning", "Total", "provider: CoreWeave"]
    alerts = [a["message"] for a in forecasts.budget_alerts(reader)]
    assert alerts == ["budget Cloud total 2025-06: actual 104 % of USD 10,000 (threshold 100 %)",
                      "budget Cloud total 2025-06: forecast 108 % of USD 10,000 (threshold 100 %)",
                      "budget CoreWeave 2025-Q2: actual 88 % of USD 9,000 (threshold 80 %)",
                      "budget CoreWeave 2025-Q2: forecast 89 % of USD 9,000 (threshold 80 %)"]


def test_the_forecast_view_follows_the_filters() -> None:
    assert forecast_series([], narrowed=False) == ""
    assert forecast_series(["AWS"], narrowed=False) == "AWS"
    assert forecast_series(["AWS", "Oracle"], narrowed=False) is None
    assert forecast_series([], narrowed=True) is None
    totals = pd.DataFrame({"as_of": [date(2025, 6, 29)]})
    assert shows_forecast(totals, date(2025, 6, 30)) and not shows_forecast(totals, date(2025, 5, 31))


def test_with_forecast_adds_a_dashed_line_from_the_last_month_and_leaves_the_figure_alone() -> None:
    bars = go.Figure([go.Bar(x=[date(2025, 5, 1), date(2025, 6, 1)], y=[60.0, 30.0], name="AWS"),
                      go.Bar(x=[date(2025, 5, 1), date(2025, 6, 1)], y=[40.0, 20.0], name="Oracle")])
    totals = pd.DataFrame([{"period": "month", "period_start": date(2025, 6, 1), "as_of": date(2025, 6, 15),
                            "forecast_total": 110.0, "lower_80": 100.0, "upper_80": 120.0, "lower_95": 95.0,
                            "upper_95": 125.0}])
    out = charts.with_forecast(bars, totals, pd.DataFrame(), "month", "USD")
    assert len(bars.data) == 2  # the cached spend figure is not changed
    line = out.data[-1]
    assert (line.name, line.line.dash) == ("Forecast (total)", "dash")
    assert list(line.y) == [100.0, 110.0]  # May's stack (60 + 40), then June's forecast
    assert [list(t.y) for t in out.data[2:6]] == [[100.0, 125.0], [100.0, 95.0], [100.0, 120.0], [100.0, 100.0]]
    assert charts.with_forecast(bars, totals, pd.DataFrame(), "week", "USD") is bars  # no weekly interval


def test_overview_shows_the_month_forecast_and_its_band(app, forecast_db) -> None:
    at = app()
    reader = Reader(forecast_db)
    month, quarter = forecasts.forecast_totals(reader, "USD", "effective_cost").itertuples()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Spend Jun 2025"] == "USD 10,800"
    assert metrics["Forecast Jun 2025"] == money_short(month.forecast_total, "USD") == "USD 10,800"
    assert metrics["80 % interval (USD)"] == "10,788 – 10,811" == (
        f"{money_short(month.lower_80, 'USD')[4:]} – {money_short(month.upper_80, 'USD')[4:]}")
    assert metrics["Forecast Q2 2025"] == money_short(quarter.forecast_total, "USD")
    over_time = figures(at)[0]
    line = next(t for t in over_time["data"] if t.get("name") == "Forecast (total)")
    assert line["line"]["dash"] == "dash"
    may = float(expected(date(2025, 5, 1), date(2025, 5, 31)))
    assert values(line["y"]) == pytest.approx([may, month.forecast_total])
    assert [t["name"] for t in over_time["data"] if t.get("fill") == "tonexty"] == [
        "Forecast (total), 95 % interval", "Forecast (total), 80 % interval"]


def test_overview_says_when_no_forecast_matches_the_filters(app, forecast_db) -> None:
    at = app(ov_providers=["CoreWeave", "Microsoft"])
    assert "Forecast Jun 2025" not in [m.label for m in at.metric]
    assert any(c.value.startswith("No forecast for this view") for c in at.caption)
    assert not [t for t in figures(at)[0]["data"] if t.get("name", "").startswith("Forecast")]
    one = app(ov_providers="CoreWeave")
    coreweave = forecasts.forecast_totals(Reader(forecast_db), "USD", "effective_cost", "CoreWeave").iloc[0]
    assert {m.label: m.value for m in one.metric}["Forecast Jun 2025"] == money_short(coreweave.forecast_total, "USD")


def test_the_budgets_page_shows_budgets_alerts_forecasts_and_the_backtest(app, forecast_db, csvs) -> None:
    at = app("budgets")
    reader = Reader(forecast_db)
    assert {m.label: m.value for m in at.metric} == {"Budgets": "3", "Over a threshold (actual)": "2",
                                                      "Over a threshold (forecast)": "2"}
    assert [w.value for w in at.warning if w.value.startswith("budget ")] == [
        a["message"] for a in forecasts.budget_alerts(reader)]
    [bullets] = figures(at)
    status = forecasts.budgets(reader)
    forecast_bar, actual_bar, ticks = bullets["data"]
    assert values(forecast_bar["x"]) == pytest.approx(list(status["forecast_pct"]))
    assert values(actual_bar["x"]) == pytest.approx(list(status["actual_pct"]))
    assert forecast_bar["y"][1] == "Cloud total · 2025-06"
    assert sorted(values(ticks["x"])) == [80, 80, 80, 100, 100, 100]
    budgets_table, forecast_table, accuracy_table = (d.value for d in at.dataframe)
    assert budgets_table["actual"].round(2).tolist() == status["actual"].round(2).tolist()
    assert forecast_table.equals(forecasts.all_forecasts(reader, "USD"))
    assert accuracy_table["mape_pct"].round(2).tolist() == [27.78, 0.0, 45.45, 0.0]
    assert set(csvs) >= {"budgets", "forecasts", "forecast accuracy"}


def test_the_budgets_page_without_budgets_says_how_to_add_them(app, spend_db) -> None:
    at = app("budgets")
    assert next(i.value for i in at.info).startswith("No budgets yet: add `[[budgets]]`")
