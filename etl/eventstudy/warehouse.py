"""Warehouse mode: event studies of stored events on stored prices, as frames ready to store or to show.

:func:`compute_event_studies` is what ``python -m etl eventstudy run`` stores and what the dashboard calls
for custom choices, so both show numbers from the same code. It reads nothing but its arguments (a read
connection or a prices frame, and an events frame) and writes nothing; the maths is the pure engine.

How an event is studied:

1. **Pairs.** Each event is studied for its own tickers (or ``settings.tickers``). A ticker's calendar is
   its listing (``sql/seed/market_listing.csv``), its benchmark ``settings.benchmark`` or the benchmark of
   that calendar (setting ``eventstudy.benchmarks``), its day 0 the rule of :mod:`etl.events.day0`.
2. **Returns.** Session returns of ``adj_close`` (simple, or log) on the benchmark's exchange sessions
   (``exchange_calendars``), computed once per benchmark over the whole price history and then sliced
   around each day 0. A session without a price is NaN, so the returns into and out of it are missing;
   nothing is forward-filled or bridged. A ticker must trade on the same sessions as its benchmark
   (XNAS and XNYS do), otherwise that pair fails with the reason.
3. **Engine.** The tickers of one event that share a benchmark (and day 0) form one cross-section: one
   :func:`~etl.eventstudy.engine.run_event_study` call gives their per-ticker and cross-sectional rows.
   A ticker without enough history (listed after the estimation window, or mid-window) is excluded by the
   engine with its reason, never dropped silently.
4. **Skips.** A pair whose day 0 lies outside the price history of its ticker and benchmark (an event before
   their first price, or after their last) is skipped with the reason: nothing can be measured yet or any more,
   which is no error (the catalog goes back to 2019, a demo's prices to 2023).
5. **Failures.** A pair whose ticker or benchmark has no adjusted closes, no prices around a day 0 inside their
   history, or no benchmark for its calendar is a failure with a reason (:attr:`StudyTables.failures`); the
   others run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache

import duckdb
import numpy as np
import pandas as pd

from etl.events.day0 import Day0, decide_day0, exchange_calendar
from etl.events.store import DAY0_COLUMNS
from etl.eventstudy.engine import CAR_STATISTICS, DAILY_STATISTICS, EventStudyResult, run_event_study
from etl.eventstudy.models import returns_from_prices
from etl.eventstudy.settings import StudySettings
from etl.eventstudy.windows import OVERLAP_COLUMNS, LabelWindow, OffsetWindow, flag_overlaps
from etl.market.calendars import listing

KEYS = ["event_id", "ticker", "benchmark", "model", "returns_kind"]
CROSS_KEYS = ["event_id", "benchmark", "model", "returns_kind"]
DAILY_COLUMNS = [*KEYS, "relative_day", "date", "ret", "market_ret", "ar", "car", "ar_t", "ar_t_p", "sar"]
RESULT_COLUMNS = [*KEYS, "window", "window_start", "window_end", "days", "car", "bhar", "scar", "car_t", "car_t_p",
                  "stars", "estimation_start", "estimation_end", "T", "alpha", "beta", "s", "r2", "start_day",
                  "end_day", "day0", "first_obs", "last_obs"]
_CAR_TESTS = [*CAR_STATISTICS, *(f"{s}_p" for s in CAR_STATISTICS), *(f"{s}_stars" for s in CAR_STATISTICS)]
CROSS_COLUMNS = [*CROSS_KEYS, "window", "window_start", "window_end", "n", "days", "caar", "mean_daily_aar",
                 "bhar_mean", "r_bar", *_CAR_TESTS, "start_day", "end_day", "day0", "tickers"]
CROSS_DAILY_COLUMNS = [*CROSS_KEYS, "relative_day", "date", "n", "aar", "r_bar", *DAILY_STATISTICS,
                       *(f"{s}_p" for s in DAILY_STATISTICS), *(f"{s}_stars" for s in DAILY_STATISTICS), "day0"]
EXCLUSION_COLUMNS = ["event_id", "ticker", "benchmark", "model", "reason", "returns_kind"]
FAILURE_COLUMNS = ["event_id", "ticker", "benchmark", "reason"]
PAIR_COLUMNS = ["event_id", "ticker", "benchmark", "day0", "status", "reason"]
NOTE_COLUMNS = ["event_id", "benchmark", "note"]


@dataclass(frozen=True)
class StudyTables:
    """The result frames of a batch of event studies; the column lists above give their columns.

    - ``day0``: event, ticker, calendar, day 0 and the rule (also for failed pairs when day 0 is known);
    - ``daily``: per event, ticker and session of the path window (ret, market_ret, ar, car, ar_t, ...);
    - ``results``: per event, ticker and window (car, bhar, scar, car_t, estimation facts);
    - ``cross`` / ``cross_daily``: cross-section of the tickers sharing a benchmark, per window / per day;
    - ``exclusions``: tickers the engine left out, with its reason; ``failures``: pairs that could not run;
    - ``overlaps``: events of the same ticker whose windows overlap; ``notes``: the engine's notes;
    - ``pairs``: one row per event and ticker asked for: benchmark, day 0, status (``computed``,
      ``excluded``, ``skipped`` or ``failed``) and the reason of an exclusion, skip or failure.
    """

    day0: pd.DataFrame
    daily: pd.DataFrame
    results: pd.DataFrame
    cross: pd.DataFrame
    cross_daily: pd.DataFrame
    exclusions: pd.DataFrame
    overlaps: pd.DataFrame
    failures: pd.DataFrame
    notes: pd.DataFrame
    pairs: pd.DataFrame
    settings: StudySettings = field(default_factory=StudySettings)

@dataclass
class _Pair:
    event_id: str
    ticker: str
    calendar: str
    benchmark: str | None = None
    day0: date | None = None
    failure: str | None = None
    skip: str | None = None  # day 0 outside the price history: no result, and no error


@dataclass(frozen=True)
class _Panel:
    """Returns of every ticker that uses one benchmark, on the benchmark's sessions, whole history."""

    returns: pd.DataFrame
    first: date
    last: date


