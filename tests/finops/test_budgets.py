"""Budgets crossing their thresholds on actual and forecast, reported by a real ``python -m etl run`` process and by
``status --json``; bad budget settings."""

from __future__ import annotations

import json
from datetime import date

import pytest

from etl.warehouse import connect_readonly
from tests.conftest import run_process
from tests.finops.spend import daily, warehouse
from tests.test_run import NO_MARKETS

# AWS 100 and Google Cloud (AI) 50 a day, flat; June 16 is the partial last day, so as of June 15
SPEND = (daily(date(2025, 1, 1), date(2025, 6, 16), 100.0),
         daily(date(2025, 1, 1), date(2025, 6, 16), 50.0, provider="Google Cloud", account="g1",
               category="AI and Machine Learning", service="Vertex AI"))
EUR_IN_USD = 1.25
BUDGETS = """
[[budgets]]
name = "Cloud total"
scope = "total"
period = "monthly"
amount = 5000

[[budgets]]
name = "AWS"
scope = "provider"
value = "AWS"
period = "monthly"
amount = 1400

[[budgets]]
name = "AI"
scope = "service_category"
value = "AI and Machine Learning"
period = "quarterly"
amount = 4000
currency = "EUR"
thresholds = [75, 90]

[[budgets]]
name = "Quiet account"
scope = "billing_account"
value = "g1"
period = "monthly"
amount = 100000
"""


def _warehouse(path):
    store = warehouse(path, *SPEND)
    with store.write("rates") as session, session.transaction() as con:
        con.execute("INSERT INTO fx_rates SELECT d::DATE, 'EUR', 'USD', ?, 'test', 1, now() "
                    "FROM generate_series(DATE '2025-01-01', DATE '2025-06-16', INTERVAL 1 DAY) t(d)", [EUR_IN_USD])
    return store


def test_run_reports_crossed_thresholds_and_status_lists_them(tmp_path) -> None:
    store = _warehouse(tmp_path / "w.duckdb")
    config = tmp_path / "config.toml"
    config.write_text(f'db = "{store.path}"\n{NO_MARKETS}\n{BUDGETS}', encoding="utf-8")
    run = run_process(["--config", str(config), "run"])
    assert run.returncode == 0, run.stdout + run.stderr
    # June to the 15th: total 2,250 (45 %), forecast 4,500 (90 %: threshold 80); AWS 1,500 (107 %), forecast
    # 3,000. AI in EUR: April 1 - June 15 is 76 days x 50 USD / 1.25 = 3,040 EUR (76 %), forecast 91 days = 3,640.
    assert [line.removeprefix("warning: ") for line in run.stdout.splitlines() if "budget" in line
            and line.startswith("warning")] == [
        "budget AI 2025-Q2: actual 76 % of EUR 4,000 (threshold 75 %)",
        "budget AI 2025-Q2: forecast 91 % of EUR 4,000 (threshold 90 %)",
        "budget AWS 2025-06: actual 107 % of USD 1,400 (threshold 100 %)",
        "budget AWS 2025-06: forecast 214 % of USD 1,400 (threshold 100 %)",
        "budget Cloud total 2025-06: forecast 90 % of USD 5,000 (threshold 80 %)"]
    steps = {line.split()[0]: line for line in run.stdout.splitlines() if line.split()[:1] in (["forecasts"],
                                                                                              ["budgets"])}
    assert "4 budgets evaluated, 5 thresholds crossed" in steps["budgets"]
    assert "3 series forecast, 9 backtest months" in steps["forecasts"]  # total, AWS, Google Cloud; March-May

    status = run_process(["--config", str(config), "status", "--json"])
    report = json.loads(status.stdout)
    assert "freshness" in report and "open_failures" in report  # the existing keys stay
    alerts = {(a["budget"], a["basis"]): a for a in report["budget_alerts"]}
    assert sorted(alerts) == [("AI", "actual"), ("AI", "forecast"), ("AWS", "actual"), ("AWS", "forecast"),
                              ("Cloud total", "forecast")]
    assert alerts["AI", "forecast"] == {
        "budget": "AI", "period": "2025-Q2", "basis": "forecast", "pct": 91.0, "threshold": 90.0, "amount": 4000.0,
        "currency": "EUR", "as_of": "2025-06-15",
        "message": "budget AI 2025-Q2: forecast 91 % of EUR 4,000 (threshold 90 %)"}

    con = connect_readonly(store.path)
    try:
        rows = con.execute("SELECT budget, actual, forecast, actual_crossed, forecast_crossed FROM budget_status "
                           "ORDER BY budget").fetchall()
    finally:
        con.close()
    assert [(b, round(a, 6), round(f, 6), ac, fc) for b, a, f, ac, fc in rows] == [
        ("AI", 3040.0, 3640.0, 75.0, 90.0), ("AWS", 1500.0, 3000.0, 100.0, 100.0),
        ("Cloud total", 2250.0, 4500.0, None, 80.0), ("Quiet account", 750.0, 1500.0, None, None)]


@pytest.mark.parametrize(("table", "message"), [
    ('name = "x"\nscope = "region"\nperiod = "monthly"\namount = 1',
     "setting 'budgets'[1]: key 'scope': expected one of total, provider, service_category, billing_account"),
    ('name = "x"\nscope = "provider"\nperiod = "monthly"\namount = 1', "'budgets'[1]: key 'value': required"),
    ('name = "x"\nscope = "total"\nvalue = "AWS"\nperiod = "monthly"\namount = 1',
     "'budgets'[1]: key 'value': does not apply to scope total"),
    ('name = "x"\nscope = "total"\nperiod = "weekly"\namount = 1', "'budgets'[1]: key 'period': expected one of"),
    ('name = "x"\nscope = "total"\nperiod = "monthly"\namount = -5', "'budgets'[1]: key 'amount': expected a "
                                                                     "positive number, got -5"),
    ('name = "x"\nscope = "total"\nperiod = "monthly"\namount = 1\nthresholds = [80, "lots"]',
     "'budgets'[1]: key 'thresholds': expected a list of positive percentages"),
    ('name = "x"\nscope = "total"\nperiod = "monthly"\namount = 1\ncurrency = "dollars"',
     "'budgets'[1]: key 'currency': expected an ISO 4217 code"),
    ('name = "ok"\nscope = "total"\nperiod = "monthly"\namount = 1', "'budgets'[1]: key 'name': 'ok' is already"),
    ('name = "x"\nscope = "total"\nperiod = "monthly"\namount = "many"', "'budgets'[1]: key 'amount': expected"),
    ('name = "x"\nscope = "total"\nperiod = "monthly"', "'budgets'[1]: missing key(s) amount"),
    ('name = "x"\nscope = "total"\nperiod = "monthly"\namount = 1\nlimit = 3', "'budgets'[1]: unknown key(s) limit"),
])
def test_a_bad_budget_is_a_settings_error_naming_it_and_the_key(tmp_path, cli, db_path, table, message) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'{NO_MARKETS}\n[[budgets]]\nname = "ok"\nscope = "total"\nperiod = "monthly"\namount = 10\n'
                      f"[[budgets]]\n{table}\n", encoding="utf-8")
    result = cli("--config", str(config), "run")
    assert result.code == 2
    assert message in result.err
    assert not db_path.exists()  # nothing was written
