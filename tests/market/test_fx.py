"""Costs in the reporting currency: ASOF rates, cross rates via USD, flagged rows, and ``fx fetch``."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest

from etl.market import yahoo
from tests.billing.test_loader import HEADER, focus_row, write
from tests.helpers import table_rows
from tests.market.fakes import FakeYahoo, synthetic_history

TWELVE = Decimal("1E-12")

RATES = [  # (date, currency, USD per unit)
    ("2025-06-02", "CAD", "0.7300"), ("2025-06-03", "CAD", "0.7350"), ("2025-06-05", "CAD", "0.7400"),
    ("2025-06-03", "NOK", "0.0950"),
    ("2025-06-02", "EUR", "1.1000"),
]


@pytest.fixture
def billed(tmp_path, load_billing):
    """Six cost rows in CAD, NOK and USD, without any FX rate yet."""
    path = write(tmp_path / "focus.csv", HEADER,
                 focus_row("100.00", "2025-06-02", currency="CAD"),
                 focus_row("50.50", "2025-06-04", currency="CAD"),  # 06-03 rate: the 06-05 one is later
                 focus_row("10.00", "2025-05-30", currency="CAD", period="2025-05"),  # before the first CAD rate
                 focus_row("1000.00", "2025-06-03", currency="NOK"),
                 focus_row("200.00", "2025-06-16", currency="NOK"),  # latest NOK rate 13 days older
                 focus_row("7.25", "2025-06-04", currency="USD"))
    [result] = load_billing(path)
    assert result.status == "loaded" and result.rows == 6
    return path


@pytest.fixture
def costs(billed, warehouse):
    """The six cost rows and the hand-chosen rates of RATES."""
    with warehouse.write("rates") as session, session.transaction() as con:
        for day, currency, rate in RATES:
            con.execute("INSERT INTO fx_rates VALUES (?, ?, 'USD', ?, 'test', 0, now()::TIMESTAMP)",
                        [day, currency, rate])
    return billed


def test_costs_convert_with_the_rate_of_the_day_or_the_latest_earlier_one(costs, query):
    rows = query("""SELECT BillingCurrency, ChargePeriodStart::DATE, BilledCost, reporting_currency, fx_rate,
                           fx_rate_date, fx_method, fx_missing, billed_cost_reporting, effective_cost_reporting
                    FROM cost_reporting ORDER BY BillingCurrency, ChargePeriodStart""")
    d = Decimal
    assert [r[:3] + r[4:] for r in rows] == [
        ("CAD", date(2025, 5, 30), d("10"), None, None, None, True, None, None),
        ("CAD", date(2025, 6, 2), d("100"), d("0.73"), date(2025, 6, 2), "direct", False, d("73"), d("73")),
        ("CAD", date(2025, 6, 4), d("50.5"), d("0.735"), date(2025, 6, 3), "direct", False, d("37.1175"),
         d("37.1175")),
        ("NOK", date(2025, 6, 3), d("1000"), d("0.095"), date(2025, 6, 3), "direct", False, d("95"), d("95")),
        ("NOK", date(2025, 6, 16), d("200"), None, None, None, True, None, None),
        ("USD", date(2025, 6, 4), d("7.25"), d("1"), None, "same currency", False, d("7.25"), d("7.25")),
    ]
    assert {r[3] for r in rows} == {"USD"}
    issues = dict(query("SELECT ChargePeriodStart::DATE, fx_issue FROM cost_reporting WHERE fx_missing"))
    assert issues == {date(2025, 5, 30): "no CAD/USD rate on or before 2025-05-30",
                      date(2025, 6, 16): "latest NOK/USD rate is from 2025-06-03, more than 7 days before 2025-06-16"}


def test_converted_totals_match_hand_computed_ones_and_flagged_rows_are_counted(costs, query):
    expected = {"CAD": Decimal("100.00") * Decimal("0.7300") + Decimal("50.50") * Decimal("0.7350"),
                "NOK": Decimal("1000.00") * Decimal("0.0950"), "USD": Decimal("7.25")}
    assert expected["CAD"] == Decimal("110.1175")
    totals = query("""SELECT BillingCurrency, sum(billed_cost_reporting), count(*) FILTER (fx_missing),
                             sum(BilledCost) FILTER (fx_missing)
                      FROM cost_reporting GROUP BY 1 ORDER BY 1""")
    assert totals == [("CAD", expected["CAD"], 1, Decimal("10")), ("NOK", expected["NOK"], 1, Decimal("200")),
                      ("USD", expected["USD"], 0, None)]
    assert query("SELECT sum(billed_cost_reporting) FROM cost_reporting") == [(sum(expected.values()),)]
    daily = query("""SELECT currency, sum(billed_cost_reporting), sum(rows) FILTER (fx_missing)
                     FROM daily_spend_reporting GROUP BY 1 ORDER BY 1""")
    assert daily == [("CAD", expected["CAD"], 1), ("NOK", expected["NOK"], 1), ("USD", expected["USD"], None)]


def test_another_reporting_currency_uses_cross_rates_via_usd(costs, query, warehouse):
    cad_eur = (Decimal("0.73") / Decimal("1.1")).quantize(TWELVE, ROUND_HALF_UP)
    usd_eur = (1 / Decimal("1.1")).quantize(TWELVE, ROUND_HALF_UP)
    rows = dict(((c, day), (rate, rate_date, method, amount)) for c, day, rate, rate_date, method, amount in query(
        """SELECT BillingCurrency, ChargePeriodStart::DATE, fx_rate, fx_rate_date, fx_method, billed_cost_reporting
           FROM cost_in_currency('eur') WHERE NOT fx_missing"""))
    assert rows[("CAD", date(2025, 6, 2))] == (cad_eur, date(2025, 6, 2), "cross via USD",
                                               (100 * cad_eur).quantize(TWELVE, ROUND_HALF_UP))
    assert rows[("USD", date(2025, 6, 4))] == (usd_eur, date(2025, 6, 2), "inverse",
                                               (Decimal("7.25") * usd_eur).quantize(TWELVE, ROUND_HALF_UP))
    # the CAD leg of 2025-06-04 is 06-03's rate, the EUR leg 06-02's: the older date is reported
    assert rows[("CAD", date(2025, 6, 4))][1] == date(2025, 6, 2)

    with warehouse.write("settings") as session:
        session.con.execute("INSERT INTO reporting_settings VALUES ('EUR', 30, now()::TIMESTAMP)")
    assert query("SELECT DISTINCT reporting_currency FROM cost_reporting") == [("EUR",)]
    # NOK of 06-16 is now within 30 days of its rate; CAD of 05-30 still has no rate on or before its date
    assert query("SELECT ChargePeriodStart::DATE FROM cost_reporting WHERE fx_missing") == [(date(2025, 5, 30),)]


def test_fx_fetch_covers_billing_and_configured_currencies(billed, cli, query, monkeypatch):
    values = {"2025-05-19": 0.70, "2025-05-20": 0.71, "2025-05-29": 0.715, "2025-06-02": 0.72, "2025-06-13": 0.73,
              "2025-06-16": 0.74}
    fake = FakeYahoo(history=synthetic_history(values))
    monkeypatch.setattr(yahoo.yf, "download", fake)
    monkeypatch.setenv("SPENDSCOPE_MARKET__START", "2025-06-01")
    monkeypatch.setenv("SPENDSCOPE_FX__CURRENCIES", "EUR, JPY")
    result = cli("fx", "fetch")
    assert result.code == 0, result.out
    calls = [(c["start"], sorted(c["tickers"])) for c in fake.calls]
    assert calls == [("2025-05-20", ["CADUSD=X"]),  # 10 days before the first CAD charge (2025-05-30)
                     ("2025-05-24", ["NOKUSD=X"]),
                     ("2025-06-01", ["EURUSD=X", "JPYUSD=X"])]
    assert query("SELECT currency, count(*), min(date), max(source) FROM fx_rates GROUP BY 1 ORDER BY 1") == [
        ("CAD", 5, date(2025, 5, 20), "yahoo:CADUSD=X"), ("EUR", 3, date(2025, 6, 2), "yahoo:EURUSD=X"),
        ("JPY", 3, date(2025, 6, 2), "yahoo:JPYUSD=X"), ("NOK", 4, date(2025, 5, 29), "yahoo:NOKUSD=X")]
    assert query("SELECT reporting_currency, fx_max_age_days FROM reporting_settings") == [("USD", 7)]
    assert query("SELECT kind, source, status FROM load_log WHERE kind = 'fx' ORDER BY source") == [
        ("fx", "CADUSD=X", "loaded"), ("fx", "EURUSD=X", "loaded"), ("fx", "JPYUSD=X", "loaded"),
        ("fx", "NOKUSD=X", "loaded")]
    assert "every cost row can be shown in USD" in result.out
    assert query("SELECT count(*) FROM cost_reporting WHERE fx_missing") == [(0,)]

    again = cli("fx", "fetch")
    assert again.code == 0
    assert [row["status"] for row in table_rows(again.out)] == ["unchanged"] * 4


def test_fx_fetch_rejects_an_unknown_currency(cli, monkeypatch):
    monkeypatch.setenv("SPENDSCOPE_REPORTING_CURRENCY", "EURO")
    result = cli("fx", "fetch")
    assert result.code == 2 and "setting reporting_currency: 'EURO' is not an ISO 4217 currency code" in result.err


def test_status_counts_the_rows_without_a_usable_rate(costs, cli):
    result = cli("status")
    assert result.code == 0
    lines = result.out.splitlines()
    start = lines.index("reporting currency USD (views cost_reporting, daily_spend_reporting; rates at most 7 days "
                        "older than the charge):")
    assert [line.split() for line in lines[start + 3:start + 6]] == [
        ["CAD", "3", "1", "2025-06-05"], ["NOK", "2", "1", "2025-06-03"], ["USD", "1", "0", "-"]]
    spend = lines.index("spend in USD (rows without a usable rate are not in the total):")
    assert lines[spend + 3].split() == ["CoreWeave", "212.37", "2"]  # 73 + 37.1175 + 95 + 7.25; CAD 10 and NOK 200 out


def test_fx_fetch_with_only_usd_costs_records_the_setting_and_succeeds(cli, query, tmp_path, monkeypatch):
    monkeypatch.setattr(yahoo.yf, "download", FakeYahoo(history=lambda *a: pytest.fail("nothing to download")))
    monkeypatch.setenv("SPENDSCOPE_FX__CURRENCIES", "")
    assert cli("billing", "load", str(write(tmp_path / "usd.csv", HEADER, focus_row("2.00", "2025-06-01")))).code == 0
    result = cli("fx", "fetch")
    assert result.code == 0
    assert "nothing to fetch: every currency is USD" in result.out
    assert "every cost row can be shown in USD" in result.out
    assert query("SELECT reporting_currency FROM reporting_settings") == [("USD",)]