def compute_event_studies(prices: duckdb.DuckDBPyConnection | pd.DataFrame, events: pd.DataFrame,
                          settings: StudySettings | None = None, *, detail: bool = True) -> StudyTables:
    """Event studies of ``events`` on adjusted closes.

    ``prices``: a read connection to the warehouse (table ``prices`` is read) or a frame with columns
    ``ticker, date, adj_close``. ``events``: columns ``event_id, announced_at, time_precision, market_time,
    tickers`` as :func:`etl.events.store.read_events` returns them. Returns :class:`StudyTables`; with
    ``detail`` false only ``results``, ``pairs``, ``exclusions``, ``failures``, ``day0`` and ``notes`` are
    filled (the same values), and ``daily``, ``cross``, ``cross_daily`` and ``overlaps`` are left empty: what a
    caller that needs only the CARs of some pairs pays for (building those frames is most of a small study's time).
    """
    settings = settings or StudySettings()
    pairs, day0_rows = _resolve_pairs(events, settings)
    closes = _adjusted_closes(prices, {t for p in pairs for t in (p.ticker, p.benchmark) if t and not p.failure})
    _check_prices(pairs, closes)
    panels = _panels(pairs, closes, settings)
    groups: dict[tuple[str, str, date], list[_Pair]] = defaultdict(list)
    for pair in pairs:
        if not pair.failure:
            groups[(pair.event_id, pair.benchmark, pair.day0)].append(pair)
    runs: list[_Run] = []
    for (event_id, benchmark, day0), members in groups.items():
        tickers = [m.ticker for m in members]
        panel = panels[benchmark]
        window = _event_slice(panel, day0, settings)
        if window is None:
            span = f"{benchmark} and {', '.join(tickers)} have prices from {panel.first} to {panel.last}"
            outside = not panel.first <= day0 <= panel.last
            for member in members:
                if outside:
                    member.skip = f"not enough price history: day 0 {day0} is outside it ({span})"
                else:
                    member.failure = f"no prices around day 0 {day0}: {span}"
            continue
        result = run_event_study(window[tickers], window[benchmark], pd.Timestamp(day0), settings.engine_config())
        runs.append(_Run.of(event_id, benchmark, result, window))
    failures = pd.DataFrame([(p.event_id, p.ticker, p.benchmark, p.failure) for p in pairs if p.failure],
                            columns=FAILURE_COLUMNS)
    excluded = {(run.event_id, e.firm): e.reason for run in runs for e in run.result.exclusions}
    status = [(p.event_id, p.ticker, p.benchmark, p.day0,
               *(("failed", p.failure) if p.failure else ("skipped", p.skip) if p.skip else
                 ("excluded", excluded[(p.event_id, p.ticker)]) if (p.event_id, p.ticker) in excluded else
                 ("computed", ""))) for p in pairs]
    day0 = pd.DataFrame(day0_rows, columns=DAY0_COLUMNS)
    overlaps = event_overlaps(day0, settings) if detail else pd.DataFrame(columns=OVERLAP_COLUMNS)
    return StudyTables(day0=day0, overlaps=overlaps, failures=failures, settings=settings,
                       pairs=pd.DataFrame(status, columns=PAIR_COLUMNS), **_assemble(runs, settings, detail))


