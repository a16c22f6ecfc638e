"""A small warehouse for the dashboard tests, built through the normal load paths from hand-made files.

Spend (FOCUS CSV, one file per provider) from 2025-03-01 to 2025-06-30, one row per day and service:

- Google Cloud, account G-1, USD: Cloud TPU (AI and Machine Learning) 100/day, 200/day from May,
  tags team=research; Cloud Storage (Storage) 20/day, tags team=platform and env=prod.
- Microsoft, account M-1, EUR: Virtual Machines (Compute) 50/day, tags team=research.
- CoreWeave, account C-1, USD: GPU Compute (Compute) 80/day, 120/day in June, tags team=training and
  cost/center=ml; Networking (Networking) 5/day, no tags.

Amounts are billed cost per day; EffectiveCost = 0.9 x billed, ListCost = 1.2 x billed. EUR/USD is 1.10
from 2025-03-10 on, so the Microsoft rows of 2025-03-01..09 have no rate (9 rows, 450 EUR billed). Prices
(Yahoo CSV layout, imported through ``prices import``'s functions) of GOOGL, MSFT, CRWV and SPY on NYSE
sessions 2024-01-02..2025-06-30: seeded random walks with a common market factor.
"""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from etl.billing.base import LoadOptions
from etl.billing.loader import load_sources
from etl.billing.sources import expand_paths
from etl.warehouse import Warehouse

FIRST, LAST = date(2025, 3, 1), date(2025, 6, 30)
EUR_FROM = date(2025, 3, 10)
EUR_RATE = Decimal("1.10")
TICKERS = {"Google Cloud": "GOOGL", "Microsoft": "MSFT", "AWS": "AMZN", "Oracle": "ORCL", "CoreWeave": "CRWV"}
PRICE_TICKERS = ("GOOGL", "MSFT", "CRWV", "SPY")
PRICES_FROM, PRICES_TO = date(2024, 1, 2), date(2025, 6, 30)

HEADER = ("BilledCost,EffectiveCost,ListCost,ContractedCost,BillingAccountId,BillingAccountName,BillingCurrency,"
          "BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ProviderName,"
          "InvoiceIssuerName,ServiceName,ServiceCategory,Tags")

# provider, account, account name, currency, service, category, tags (JSON or ""), billed per day by month
SERVICES = (
    ("Google Cloud", "G-1", "Acme (Google Cloud)", "USD", "Cloud TPU", "AI and Machine Learning",
     '{"team": "research"}', {3: 100, 4: 100, 5: 200, 6: 200}),
    ("Google Cloud", "G-1", "Acme (Google Cloud)", "USD", "Cloud Storage", "Storage",
     '{"team": "platform", "env": "prod"}', {3: 20, 4: 20, 5: 20, 6: 20}),
    ("Microsoft", "M-1", "Acme (Azure)", "EUR", "Virtual Machines", "Compute", '{"team": "research"}',
     {3: 50, 4: 50, 5: 50, 6: 50}),
    ("CoreWeave", "C-1", "Acme (CoreWeave)", "USD", "GPU Compute", "Compute",
     '{"team": "training", "cost/center": "ml"}', {3: 80, 4: 80, 5: 80, 6: 120}),
    ("CoreWeave", "C-1", "Acme (CoreWeave)", "USD", "Networking", "Networking", "", {3: 5, 4: 5, 5: 5, 6: 5}),
)


def billed(provider: str, service: str, day: date) -> Decimal:
    for p, _, _, _, s, _, _, by_month in SERVICES:
        if (p, s) == (provider, service):
            return Decimal(by_month[day.month])
    raise KeyError((provider, service))


def days(first: date = FIRST, last: date = LAST) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def expected(first: date, last: date, measure: str = "effective", *, providers: tuple[str, ...] = (),
             categories: tuple[str, ...] = (), team: str | None = None, converted_only: bool = True) -> Decimal:
    """Independent total in USD of the fixture's spend from ``first`` to ``last`` (plain Python)."""
    factor = {"billed": Decimal(1), "effective": Decimal("0.9"), "list": Decimal("1.2")}[measure]
    total = Decimal(0)
    for provider, _, _, currency, service, category, tags, _ in SERVICES:
        if (providers and provider not in providers) or (categories and category not in categories):
            continue
        if team is not None and f'"team": "{team}"' not in tags:
            continue
        for day in days(max(first, FIRST), min(last, LAST)):
            amount = billed(provider, service, day) * factor
            if currency == "EUR":
                if day < EUR_FROM:
                    if converted_only:
                        continue
                else:
                    amount *= EUR_RATE
            total += amount
    return total


