"""Spend next to the market: provider stock lines (price, cumulative return, cumulative abnormal return), the
catalog's events as markers, and each event's change in the provider's share of our spend next to its CAR.

Stock lines use ``prices``: the raw ``close`` for the price view, the total-return ``adj_close`` for
returns (a ticker without an adjusted close, e.g. one imported without a dividends file, falls back to its
close, which is its total return when it pays no dividend). The CAR line of a provider's stock uses the
engine's primitives (:func:`~etl.eventstudy.models.fit_normal_model`, ``expected_returns``,
``returns_from_prices``). An event's CAR[-1,+1] is the stored one of ``python -m etl eventstudy run``
(table ``event_study_results``) or, for a pair it has not run, the same warehouse-mode computation
(:func:`~etl.eventstudy.warehouse.compute_event_studies`) done here; the conventions are in README "Dashboard".

The ``events`` and ``event_study_results`` tables come with schema version 3: every function here that reads
them checks that they exist and returns an empty result without them, so the page works on an older
warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from dashboard.queries.reader import Queryable, Reader, Snapshot
from dashboard.queries.spend import MEASURES
from etl.events.store import read_events
from etl.eventstudy.models import expected_returns, fit_normal_model, returns_from_prices
from etl.eventstudy.settings import StudySettings
from etl.eventstudy.warehouse import StudyTables, compute_event_studies
from etl.eventstudy.windows import OffsetWindow

VIEWS = {"price": "Price", "return": "Cumulative return", "car": "Cumulative abnormal return"}
MODELS = {"market_adjusted": "Market-adjusted (R − R_benchmark)",
          "market": "Market model (α + β·R_benchmark, fitted before the start)"}
ESTIMATION_SESSIONS = 250
"""Sessions before the start of a CAR line over which the market model is fitted."""
MIN_ESTIMATION_SESSIONS = 60
"""Fewer sessions with both returns than this: the market model is not fitted (market-adjusted instead)."""
SHARE_WINDOWS = (30, 90)
EVENT_CAR_WINDOW = "[-1,+1]"


# --- prices and stock lines ---------------------------------------------------------------------------------

def price_tickers(reader: Reader) -> pd.DataFrame:
    """Tickers with prices: columns ticker, currency, exchange, first_day, last_day, sessions."""
    if not reader.has_relation("prices"):
        return pd.DataFrame(columns=["ticker", "currency", "exchange", "first_day", "last_day", "sessions"])
    return reader.frame(
        """
        SELECT ticker, any_value(currency) AS currency, any_value(exchange) AS exchange, min(date) AS first_day,
               max(date) AS last_day, count(*) AS sessions
        FROM prices GROUP BY ticker ORDER BY ticker
        """
    )


def _closes(reader: Reader, tickers: list[str], start: date | None = None, end: date | None = None) -> pd.DataFrame:
    """Long frame ticker, date (Timestamp), close, total (adj_close, or close where it is NULL), exchange."""
    return reader.frame(
        """
        SELECT ticker, date::TIMESTAMP AS date, close, coalesce(adj_close, close) AS total, exchange
        FROM prices
        WHERE list_contains($tickers::VARCHAR[], ticker)
          AND ($start IS NULL OR date >= $start) AND ($end IS NULL OR date <= $end)
        ORDER BY ticker, date
        """,
        {"tickers": tickers, "start": start, "end": end},
    )


def cumulative_return(total: pd.Series) -> pd.Series:
    """Cumulative total return since the first session of ``total`` (0 there), as a fraction."""
    total = total.dropna()
    return total / total.iloc[0] - 1.0 if len(total) else total


def cumulative_abnormal_return(firm: pd.Series, benchmark: pd.Series, start: date, model: str = "market_adjusted",
                               estimation_sessions: int = ESTIMATION_SESSIONS,
                               min_sessions: int = MIN_ESTIMATION_SESSIONS) -> tuple[pd.Series, str]:
    """CAR of ``firm`` against ``benchmark`` from ``start`` (0 on the first session on or after it).

    Both are total-return price series indexed by session date; the benchmark is aligned to the firm's
    sessions. Simple returns (``returns_from_prices``). ``market_adjusted``: AR = R − R_m. ``market``:
    AR = R − (α + β R_m) with α, β fitted by OLS (``fit_normal_model``) over the ``estimation_sessions``
    sessions before the start; with fewer than ``min_sessions`` usable sessions the line falls back to
    market-adjusted and the note says so. Returns the CAR (fraction) and a note for the caption.
    """
    firm = firm.dropna().sort_index()
    bench = benchmark.sort_index().reindex(firm.index)
    r = returns_from_prices(firm)
    m = returns_from_prices(bench)
    after = firm.index >= pd.Timestamp(start)
    if not after.any():
        return pd.Series(dtype=float), "no session on or after the start"
    first = int(np.argmax(after))
    note = "market-adjusted: AR = R − R_benchmark"
    use = "market_adjusted"
    if model == "market":
        lo = max(first - estimation_sessions, 0)
        sample = np.zeros(len(r), dtype=bool)
        sample[lo:first] = True
        sample &= ~np.isnan(r.to_numpy()) & ~np.isnan(m.to_numpy())
        if sample.sum() >= min_sessions:
            use = "market"
        else:
            note = (f"market model not fitted: only {int(sample.sum())} sessions with both returns before the "
                    f"start (minimum {min_sessions}); shown market-adjusted instead")
    r_arr, m_arr = r.to_numpy()[:, None], m.to_numpy()[:, None]
    if use == "market":
        fit = fit_normal_model(r_arr, m_arr, sample[:, None], "market")
        note = (f"market model fitted over {int(sample.sum())} sessions before the start: "
                f"α = {fit.alpha[0]:.5f}, β = {fit.beta[0]:.3f}, R² = {fit.r2[0]:.2f}")
    else:
        fit = fit_normal_model(r_arr, m_arr, np.ones_like(r_arr, dtype=bool), "market_adjusted")
    ar = (r_arr - expected_returns(fit, m_arr, use))[:, 0]
    ar_after = pd.Series(ar, index=firm.index).iloc[first:]
    ar_after.iloc[0] = 0.0  # the line starts at 0 on the first session
    missing = ar_after.isna()
    car = ar_after.fillna(0.0).cumsum()
    car[missing] = np.nan  # a session without both returns has no CAR point (no bridging)
    return car, note


@dataclass(frozen=True)
class StockLine:
    """One ticker's line for the secondary axis: ``frame`` has columns date, value; ``unit`` is the axis unit
    (the trading currency for prices, ``%`` otherwise); ``note`` explains a CAR line's model."""

    ticker: str
    view: str
    frame: pd.DataFrame
    unit: str
    label: str
    note: str = ""


