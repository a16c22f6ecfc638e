"""The forecast tiles of Overview: the month's and the quarter's forecast with the 80 % interval."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.formats import money, money_short


def forecast_tiles(totals: pd.DataFrame, currency: str, series: str | None) -> None:
    """Three metrics (month-end forecast, its 80 % interval, quarter-end forecast) and a caption with the exact
    figures; a caption saying why when no stored forecast matches the view."""
    if series is None or totals.empty:
        st.caption("No forecast for this view: forecasts are stored for the total and for each provider, of the cost "
                   "basis of setting `forecast.measure`, by the ETL step `forecasts` (`python -m etl forecast run`).")
        return
    month, quarter = (totals[totals["period"] == period].iloc[0] for period in ("month", "quarter"))
    name = series or "all providers"
    quarter_label = f"Q{(month['period_start'].month - 1) // 3 + 1} {quarter['period_start']:%Y}"
    tiles = st.columns(3)
    tiles[0].metric(f"Forecast {month['period_start']:%b %Y}", money_short(month["forecast_total"], currency),
                    border=True, help=f"Month-end spend of {name}: actual to {month['as_of']:%Y-%m-%d} plus the "
                                      "forecast of the remaining days (statsmodels ETS with weekly seasonality).")
    low, high = (money_short(month[bound], currency).removeprefix(f"{currency} ") for bound in ("lower_80", "upper_80"))
    tiles[1].metric(f"80 % interval ({currency})", f"{low} – {high}", border=True,
                    help="The month-end total falls in this range with 80 % probability under the model.")
    tiles[2].metric(f"Forecast {quarter_label}", money_short(quarter["forecast_total"], currency), border=True,
                    help=f"Quarter-end spend of {name}, actual to {quarter['as_of']:%Y-%m-%d} plus the forecast.")
    st.caption(f"Forecast of {name} as of {month['as_of']:%Y-%m-%d} (the last complete day): "
               f"{month['period_start']:%B %Y} {money(month['forecast_total'], currency)} "
               f"(actual to date {money(month['actual_to_date'], currency)};"
               f" 80 % {money(month['lower_80'], currency)} – {money(month['upper_80'], currency)}, 95 % "
               f"{money(month['lower_95'], currency)} – {money(month['upper_95'], currency)}); {quarter_label} "
               f"{money(quarter['forecast_total'], currency)} (80 % {money(quarter['lower_80'], currency)} – "
               f"{money(quarter['upper_80'], currency)}).")