def event_overlaps(day0: pd.DataFrame, settings: StudySettings) -> pd.DataFrame:
    """Overlapping events per ticker (``flag_overlaps``) from ``event_id, ticker, calendar, day0`` rows,
    counted in sessions of each ticker's calendar, with the event windows and estimation of ``settings``."""
    if day0.empty:
        return pd.DataFrame(columns=OVERLAP_COLUMNS)
    estimation = settings.overlap_estimation
    before = -min(estimation.start, *(w.start for w in settings.windows), 0)
    after = max(estimation.end, *(w.end for w in settings.windows), 0)
    frame = day0.assign(day0=pd.to_datetime(day0["day0"]))
    sessions = {}
    for ticker, rows in frame.groupby("ticker"):
        cal = exchange_calendar(rows["calendar"].iloc[0])
        lo = max(rows["day0"].min() - pd.Timedelta(days=before * 8 // 5 + 30), cal.first_session)
        hi = min(rows["day0"].max() + pd.Timedelta(days=after * 8 // 5 + 30), cal.last_session)
        sessions[str(ticker)] = cal.sessions_in_range(lo, hi)
    return flag_overlaps(frame[["event_id", "ticker", "day0"]], settings.windows, estimation, sessions)


def _resolve_pairs(events: pd.DataFrame, settings: StudySettings) -> tuple[list[_Pair], list[tuple]]:
    """Every (event, ticker) with its calendar, benchmark and day 0, or the reason it cannot run."""
    pairs, day0_rows = [], []
    decided: dict[tuple[str, str], Day0 | str] = {}
    for event in events.itertuples(index=False):
        tickers = [str(t).upper() for t in (settings.tickers or event.tickers)]
        for ticker in dict.fromkeys(tickers):
            pair = _Pair(event.event_id, ticker, listing(ticker).calendar)
            pairs.append(pair)
            key = (event.event_id, pair.calendar)
            if key not in decided:
                try:
                    decided[key] = decide_day0(event.announced_at, event.time_precision, event.market_time,
                                               pair.calendar)
                except ValueError as exc:
                    decided[key] = str(exc)
            found = decided[key]
            if isinstance(found, str):
                pair.failure = f"no day 0: {found}"
                continue
            pair.day0 = found.day0
            day0_rows.append((event.event_id, ticker, found.calendar, found.day0, found.rule))
            pair.benchmark = settings.benchmark_for(pair.calendar)
            if pair.benchmark is None:
                pair.failure = (f"no benchmark for {ticker}'s calendar {pair.calendar}: set one in the setting "
                                "eventstudy.benchmarks or pass --benchmark")
    return pairs, day0_rows


def _adjusted_closes(prices: duckdb.DuckDBPyConnection | pd.DataFrame, tickers: Iterable[str]) -> pd.DataFrame:
    """Adjusted closes, one column per ticker that has any, indexed by session date."""
    wanted = sorted(tickers)
    if isinstance(prices, pd.DataFrame):
        long = prices.loc[prices["ticker"].isin(wanted) & prices["adj_close"].notna(), ["ticker", "date", "adj_close"]]
    else:
        long = prices.execute(
            "SELECT ticker, date, adj_close FROM prices WHERE ticker IN (SELECT unnest(?)) AND adj_close IS NOT NULL",
            [wanted]).df()
    if long.empty:
        return pd.DataFrame(index=pd.DatetimeIndex([]))
    wide = long.assign(date=pd.to_datetime(long["date"])).pivot(index="date", columns="ticker", values="adj_close")
    return wide.sort_index().astype(float)


def _check_prices(pairs: Sequence[_Pair], closes: pd.DataFrame) -> None:
    """Fail the pairs whose ticker or benchmark has no adjusted closes, or trades on other sessions."""
    for pair in pairs:
        if pair.failure:
            continue
        for ticker, role in ((pair.ticker, ""), (pair.benchmark, "the benchmark ")):
            if ticker not in closes.columns:
                pair.failure = (f"no adjusted closes for {role}{ticker} in the warehouse (table prices): run "
                                f"`python -m etl prices fetch {ticker}` or `prices import`")
                break
        else:
            bench_calendar = listing(pair.benchmark).calendar
            if not _same_sessions(pair.calendar, bench_calendar):
                pair.failure = (f"{pair.ticker} trades on {pair.calendar} sessions but its benchmark {pair.benchmark} "
                                f"on {bench_calendar}: choose a benchmark of the same calendar (--benchmark, setting "
                                "eventstudy.benchmarks)")


@cache
def _same_sessions(a: str, b: str) -> bool:
    """Whether two calendars have the same sessions (XNYS and XNAS do) over their common range."""
    if a == b:
        return True
    first, second = exchange_calendar(a), exchange_calendar(b)
    lo, hi = max(first.first_session, second.first_session), min(first.last_session, second.last_session)
    return first.sessions_in_range(lo, hi).equals(second.sessions_in_range(lo, hi))


def _panels(pairs: Sequence[_Pair], closes: pd.DataFrame, settings: StudySettings) -> dict[str, _Panel]:
    """Per benchmark: returns of it and of its tickers on its calendar's sessions, never filled."""
    members: dict[str, list[str]] = defaultdict(list)
    for pair in pairs:
        if not pair.failure:
            members[pair.benchmark].append(pair.ticker)
    panels = {}
    for benchmark, tickers in members.items():
        columns = list(dict.fromkeys([*tickers, benchmark]))
        span = closes[columns].dropna(how="all")
        first, last = span.index[0], span.index[-1]
        cal = exchange_calendar(listing(benchmark).calendar)
        sessions = cal.sessions_in_range(max(first, cal.first_session), min(last, cal.last_session))
        returns = returns_from_prices(closes[columns].reindex(sessions), settings.returns_kind)
        panels[benchmark] = _Panel(returns, first.date(), last.date())
    return panels


def _event_slice(panel: _Panel, day0: date, settings: StudySettings) -> pd.DataFrame | None:
    """The panel's rows that cover the estimation window and every event window of ``day0``."""
    sessions = panel.returns.index
    label = pd.Timestamp(day0)
    if label not in sessions:
        return None
    pos0 = sessions.get_loc(label)
    windows: list[OffsetWindow] = [*settings.windows, settings.path_window]
    starts = [pos0 + w.start for w in windows]
    ends = [pos0 + w.end for w in windows]
    estimation = settings.estimation
    if isinstance(estimation, LabelWindow):
        starts.append(int(sessions.searchsorted(pd.Timestamp(estimation.start))))
        ends.append(int(sessions.searchsorted(pd.Timestamp(estimation.end), side="right")) - 1)
    else:
        starts.append(pos0 + estimation.start)
        ends.append(pos0 + estimation.end)
    return panel.returns.iloc[max(min(starts), 0): max(ends) + 1]


@dataclass(frozen=True)
class _Run:
    """One engine call (an event and a benchmark) with the returns of its path-window rows."""

    event_id: str
    benchmark: str
    result: EventStudyResult
    ret: np.ndarray  # per firm_daily row: the ticker's return
    market_ret: np.ndarray  # per firm_daily row: the benchmark's return

    @classmethod
    def of(cls, event_id: str, benchmark: str, result: EventStudyResult, window: pd.DataFrame) -> _Run:
        daily = result.firm_daily
        rows = window.index.get_indexer(daily["session"])
        values = window.to_numpy()
        columns = window.columns.get_indexer(daily["firm"])
        return cls(event_id, benchmark, result, values[rows, columns],
                   values[rows, window.columns.get_loc(benchmark)])


def _assemble(runs: Sequence[_Run], settings: StudySettings, detail: bool = True) -> dict[str, pd.DataFrame]:
    """The stored frames of all engine calls, built once (not per event: pandas overhead dominates); without
    ``detail`` only the results (``daily`` and the cross-sections empty)."""
    tested = [run for run in runs if not run.result.firms.empty]
    exclusions = [(run.event_id, e.firm, run.benchmark, settings.model, e.reason, settings.returns_kind)
                  for run in runs for e in run.result.exclusions]
    notes = [(run.event_id, run.benchmark, note) for run in runs for note in run.result.notes]
    frames = {"exclusions": pd.DataFrame(exclusions, columns=EXCLUSION_COLUMNS),
              "notes": pd.DataFrame(notes, columns=NOTE_COLUMNS)}
    empty = {"daily": DAILY_COLUMNS, "results": RESULT_COLUMNS, "cross": CROSS_COLUMNS,
             "cross_daily": CROSS_DAILY_COLUMNS}
    if not tested:
        return frames | {name: pd.DataFrame(columns=columns) for name, columns in empty.items()}

    def keyed(part: str) -> pd.DataFrame:
        """``part`` of every tested run stacked, with event_id, benchmark, model, returns_kind and day0."""
        pieces = [getattr(run.result, part) for run in tested]
        lengths = [len(piece) for piece in pieces]
        out = pd.concat(pieces, ignore_index=True)
        out["event_id"] = np.repeat([run.event_id for run in tested], lengths)
        out["benchmark"] = np.repeat([run.benchmark for run in tested], lengths)
        out["day0"] = np.repeat([pd.Timestamp(run.result.day0) for run in tested], lengths)
        out["model"], out["returns_kind"] = settings.model, settings.returns_kind
        return out

    firms = keyed("firms").rename(columns={"firm": "ticker"})
    lengths = [len(run.result.firms) for run in tested]
    firms["estimation_start"] = np.repeat([pd.Timestamp(run.result.estimation_window[0]) for run in tested], lengths)
    firms["estimation_end"] = np.repeat([pd.Timestamp(run.result.estimation_window[1]) for run in tested], lengths)
    windows = keyed("windows")
    spans = windows[["event_id", "benchmark", "day0", "window", "window_start", "window_end", "start_day",
                     "end_day"]]
    results = (keyed("firm_windows").rename(columns={"firm": "ticker", "car_t_stars": "stars"})
               .merge(spans, on=["event_id", "benchmark", "day0", "window"])
               .merge(firms.drop(columns=["model", "returns_kind"]), on=["event_id", "benchmark", "day0", "ticker"]))
    if not detail:
        return frames | {name: pd.DataFrame(columns=columns) for name, columns in empty.items()} \
            | {"results": results[RESULT_COLUMNS]}
    daily = keyed("firm_daily").rename(columns={"firm": "ticker", "session": "date"})
    daily["ret"] = np.concatenate([run.ret for run in tested])
    daily["market_ret"] = np.concatenate([run.market_ret for run in tested])
    windows["tickers"] = [list(run.result.firms["firm"]) for run in tested for _ in range(len(run.result.windows))]
    cross_daily = keyed("daily").rename(columns={"session": "date"})
    return frames | {"daily": daily[DAILY_COLUMNS], "results": results[RESULT_COLUMNS],
                     "cross": windows[CROSS_COLUMNS], "cross_daily": cross_daily[CROSS_DAILY_COLUMNS]}