def stock_line(reader: Reader, ticker: str, start: date, end: date, view: str = "price", benchmark: str = "SPY",
               model: str = "market_adjusted") -> StockLine:
    """The line of ``ticker`` from ``start`` to ``end`` for ``view`` (a key of VIEWS); values in % for the
    return views. Empty frame when the ticker has no prices in the range."""
    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r}")
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}")
    empty = pd.DataFrame({"date": pd.Series(dtype="datetime64[us]"), "value": pd.Series(dtype=float)})
    if not reader.has_relation("prices"):
        return StockLine(ticker, view, empty, "", VIEWS[view], "no prices table")
    if view == "price":
        rows = reader.frame("SELECT date::TIMESTAMP AS date, close AS value, currency FROM prices "
                            "WHERE ticker = $t AND date BETWEEN $start AND $end ORDER BY date",
                            {"t": ticker, "start": start, "end": end})
        unit = str(rows["currency"].iloc[0]) if len(rows) else ""
        return StockLine(ticker, view, rows[["date", "value"]], unit, f"{ticker} close", "raw close")
    if view == "return":
        rows = _closes(reader, [ticker], start, end)
        series = cumulative_return(rows.set_index("date")["total"]) * 100
        frame = series.rename("value").rename_axis("date").reset_index() if len(series) else empty
        return StockLine(ticker, view, frame, "%", f"{ticker} cumulative return",
                         "total return (adjusted close) since the first session of the range")
    # the estimation period lies before the start, so read from well before it
    lookback = start - timedelta(days=int(ESTIMATION_SESSIONS * 1.6) + 10)
    rows = _closes(reader, [ticker, benchmark], lookback, end)
    firm = rows[rows["ticker"] == ticker].set_index("date")["total"]
    bench = rows[rows["ticker"] == benchmark].set_index("date")["total"]
    label = f"{ticker} CAR vs {benchmark}"
    if firm.empty or bench.empty:
        missing = ticker if firm.empty else benchmark
        return StockLine(ticker, view, empty, "%", label, f"no prices of {missing}")
    car, note = cumulative_abnormal_return(firm, bench, start, model)
    frame = (car * 100).rename("value").rename_axis("date").reset_index() if len(car) else empty
    return StockLine(ticker, view, frame, "%", label, note)