def focus_line(provider: str, account: str, name: str, currency: str, service: str, category: str, tags: str,
                day: date) -> str:
    amount = billed(provider, service, day)
    period = day.replace(day=1)
    period_end = (period + timedelta(days=32)).replace(day=1)
    quoted = '"' + tags.replace('"', '""') + '"' if tags else ""
    return (f"{amount},{amount * Decimal('0.9')},{amount * Decimal('1.2')},{amount * Decimal('0.9')},{account},"
            f"{name},{currency},{period}T00:00:00Z,{period_end}T00:00:00Z,{day}T00:00:00Z,{day}T23:00:00Z,Usage,"
            f"{provider},{provider},{service},{category},{quoted}")


def write_spend_files(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for provider in dict.fromkeys(s[0] for s in SERVICES):
        lines = [HEADER] + [focus_line(*s[:7], day) for day in days() for s in SERVICES if s[0] == provider]
        path = folder / f"{provider.lower().replace(' ', '_')}.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        files.append(path)
    return files


def price_frame(ticker: str) -> pd.DataFrame:
    """The fixture's closes of ``ticker``: date, close (SPY is the market; firms have beta 0.8..1.4)."""
    from etl.market import calendars

    sessions = calendars.sessions("XNYS", PRICES_FROM, PRICES_TO)
    rng = np.random.default_rng(7)
    market = rng.normal(0.0004, 0.01, len(sessions))
    noise = {t: rng.normal(0.0003, 0.015, len(sessions)) for t in PRICE_TICKERS}
    beta = {"GOOGL": 1.1, "MSFT": 0.9, "CRWV": 1.4, "SPY": 1.0}[ticker]
    returns = market if ticker == "SPY" else beta * market + noise[ticker]
    start = {"GOOGL": 150.0, "MSFT": 400.0, "CRWV": 40.0, "SPY": 480.0}[ticker]
    return pd.DataFrame({"date": sessions, "close": start * np.exp(np.cumsum(returns))})


MSFT_EX_DATE = pd.Timestamp("2025-05-15")


def adjusted_close(ticker: str, frame: pd.DataFrame) -> pd.Series:
    """The fixture's adj_close: the close, except MSFT's, which went ex a 2 % dividend on 2025-05-15 (closes
    before that date are multiplied by 0.98), so its total return differs from its price return."""
    if ticker != "MSFT":
        return frame["close"]
    return frame["close"] * np.where(frame["date"] < MSFT_EX_DATE, 0.98, 1.0)


def stored_prices(ticker: str) -> pd.DataFrame:
    """What the warehouse holds for ``ticker``: date, close, adj_close (as written to the CSV, 6 decimals)."""
    frame = price_frame(ticker)
    return pd.DataFrame({"date": frame["date"], "close": frame["close"].round(6),
                         "adj_close": adjusted_close(ticker, frame).round(6)})


def write_price_files(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for ticker in PRICE_TICKERS:
        frame = stored_prices(ticker)
        pd.DataFrame({"Date": frame["date"].dt.strftime("%Y-%m-%d"), "Open": frame["close"], "High": frame["close"],
                      "Low": frame["close"], "Close": frame["close"], "Adj Close": frame["adj_close"],
                      "Volume": 1000}).to_csv(folder / f"{ticker}.csv", index=False)
        files.append(folder / f"{ticker}.csv")
    return files


def load_prices(warehouse: Warehouse, folder: Path) -> None:
    from etl.market import prices
    from etl.market.csv_import import expand_price_paths, read_price_file

    write_price_files(folder)
    files, problems = expand_price_paths([str(folder)])
    assert not problems, problems
    with warehouse.write("test prices") as session:
        prices.store_all(session, [read_price_file(f) for f in files], [], TICKERS, datetime.now(UTC))


def load_eur_rates(warehouse: Warehouse, first: date = EUR_FROM, last: date = LAST) -> None:
    with warehouse.write("test rates") as session, session.transaction() as con:
        for day in days(first, last):
            con.execute("INSERT INTO fx_rates VALUES (?, 'EUR', 'USD', ?, 'test', 0, now()::TIMESTAMP)",
                        [day, EUR_RATE])


def build(path: Path, work: Path, *, with_prices: bool = True) -> Path:
    """The whole fixture warehouse at ``path`` (spend, EUR rates, and prices unless ``with_prices`` is off)."""
    warehouse = Warehouse(path)
    sources, problems = expand_paths([str(f) for f in write_spend_files(work / "spend")])
    assert not problems, problems
    with warehouse.write("test spend") as session:
        results = load_sources(session, sources, LoadOptions())
    assert all(r.status == "loaded" for r in results), [r.error for r in results]
    load_eur_rates(warehouse)
    if with_prices:
        load_prices(warehouse, work / "prices")
    return path


def copy(template: Path, path: Path) -> Path:
    shutil.copyfile(template, path)
    return path


EVENTS = (  # event_id, announced_at (UTC), precision, market_time, headline, tickers, providers
    ("ev-tpu", datetime(2025, 5, 1, 14, 30), "minute", "intraday", "Acme signs a TPU capacity deal with Google",
     ("GOOGL",), ("Google Cloud",)),
    ("ev-cw", datetime(2025, 6, 2, 21, 0), "minute", "post", "CoreWeave expands its GPU contract with Acme",
     ("CRWV", "NVDA"), ("CoreWeave",)),
    ("ev-msft", datetime(2025, 4, 15), "date", "unknown", "Microsoft prices a new GPU tier", ("MSFT",), ()),
)


def create_events(warehouse: Warehouse, events: tuple = EVENTS) -> None:
    """Replace the warehouse's events (and their day 0 rows) with these test events."""
    from etl.events.store import write_events
    from etl.events.validate import Event

    with warehouse.write("test events") as session, session.transaction() as con:
        con.execute("DELETE FROM event_day0; DELETE FROM events")
        write_events(con, [Event(event_id, at, precision, market_time, headline, tickers, providers=providers,
                                 source_urls=(f"https://example.com/{event_id}",))
                           for event_id, at, precision, market_time, headline, tickers, providers in events],
                     origin="user")


def create_study_events(warehouse: Warehouse) -> None:
    """Replace the warehouse's events with the Event study tests' two: a TPU deal on 2025-05-01 for GOOGL and
    MSFT, with a media figure for GOOGL, and an event on 2024-02-01, too early for an estimation window."""
    from etl.events.store import write_events
    from etl.events.validate import Event

    google = Event("ev-tpu", datetime(2025, 5, 1, 14, 30), "minute", "intraday",
                   "Acme signs a TPU capacity deal with Google", ("GOOGL", "MSFT"), providers=("Google Cloud",),
                   source_urls=("https://example.com/ev-tpu",), notes="Timing verified on the wire.",
                   reported_moves=(("GOOGL", 0.05),))
    early = Event("ev-early", datetime(2024, 2, 1), "date", "unknown", "Too early for an estimation window",
                  ("GOOGL",), source_urls=("https://example.com/ev-early",))
    with warehouse.write("test events") as session, session.transaction() as con:
        con.execute("DELETE FROM event_day0; DELETE FROM events")
        write_events(con, [google, early], origin="user")


def store_exclusions(warehouse: Warehouse) -> None:
    """Two pairs ``eventstudy run`` excluded: CRWV of ev-cw against SPY, GOOGL of ev-tpu against QQQ."""
    with warehouse.write("exclusions") as session, session.transaction() as con:
        con.execute("""INSERT INTO event_study_exclusions VALUES
                       ('ev-cw', 'CRWV', 'SPY', 'market', 'only 40 sessions in the estimation window (minimum 60)',
                        'simple', 1),
                       ('ev-tpu', 'GOOGL', 'QQQ', 'market', 'no QQQ prices', 'simple', 1)""")


# Budgets of the fixture (amounts in their own currency): June's total effective cost is USD 10,800, so the total
# budget is over 100 % on both actual and forecast; CoreWeave's Q2 (USD 8,041.50) reaches 80 % of 9,000; the AI
# category's Q2 (USD 13,500, in EUR at 1.10) stays under 80 % of EUR 20,000.
BUDGETS = """
[[budgets]]
name = "Cloud total"
scope = "total"
period = "monthly"
amount = 10000

[[budgets]]
name = "CoreWeave"
scope = "provider"
value = "CoreWeave"
period = "quarterly"
amount = 9000

[[budgets]]
name = "AI research"
scope = "service_category"
value = "AI and Machine Learning"
period = "quarterly"
amount = 20000
currency = "EUR"
"""


def add_forecasts(path: Path, work: Path) -> None:
    """What the ETL steps ``forecasts`` and ``budgets`` store for the fixture warehouse, with :data:`BUDGETS`."""
    from etl.config import load_config
    from etl.finops import budgets, forecast

    work.mkdir(parents=True, exist_ok=True)
    (work / "budgets.toml").write_text(BUDGETS, encoding="utf-8")
    config = load_config(work / "budgets.toml", environ={}).with_overrides(db=str(path))
    settings = forecast.ForecastSettings.from_config(config)
    with Warehouse(path).write("test forecasts") as session:
        forecast.refit(config, session, settings)
        budgets.check(session, budgets.configured_budgets(config), settings)
