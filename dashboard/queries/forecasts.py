"""The stored forecasts, their backtest and the budgets' status (tables of migration 0009, written by the ETL steps
``forecasts`` and ``budgets``; nothing is fitted here)."""

from __future__ import annotations

import pandas as pd

from dashboard.queries.reader import Reader
from etl.finops import budgets as etl_budgets

_SERIES = "basis = 'reporting' AND currency = $currency AND provider = $provider AND measure = $measure"


def forecast_totals(reader: Reader, currency: str, measure: str, provider: str = "") -> pd.DataFrame:
    """The month- and quarter-end forecast of the total (``provider`` '') or of one provider, in the reporting
    ``currency`` and for ``measure`` (``effective_cost``...): period, period_start, period_end, as_of,
    actual_to_date, forecast_total, lower/upper_80/95. Empty when the ETL stored none for them."""
    return reader.frame(
        f"""SELECT period, period_start, period_end, as_of, actual_to_date, forecast_total, lower_80, upper_80,
                   lower_95, upper_95
            FROM forecasts WHERE {_SERIES} ORDER BY period_end""",
        {"currency": currency, "provider": provider, "measure": measure})


def forecast_path(reader: Reader, currency: str, measure: str, provider: str = "") -> pd.DataFrame:
    """The daily forecast path of the same series to the end of its month: date, mean, lower/upper_80/95."""
    return reader.frame(
        """SELECT p.date, p.mean, p.lower_80, p.upper_80, p.lower_95, p.upper_95
            FROM forecast_paths p JOIN forecasts f USING (level, basis, currency, provider)
            WHERE f.period = 'month' AND f.basis = 'reporting' AND f.currency = $currency
              AND f.provider = $provider AND f.measure = $measure AND p.date <= f.period_end
            ORDER BY p.date""",
        {"currency": currency, "provider": provider, "measure": measure})


def all_forecasts(reader: Reader, currency: str) -> pd.DataFrame:
    """Every reporting-basis forecast in ``currency``, total first then the providers: series (the provider or
    "Total"), period, as_of, actual_to_date, forecast_total and the intervals."""
    return reader.frame(
        """SELECT CASE WHEN provider = '' THEN 'Total' ELSE provider END AS series, period, period_start, period_end,
                  as_of, actual_to_date, forecast_total, lower_80, upper_80, lower_95, upper_95
           FROM forecasts WHERE basis = 'reporting' AND currency = $currency
           ORDER BY provider <> '', provider, period_end""",
        {"currency": currency})


def accuracy(reader: Reader, currency: str) -> pd.DataFrame:
    """The backtest's MAPE of the month-end forecast per provider and for the total (view ``forecast_accuracy``,
    reporting basis): series, months, first_month, last_month, mape_pct, worst_ape_pct."""
    return reader.frame(
        """SELECT CASE WHEN provider = '' THEN 'Total' ELSE provider END AS series, months, first_month,
                  last_month, mape_pct, worst_ape_pct
           FROM forecast_accuracy WHERE basis = 'reporting' AND currency = $currency
           ORDER BY provider <> '', provider""",
        {"currency": currency})


def budgets(reader: Reader) -> pd.DataFrame:
    """Every budget's last evaluation (table ``budget_status``), by name."""
    return reader.frame(
        """SELECT budget, CASE WHEN scope = 'total' THEN 'Total' ELSE replace(scope, '_', ' ') || ': ' || scope_value
                  END AS scope, period, period_label, period_start, period_end, as_of, currency,
                  amount, actual, forecast, forecast_lower_80, forecast_upper_80, actual_pct, forecast_pct,
                  thresholds, actual_crossed, forecast_crossed, forecast_method
           FROM budget_status ORDER BY budget""")


def budget_alerts(reader: Reader) -> list[dict[str, object]]:
    """The crossed thresholds, one per budget and basis, with the line ``etl run``'s summary prints for each."""
    return reader.using(etl_budgets.alerts)
