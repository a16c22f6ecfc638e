"""Budgets: each configured budget against the actual spend and the forecast of its period's end, the thresholds
crossed, and how well the forecasts did in the backtest. Everything here was computed and stored by the ETL (steps
``forecasts`` and ``budgets``); the page only reads it."""

import streamlit as st

from dashboard import charts
from dashboard.queries import forecasts
from dashboard.ui.cache import figure
from dashboard.ui.guard import load, start_page
from dashboard.ui.tables import OWN_CURRENCY
from dashboard.ui.widgets import download_csv, synthetic_label, table

ctx, facts = start_page("Budgets", requires=("billing",))
synthetic_label(facts)
currency = ctx.currency
status = load(forecasts.budgets, ctx.reader)
alerts = load(forecasts.budget_alerts, ctx.reader)

st.subheader("Budget against actual and forecast")
if status.empty:
    st.info("No budgets yet: add `[[budgets]]` tables to config.toml (README, *Budgets*), then run "
            "`python -m etl run` or `python -m etl forecast run`.", icon=":material/savings:")
else:
    tiles = st.columns(3)
    tiles[0].metric("Budgets", len(status), border=True)
    tiles[1].metric("Over a threshold (actual)", int(status["actual_crossed"].notna().sum()), border=True,
                    help="Budgets whose spend to date has reached one of their alert thresholds.")
    tiles[2].metric("Over a threshold (forecast)", int(status["forecast_crossed"].notna().sum()), border=True,
                    help="Budgets whose forecast of the period's end reaches one of their alert thresholds.")
    for alert in alerts:
        st.warning(str(alert["message"]), icon=":material/warning:")
    st.plotly_chart(figure(charts.budget_bullets, status), key="budget-bullets",
                    alt="Each budget's actual and forecast spend in % of its amount, with its thresholds")
    st.caption(f"As of {status['as_of'].max():%Y-%m-%d}, the last complete day of data. The forecast of a budget "
               "that is not the total or a provider is its parent's forecast pro-rated by its share of the last "
               "28 days, in the budget's currency (README, *Budgets*).")
    shown = status.drop(columns=["period", "period_start", "period_end", "forecast_method"])
    table(shown, "budgets", OWN_CURRENCY, first=("budget", "scope", "period_label"),
          labels={"period_label": "Period", "actual": "Actual to date", "forecast": "Forecast",
                  "forecast_lower_80": "Forecast 80 % low", "forecast_upper_80": "Forecast 80 % high",
                  "actual_pct": "Actual (% of budget)", "forecast_pct": "Forecast (% of budget)",
                  "thresholds": "Thresholds (%)", "actual_crossed": "Threshold reached (actual, %)",
                  "forecast_crossed": "Threshold reached (forecast, %)", "amount": "Budget"},
          formats={name: "%,.2f" for name in ("actual", "forecast", "forecast_lower_80", "forecast_upper_80")}
          | {name: "%.1f" for name in ("actual_pct", "forecast_pct")}
          | {name: "%g" for name in ("actual_crossed", "forecast_crossed")})
    download_csv(status, "budgets")

st.subheader("Forecasts")
all_forecasts = load(forecasts.all_forecasts, ctx.reader, currency=currency)
if all_forecasts.empty:
    st.info("No forecasts yet: `python -m etl forecast run` (or `python -m etl run`) fits them.")
else:
    st.caption(f"Month- and quarter-end {currency} spend: actual to the as-of date plus the forecast of the "
               "remaining days (statsmodels ETS, additive damped trend and weekly seasonality), with the 80 % and "
               "95 % intervals of the period's total from simulated paths.")
    table(all_forecasts, "forecasts", currency, first=("series", "period"),
          labels={"actual_to_date": "Actual to date", "forecast_total": "Forecast", "lower_80": "80 % low",
                  "upper_80": "80 % high", "lower_95": "95 % low", "upper_95": "95 % high", "as_of": "As of"},
          formats={name: "%,.2f" for name in ("actual_to_date", "forecast_total", "lower_80", "upper_80",
                                               "lower_95", "upper_95")})
    download_csv(all_forecasts, "forecasts")

st.subheader("Forecast accuracy (backtest)")
accuracy = load(forecasts.accuracy, ctx.reader, currency=currency)
if accuracy.empty:
    st.info("No backtest yet: it needs at least one complete month after eight weeks of history.")
else:
    st.caption("Rolling origin: at each month start of the backtest (setting `forecast.backtest_months`), the model "
               "is fitted to the data before it and forecasts the whole month; MAPE is the mean absolute percentage "
               "error of those month totals.")
    table(accuracy, "accuracy", first=("series", "mape_pct"),
          labels={"mape_pct": "MAPE (%)", "worst_ape_pct": "Worst month (%)", "months": "Months tested",
                  "first_month": "First month", "last_month": "Last month"},
          formats={"mape_pct": "%.1f", "worst_ape_pct": "%.1f"})
    download_csv(accuracy, "forecast accuracy")