# --- events (later migration; guarded) ----------------------------------------------------------------------

MARKER_COLUMNS = ["event_id", "date", "announced_at", "provider", "headline", "source_url"]


def has_events(reader: Reader) -> bool:
    return reader.has_relation("events")


def _event_providers_sql() -> str:
    """(event_id, announced_at, headline, market_time, time_precision, provider): each event once per provider,
    named in ``providers`` or through one of its ``tickers`` (the $map_* lists: the providers.tickers setting)."""
    return """
        SELECT e.event_id, e.announced_at, e.headline, e.market_time, e.time_precision, p.provider
        FROM events e, unnest(e.providers) AS p(provider)
        UNION
        SELECT e.event_id, e.announced_at, e.headline, e.market_time, e.time_precision, m.provider
        FROM events e, unnest(e.tickers) AS t(ticker)
        JOIN (SELECT unnest($map_providers::VARCHAR[]) AS provider, unnest($map_tickers::VARCHAR[]) AS ticker) m
          ON m.ticker = t.ticker
    """


def _mapping_params(tickers: tuple[tuple[str, str], ...]) -> dict:
    return {"map_providers": [p for p, _ in tickers], "map_tickers": [t for _, t in tickers]}


def event_markers(reader: Reader, start: date, end: date, tickers: tuple[tuple[str, str], ...] = ()) -> pd.DataFrame:
    """Events announced from ``start`` to ``end`` (UTC dates), one row per event and provider: columns event_id,
    date, announced_at, provider, headline, source_url (the first). ``tickers``: (provider, ticker) pairs.
    Empty without an ``events`` table."""
    if not has_events(reader):
        return pd.DataFrame(columns=MARKER_COLUMNS)
    return reader.frame(
        f"""
        WITH ep AS ({_event_providers_sql()})
        SELECT ep.event_id, CAST(ep.announced_at AS DATE) AS date, ep.announced_at, ep.provider, ep.headline,
               e.source_urls[1] AS source_url
        FROM ep JOIN events e USING (event_id)
        WHERE CAST(ep.announced_at AS DATE) BETWEEN $start AND $end
        ORDER BY ep.announced_at, ep.provider, ep.event_id
        """,
        {"start": start, "end": end} | _mapping_params(tickers),
    )


def event_share_changes(reader: Reader, currency: str, measure: str = "effective", max_age_days: int = 7,
                        tickers: tuple[tuple[str, str], ...] = (), benchmark: str = "SPY",
                        windows: tuple[int, ...] = SHARE_WINDOWS) -> pd.DataFrame:
    """One row per event and provider: the provider's share of all our spend (reporting currency; amounts
    without a rate left out) in the N days before the event's UTC date and in the N days from it, for each N
    of ``windows``, next to the CAR[-1,+1] of the provider's ticker.

    Columns: date, headline, provider, ticker, change_<N>d_pp per N (percentage points), car_m1_p1
    (fraction), then per N share_before_<N>d, share_after_<N>d and complete_<N>d (both windows inside the
    loaded spend), car_source and car_note (see :func:`event_cars`) and event_id. One snapshot serves every read.
    Empty without an ``events`` table.
    """
    columns = ["date", "headline", "provider", "ticker", *[f"change_{n}d_pp" for n in windows], "car_m1_p1"]
    for n in windows:
        columns += [f"share_before_{n}d", f"share_after_{n}d", f"complete_{n}d"]
    columns += ["car_source", "car_note", "event_id"]
    with reader.snapshot() as snapshot:  # shares and CARs of the same published file
        return _event_share_changes(snapshot, columns, currency, measure, max_age_days, tickers, benchmark, windows)


