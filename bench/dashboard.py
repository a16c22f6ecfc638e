"""Dashboard benchmark: every page's queries and a full AppTest render against a 10-million-row warehouse.

The warehouse is built once and kept in ``--dir`` (default ``data/bench-dashboard``): the demo generator's
SYNTHETIC exports (``write_demo_exports(rows=10_000_000, monthly_files=False)``, one file per provider)
loaded through the normal loader, synthetic prices of GOOGL, MSFT, AMZN, ORCL, CRWV, NVDA, SPY and QQQ on
NYSE sessions 2023-2025 imported through the normal ``prices import`` path, and synthetic EUR/USD rates stored
through the FX store, and the shipped event catalog (24 events) with ``--events`` SYNTHETIC events and their
event studies, stored as ``eventstudy run`` stores them. Building takes a few minutes (110-190 s on two
cores) and about 7 GB of disk while the exports exist, 0.5 GB once they are deleted;
later runs reuse the warehouse (``built.json`` records the build).

Then, for each page:

* each query function the page calls, run directly (no Streamlit cache) ``--runs`` times after one warm-up
  run: the median and the maximum in milliseconds;
* the page rendered by ``AppTest`` through the real router: once cold (empty Streamlit cache and a new published
  file identity, so the reader opens a new connection: what the first visitor after an ETL run waits for; see
  :func:`render_times`), then ``--runs`` warm renders (cache filled, as for a user who changes nothing): median
  seconds.

Targets, per page: every query's median under 100 ms, cold render under 1 s, warm render under 0.2 s. The figures go
to ``bench/targets.py``'s table (``make bench``); the exit status is 1 when one is missed.

    .venv/bin/python bench/dashboard.py                     # build (once) and measure
    .venv/bin/python bench/dashboard.py --runs 3            # quicker
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.forecasts import ensure_stored as store_forecasts  # noqa: E402
from bench.targets import Figure, record  # noqa: E402

ROWS = 10_000_000
TICKERS = ("GOOGL", "MSFT", "AMZN", "ORCL", "CRWV", "NVDA", "SPY", "QQQ")
PRICE_START, PRICE_END = date(2023, 1, 1), date(2025, 12, 31)
TARGET_QUERY_MS = 100
TARGET_COLD_S = 1.0
TARGET_WARM_S = 0.2


def build(folder: Path, rows: int) -> tuple[Path, dict]:
    """The benchmark warehouse in ``folder``, built unless a previous run finished building it."""
    db = folder / "warehouse.duckdb"
    marker = folder / "built.json"
    if marker.exists() and db.exists():
        facts = json.loads(marker.read_text())
        if facts.get("rows") == rows:
            print(f"reusing {db} ({facts['cost_rows']:,} cost rows, built in {facts['build_s']:.0f} s)", flush=True)
            return db, facts
    from etl.billing.base import LoadOptions
    from etl.billing.sources import expand_paths
    from etl.config import load_config
    from etl.demo.generator import write_demo_exports
    from etl.pipelines import load_billing
    from etl.warehouse import Warehouse, connect_readonly

    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("warehouse.duckdb*"):
        old.unlink()
    started = time.perf_counter()
    files = write_demo_exports(folder / "exports", rows=rows, monthly_files=False)
    generated = time.perf_counter() - started
    print(f"generated {len(files)} synthetic export files in {generated:.0f} s", flush=True)
    sources, problems = expand_paths([str(f) for f in files])
    assert not problems, problems
    warehouse = Warehouse(db)
    with warehouse.write("benchmark load") as session:
        results = load_billing(load_config(environ={}), session, sources, LoadOptions(synthetic=True))
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    loaded = time.perf_counter() - started - generated
    print(f"loaded them in {loaded:.0f} s", flush=True)
    write_market_data(warehouse, folder / "prices")
    build_s = time.perf_counter() - started
    con = connect_readonly(db)
    try:
        cost_rows, rollup_rows = con.execute(
            "SELECT (SELECT count(*) FROM cost_line), (SELECT count(*) FROM daily_spend_rollup)").fetchone()
    finally:
        con.close()
    facts = {"rows": rows, "cost_rows": cost_rows, "rollup_rows": rollup_rows, "generate_s": generated,
             "load_s": loaded, "build_s": build_s, "db_mb": db.stat().st_size / 2**20}
    marker.write_text(json.dumps(facts, indent=2))
    for file in files:  # the exports are no longer needed
        file.unlink()
    print(f"built {db} in {build_s:.0f} s: {cost_rows:,} cost rows, {rollup_rows:,} rollup rows", flush=True)
    return db, facts


def write_market_data(warehouse, folder: Path) -> None:
    """Synthetic prices (random walks with a common market factor) and EUR/USD rates."""
    import numpy as np
    import pandas as pd

    from etl.config import load_config
    from etl.loadlog import LoadRecord
    from etl.market import calendars, fx
    from etl.market.csv_import import expand_price_paths, read_price_file
    from etl.pipelines import store_prices

    folder.mkdir(parents=True, exist_ok=True)
    sessions = calendars.sessions("XNYS", PRICE_START, PRICE_END)
    rng = np.random.default_rng(20250610)
    market = rng.normal(0.0004, 0.011, len(sessions))
    for i, ticker in enumerate(TICKERS):
        beta = 1.0 if ticker in ("SPY", "QQQ") else 0.8 + 0.1 * i
        returns = beta * market + rng.normal(0.0002, 0.004 if ticker in ("SPY", "QQQ") else 0.015, len(sessions))
        close = 100.0 * np.exp(np.cumsum(returns))
        pd.DataFrame({"Date": sessions.strftime("%Y-%m-%d"), "Open": close, "High": close * 1.01,
                      "Low": close * 0.99, "Close": close, "Adj Close": close, "Volume": 1_000_000}
                     ).to_csv(folder / f"{ticker}.csv", index=False)
    files, problems = expand_price_paths([str(folder)])
    assert not problems, problems
    now = datetime.now(UTC)
    days = pd.date_range("2023-01-01", "2025-12-31", freq="D")
    rates = pd.DataFrame({"date": days, "rate": 1.08 + 0.03 * np.sin(np.arange(len(days)) / 60)})
    with warehouse.write("benchmark market data") as session:
        store_prices(load_config(environ={}), session, [read_price_file(f) for f in files], [], now)
        fx.store(session, fx.FxBatch(LoadRecord("fx", "EURUSD=X", "failed", "synthetic", subject="EUR",
                                                synthetic=True), "EUR", rates), now)


def add_events(db: Path, extra: int) -> None:
    """The shipped event catalog and ``extra`` SYNTHETIC user events (spread over 2024, each naming one provider),
    stored through the events store, and their event studies computed and stored as ``eventstudy run`` does, so
    the pages read stored results as they do in production. Nothing is done when the warehouse has events."""
    from etl.config import load_config
    from etl.events.store import write_events
    from etl.events.validate import Event
    from etl.pipelines import refresh_events, run_event_studies
    from etl.warehouse import Warehouse

    config = load_config(environ={})
    providers = ("Google Cloud", "Microsoft", "AWS", "Oracle", "CoreWeave")
    tickers = ("GOOGL", "MSFT", "AMZN", "ORCL", "CRWV")
    synthetic = [Event(event_id=f"bench-{i:03d}", announced_at=datetime(2024, 1, 15, 14, 30) + timedelta(days=17 * i),
                       time_precision="minute", market_time="intraday",
                       headline=f"SYNTHETIC benchmark event {i}", tickers=(tickers[i % 5],),
                       providers=(providers[i % 5],)) for i in range(extra)]
    with Warehouse(db).write("benchmark events") as session:
        if session.con.execute("SELECT count(*) FROM events").fetchone()[0]:
            return
        refresh_events(config, session)
        with session.transaction() as con:
            write_events(con, synthetic, "user")
        run = run_event_studies(config, session)
    print(f"stored {len(run.events)} events ({extra} synthetic) and their event studies", flush=True)


def add_anomalies(db: Path) -> None:
    """The anomalies as the ``anomalies`` step stores them, unless a run is stored already."""
    from etl.finops import anomalies
    from etl.finops.anomalies import AnomalySettings
    from etl.warehouse import Warehouse

    with Warehouse(db).write("benchmark anomalies") as session:
        if not session.con.execute("SELECT count(*) FROM anomaly_runs").fetchone()[0]:
            print(f"stored {anomalies.summary(anomalies.run(session, 'USD', AnomalySettings()), top=0)}", flush=True)


def timed(function: Callable[[], object], runs: int) -> list[float]:
    function()  # warm-up: DuckDB's and the OS's caches
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        out.append(time.perf_counter() - started)
    return out


STUDIED_EVENT = "openai-google-cloud-2025"  # the Event study page's default
FIVE_EVENTS = ("openai-google-cloud-2025", "oracle-openai-300b-2025", "msft-openai-recapitalization-2025",
               "aws-openai-38b-2025", "stargate-2025")


def page_queries(db: Path) -> dict[str, list[tuple[str, Callable[[], object]]]]:
    """The query and service functions each page calls on its default view, with the arguments it passes."""
    from dashboard.queries import (
        anomalies,
        commitments,
        compute,
        events,
        forecasts,
        health,
        market,
        meta,
        schema,
        spend,
    )
    from dashboard.queries.reader import Reader
    from dashboard.services import event_spend, event_study, stock_lines
    from dashboard.services.periods import mover_periods
    from dashboard.services.settings import StudyConfig
    from etl.config import load_config
    from etl.freshness import Freshness
    from etl.market.tickers import provider_tickers

    reader = Reader(db)
    config = load_config(environ={"SPENDSCOPE_DB": str(db)})
    study = StudyConfig.from_config(config)
    currency, age = config.get("reporting_currency"), config.get("fx.max_rate_age_days")
    options = spend.filter_options(reader)
    flt = spend.SpendFilter(options.first_day, options.last_day, currency=currency, max_age_days=age)
    tagged = spend.SpendFilter(options.first_day, options.last_day, currency=currency, max_age_days=age,
                               tag_key="team", tag_value="training")
    current, previous = mover_periods(options.last_day)
    pairs = tuple(sorted(provider_tickers(config).items()))
    benchmark = config.get("dashboard.benchmark")
    now = datetime.now(UTC).replace(tzinfo=None)
    first, last = options.first_day, options.last_day
    months = commitments.months(reader)
    commitment_months = (months[max(len(months) - 12, 0)], months[-1])  # the page's default range
    guard = [("meta.summary", lambda: meta.summary(reader))]  # every page starts with the guard
    common = [*guard, ("meta.synthetic_market", lambda: meta.synthetic_market(reader))]
    return {
        "Overview": [
            *common,
            ("spend.filter_options", lambda: spend.filter_options(reader)),
            ("spend.tag_keys", lambda: spend.tag_keys(reader, first, last)),
            ("spend.kpis", lambda: spend.kpis(reader, flt)),
            ("spend.unconverted", lambda: spend.unconverted(reader, flt)),
            ("spend.spend_over_time month/provider", lambda: spend.spend_over_time(reader, flt, "month", "provider")),
            ("spend.spend_over_time day/service", lambda: spend.spend_over_time(reader, flt, "day", "service")),
            ("spend.spend_by service_category", lambda: spend.spend_by(reader, flt, "service_category")),
            ("spend.spend_by service", lambda: spend.spend_by(reader, flt, "service")),
            ("spend.top_movers", lambda: spend.top_movers(reader, flt, current, previous)),
            ("forecasts.forecast_totals", lambda: forecasts.forecast_totals(reader, currency, "effective_cost")),
            ("forecasts.forecast_path", lambda: forecasts.forecast_path(reader, currency, "effective_cost")),
            ("compute.share_by_provider", lambda: compute.share_by_provider(reader, flt)),
            ("compute.class_over_time month", lambda: compute.class_over_time(reader, flt, "month")),
            ("anomalies.chart_marks month", lambda: anomalies.chart_marks(reader, flt, "month")),
        ],
        "Anomalies": [
            *guard,
            ("anomalies.latest_run", lambda: anomalies.latest_run(reader)),
            ("anomalies.anomaly_list", lambda: anomalies.anomaly_list(
                reader, anomalies.AnomalyFilter(first, last), pairs)),
        ],
        "Overview, tag filter team=training": [
            ("spend.tag_values", lambda: spend.tag_values(reader, "team", first, last)),
            ("spend.kpis (tagged)", lambda: spend.kpis(reader, tagged)),
            ("spend.unconverted (tagged)", lambda: spend.unconverted(reader, tagged)),
            ("spend.spend_over_time (tagged)", lambda: spend.spend_over_time(reader, tagged, "month", "provider")),
            ("spend.spend_by service (tagged)", lambda: spend.spend_by(reader, tagged, "service")),
            ("spend.top_movers (tagged)", lambda: spend.top_movers(reader, tagged, current, previous)),
        ],
        "Spend vs market": [
            *common,
            ("spend.filter_options", lambda: spend.filter_options(reader)),
            ("market.price_tickers", lambda: market.price_tickers(reader)),
            ("spend.spend_over_time week/provider", lambda: spend.spend_over_time(reader, flt, "week", "provider",
                                                                                  top=1000)),
            ("spend.unconverted", lambda: spend.unconverted(reader, flt)),
            ("events.event_markers", lambda: events.event_markers(reader, first, last, pairs)),
            ("stock_lines.stock_line price", lambda: stock_lines.stock_line(reader, "MSFT", first, last, "price",
                                                                            study=study)),
            ("stock_lines.stock_line return", lambda: stock_lines.stock_line(reader, "MSFT", first, last, "return",
                                                                             study=study)),
            ("stock_lines.stock_line CAR (market model)", lambda: stock_lines.stock_line(
                reader, "MSFT", first, last, "car", benchmark, "market", study=study)),
            ("event_spend.event_share_changes (events)", lambda: event_spend.event_share_changes(
                reader, currency, "effective", age, pairs, benchmark, study=study)),
        ],
        "Event study": [
            *common,
            ("events.event_list", lambda: events.event_list(reader)),
            ("market.price_tickers", lambda: market.price_tickers(reader)),
            ("events.event_details", lambda: events.event_details(reader, (STUDIED_EVENT,))),
            ("event_study.study (1 event, its own tickers)", lambda: event_study.study(
                reader, (STUDIED_EVENT,), config=study)),
        ],
        "Event study, 5 events": [
            ("events.event_details", lambda: events.event_details(reader, FIVE_EVENTS)),
            ("event_study.study (5 events, their own tickers)", lambda: event_study.study(
                reader, FIVE_EVENTS, config=study)),
        ],
        "Data health": [
            *common,
            ("health.billing_feeds", lambda: health.billing_feeds(reader, now, Freshness())),
            ("health.failures", lambda: health.failures(reader)),
            ("health.recent_loads", lambda: health.recent_loads(reader)),
            ("health.price_feeds", lambda: health.price_feeds(reader, now, Freshness())),
            ("health.fx_feeds", lambda: health.fx_feeds(reader, now, Freshness())),
            ("health.fx_coverage", lambda: health.fx_coverage(reader, currency, age)),
        ],
        "SQL": [*guard, ("schema.columns", lambda: schema.columns(reader))],
        "Commitments": [
            *guard,
            ("commitments.months", lambda: commitments.months(reader)),
            ("commitments.utilization", lambda: commitments.utilization(reader, *commitment_months)),
            ("commitments.coverage", lambda: commitments.coverage(reader, *commitment_months)),
        ],
        "Budgets": [
            *guard,
            ("forecasts.budgets", lambda: forecasts.budgets(reader)),
            ("forecasts.budget_alerts", lambda: forecasts.budget_alerts(reader)),
            ("forecasts.all_forecasts", lambda: forecasts.all_forecasts(reader, currency)),
            ("forecasts.accuracy", lambda: forecasts.accuracy(reader, currency)),
        ],
    }


RENDERED = {  # page: (file to switch to, URL parameters)
    "Overview": (None, {}),
    "Overview, tag filter team=training": (None, {"ov_tag_key": "team", "ov_tag_value": "training"}),
    "Anomalies": ("app_pages/anomalies.py", {}),
    "Spend vs market": ("app_pages/spend_vs_market.py", {}),
    "Event study": ("app_pages/event_study.py", {}),
    "Event study, 5 events": ("app_pages/event_study.py", {"es_events": list(FIVE_EVENTS)}),
    "Data health": ("app_pages/data_health.py", {}),
    "SQL": ("app_pages/sql_console.py", {}),
    "Commitments": ("app_pages/commitments.py", {}),
    "Budgets": ("app_pages/budgets.py", {}),
}


def render_times(db: Path, runs: int) -> dict[str, tuple[float, float]]:
    """Per page: (cold render, median warm render) in seconds, through the router.

    Cold: the page rerun with empty Streamlit caches (data and figures) and a new identity of the published file
    (its modification time moved, as a publish does), so every query runs, every chart is built and the reader opens
    a new connection: what the first visitor after an ETL run waits for. The page has run once before in the same
    ``AppTest``, as a server has started before its first visitor: an ``AppTest``'s first run scans every installed
    package for Streamlit components (about a second), which a server does once at start-up."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    out = {}
    for name, (page, params) in RENDERED.items():
        at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=600)
        for key, value in params.items():
            at.query_params[key] = value
        at.run()
        if page:
            at.switch_page(page).run()
        st.cache_data.clear()
        st.cache_resource.clear()  # the figures built from the data (dashboard.ui.cache.figure)
        os.utime(db, ns=(time.time_ns(), time.time_ns()))
        started = time.perf_counter()
        at.run()
        cold = time.perf_counter() - started
        assert not at.exception, [e.value for e in at.exception]
        warm = []
        for _ in range(runs):
            started = time.perf_counter()
            at.run()
            warm.append(time.perf_counter() - started)
        assert not at.exception, [e.value for e in at.exception]
        out[name] = (cold, statistics.median(warm))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, default=REPO / "data" / "bench-dashboard",
                        help="folder of the benchmark warehouse, built once and reused (default data/bench-dashboard)")
    parser.add_argument("--rows", type=int, default=ROWS, help=f"cost rows of the warehouse (default {ROWS:,})")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per query and per render (default 7)")
    parser.add_argument("--events", type=int, default=16,
                        help="synthetic events added to the 24 of the shipped catalog (default 16)")
    parser.add_argument("--build-only", action="store_true", help="build the warehouse and stop")
    args = parser.parse_args()

    db, facts = build(args.dir.resolve(), args.rows)
    add_events(db, args.events)
    add_anomalies(db)
    store_forecasts(db)
    if args.build_only:
        return 0
    os.environ["SPENDSCOPE_DB"] = str(db)
    logging.getLogger("streamlit").setLevel(logging.ERROR)

    print(f"\nwarehouse: {facts['cost_rows']:,} cost rows, {facts['rollup_rows']:,} daily rollup rows, "
          f"{tag_rollup_rows(db):,} tag rollup rows, {facts['db_mb']:,.0f} MiB; built in {facts['build_s']:.0f} s "
          f"(generate {facts['generate_s']:.0f} s, load {facts['load_s']:.0f} s)\n")
    results: dict[str, dict] = {}
    print(f"{'page':<36}{'query':<46}{'median ms':>10}{'max ms':>9}")
    for page, queries in page_queries(db).items():
        medians = {}
        for name, function in queries:
            times = timed(function, args.runs)
            medians[name] = statistics.median(times) * 1000
            print(f"{page:<36}{name:<46}{medians[name]:>10.1f}{max(times) * 1000:>9.1f}", flush=True)
        slowest = max(medians, key=medians.get)
        results[page] = {"queries": len(medians), "median_ms": statistics.median(medians.values()),
                         "slowest": slowest, "slowest_median_ms": medians[slowest]}
    renders = render_times(db, args.runs)
    print(f"\n{'page':<36}{'queries':>8}{'median of medians ms':>22}{'slowest median ms':>19}"
          f"{'cold render s':>15}{'warm render s':>15}")
    figures = []
    for page, r in results.items():
        cold, warm = renders[page]
        print(f"{page:<36}{r['queries']:>8}{r['median_ms']:>22.1f}{r['slowest_median_ms']:>19.1f}"
              f"{cold:>15.2f}{warm:>15.2f}")
        r |= {"cold_render_s": cold, "warm_render_s": warm}
        figures += [Figure(f"{page}: slowest query median ({r['slowest']})", r["slowest_median_ms"], "ms",
                           TARGET_QUERY_MS),
                    Figure(f"{page}: cold render", cold, "s", TARGET_COLD_S),
                    Figure(f"{page}: warm render", warm, "s", TARGET_WARM_S)]
    (args.dir / "results.json").write_text(json.dumps({"facts": facts, "pages": results}, indent=2))
    print()
    return record("dashboard", figures)


def tag_rollup_rows(db: Path) -> int:
    from dashboard.queries.reader import Reader

    return Reader(db).row("SELECT count(*) FROM daily_tag_spend")[0]


if __name__ == "__main__":
    sys.exit(main())