def _event_share_changes(snapshot: Snapshot, columns: list[str], currency: str, measure: str, max_age_days: int,
                         tickers: tuple[tuple[str, str], ...], benchmark: str, windows: tuple[int, ...]
                         ) -> pd.DataFrame:
    relations = snapshot.relations()
    if "events" not in relations:
        return pd.DataFrame(columns=columns)
    column = MEASURES[measure]
    long = snapshot.frame(
        f"""
        WITH daily AS (
            SELECT date, provider, sum({column}_reporting) AS amount
            FROM daily_spend_in_currency($cur, max_age_days := $age) WHERE NOT fx_missing GROUP BY ALL
        ),
        bounds AS (SELECT min(date) AS first_day, max(date) AS last_day FROM daily_spend),
        ep AS ({_event_providers_sql()}),
        w AS (SELECT unnest($windows::INTEGER[]) AS days),
        sums AS (
            SELECT ep.event_id, ep.provider, CAST(ep.announced_at AS DATE) AS day, w.days,
                   sum(d.amount) FILTER (d.date < day AND d.provider = ep.provider) AS provider_before,
                   sum(d.amount) FILTER (d.date < day) AS total_before,
                   sum(d.amount) FILTER (d.date >= day AND d.provider = ep.provider) AS provider_after,
                   sum(d.amount) FILTER (d.date >= day) AS total_after
            FROM ep CROSS JOIN w
            LEFT JOIN daily d ON d.date >= CAST(ep.announced_at AS DATE) - w.days
                             AND d.date < CAST(ep.announced_at AS DATE) + w.days
            GROUP BY ALL
        )
        SELECT s.event_id, s.day AS date, e.headline, s.provider, s.days,
               (coalesce(s.provider_before, 0) / nullif(s.total_before, 0))::DOUBLE AS share_before,
               (coalesce(s.provider_after, 0) / nullif(s.total_after, 0))::DOUBLE AS share_after,
               (s.day - s.days >= b.first_day AND s.day + s.days - 1 <= b.last_day) AS complete
        FROM sums s JOIN events e USING (event_id) CROSS JOIN bounds b
        ORDER BY s.day, s.provider, s.event_id, s.days
        """,
        {"cur": currency.upper(), "age": max_age_days, "windows": list(windows)} | _mapping_params(tickers),
    )
    if long.empty:
        return pd.DataFrame(columns=columns)
    long["change_pp"] = (long["share_after"] - long["share_before"]) * 100
    wide = long.pivot_table(index=["event_id", "date", "headline", "provider"], columns="days",
                            values=["share_before", "share_after", "change_pp", "complete"], aggfunc="first",
                            sort=False)
    wide.columns = [f"{name}_{days}d" if name != "change_pp" else f"change_{days}d_pp" for name, days in wide.columns]
    wide = wide.reset_index()
    wide["date"] = pd.to_datetime(wide["date"]).dt.date
    ticker_of = dict(tickers)
    wide["ticker"] = wide["provider"].map(ticker_of)
    cars = event_cars(snapshot, tuple(sorted({(e, t) for e, t in zip(wide["event_id"], wide["ticker"], strict=True)
                                              if isinstance(t, str)})), benchmark, relations)
    wide = wide.merge(cars, on=["event_id", "ticker"], how="left")
    wide = wide.sort_values(["date", "provider", "event_id"]).reset_index(drop=True)
    return wide.reindex(columns=columns)


def event_cars(reader: Queryable, pairs: tuple[tuple[str, str], ...], benchmark: str = "SPY",
               relations: frozenset[str] | None = None) -> pd.DataFrame:
    """CAR[-1,+1] of each (event_id, ticker), from what ``eventstudy run`` stored when it has the pair (preferring
    the configured benchmark, then the market model, then simple returns): its row in ``event_study_results``,
    or its row against the configured benchmark in ``event_study_exclusions`` (NaN, with the engine's reason).
    A pair the run has not covered is computed here (see :func:`_compute_cars`). Columns event_id, ticker,
    car_m1_p1, car_source (``event_study_results``, ``event_study_exclusions`` or ``computed``), car_note."""
    out = pd.DataFrame({"event_id": [p[0] for p in pairs], "ticker": [p[1] for p in pairs]}, dtype=object)
    out["car_m1_p1"], out["car_source"], out["car_note"] = np.nan, None, None
    if not pairs:
        return out
    with reader.snapshot() as snapshot:
        relations = snapshot.relations() if relations is None else relations
        found = _stored_cars(snapshot, pairs, benchmark, relations)
        todo = [p for p in pairs if p not in found]
        computed = _compute_cars(snapshot, todo, benchmark) if todo else {}
    rows = [found[p] if p in found else (*computed[p], "computed") for p in pairs]
    out["car_m1_p1"] = [float(car) for car, _, _ in rows]
    out["car_source"] = [source for _, _, source in rows]
    out["car_note"] = [note for _, note, _ in rows]
    return out


_STORED_CARS = {  # table: its rows as (event_id, ticker, benchmark, model, returns_kind, car, source, note)
    "event_study_results": """
        SELECT event_id, ticker, benchmark, model, returns_kind, car, 'event_study_results' AS source,
               format('{} model, {} returns, vs {}', model, returns_kind, benchmark) AS note
        FROM event_study_results WHERE "window" = $window""",
    "event_study_exclusions": """
        SELECT event_id, ticker, benchmark, model, returns_kind, NULL::DOUBLE AS car, 'event_study_exclusions',
               format('excluded ({} model, {} returns, vs {}): {}', model, returns_kind, benchmark, reason)
        FROM event_study_exclusions WHERE benchmark = $bench""",  # an exclusion may be the benchmark's own doing
}


def _stored_cars(snapshot: Snapshot, pairs: tuple[tuple[str, str], ...], benchmark: str,
                 relations: frozenset[str]) -> dict[tuple[str, str], tuple[float, str, str]]:
    """(car, note, source) of the pairs ``eventstudy run`` stored as a result or as an exclusion."""
    tables = [sql for table, sql in _STORED_CARS.items() if table in relations]
    if not tables:
        return {}
    rows = snapshot.frame(
        f"""
        SELECT event_id, ticker, car, note, source
        FROM ({' UNION ALL '.join(tables)})
        WHERE list_contains($events::VARCHAR[], event_id)
        QUALIFY row_number() OVER (PARTITION BY event_id, ticker
                                   ORDER BY benchmark = $bench DESC, model = 'market' DESC,
                                            returns_kind = 'simple' DESC, source = 'event_study_results' DESC,
                                            benchmark, model) = 1
        """,
        {"events": sorted({p[0] for p in pairs}), "bench": benchmark}
        | ({"window": EVENT_CAR_WINDOW} if "event_study_results" in relations else {}),
    )
    return {(e, t): (car, note, source) for e, t, car, note, source in rows.itertuples(index=False)}


def _compute_cars(reader: Queryable, pairs: list[tuple[str, str]], benchmark: str
                  ) -> dict[tuple[str, str], tuple[float, str]]:
    """CAR[-1,+1] of pairs that ``eventstudy run`` has not stored, from the same warehouse-mode event study
    (day 0 by the listing calendar, market model over sessions [-250,-11], simple returns), against
    ``benchmark``. A pair that cannot run gets NaN and the reason."""
    settings = StudySettings(windows=(OffsetWindow(-1, 1),), benchmark=benchmark,
                             tickers=tuple(sorted({ticker for _, ticker in pairs})))

    def compute(con: object) -> StudyTables:
        return compute_event_studies(con, read_events(con, sorted({event for event, _ in pairs})), settings)

    tables = reader.using(compute)
    cars = {(r.event_id, r.ticker): (float(r.car),
                                     f"market model vs {r.benchmark}, day 0 {pd.Timestamp(r.day0).date()}")
            for r in tables.results.itertuples()}
    reasons = {(p.event_id, p.ticker): p.reason for p in tables.pairs.itertuples()}
    return {pair: cars.get(pair) or (np.nan, reasons.get(pair) or "not computed") for pair in pairs}
