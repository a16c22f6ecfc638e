"""Event studies for the dashboard: the events, and a study of chosen events computed on demand.

The study is :func:`etl.eventstudy.warehouse.compute_event_studies`, the same code as ``python -m etl
eventstudy run`` (day 0 by each ticker's listing calendar, returns from adjusted closes, every statistic of
docs/eventstudy.md), over a read-only snapshot; the page caches it per warehouse version and choice.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from dashboard.queries.reader import Reader
from etl.events.store import read_events
from etl.eventstudy.settings import StudySettings, parse_estimation, parse_windows
from etl.eventstudy.warehouse import StudyTables, compute_event_studies

BAND_LEVEL = 0.95
MEDIA_TOLERANCE = 0.0025
"""A media figure further than this (a quarter of a percentage point) from the close-to-close return is noted."""


def event_list(reader: Reader) -> pd.DataFrame:
    """Every event, newest first: event_id, date (UTC date of the announcement), headline, tickers, providers,
    origin. Empty on a warehouse without the events table."""
    if not reader.has_relation("events"):
        return pd.DataFrame(columns=["event_id", "date", "headline", "tickers", "providers", "origin"])
    return reader.frame(
        """
        SELECT event_id, announced_at::DATE AS date, headline, tickers, providers, origin
        FROM events ORDER BY announced_at DESC, event_id
        """
    )


def event_details(reader: Reader, event_ids: tuple[str, ...]) -> pd.DataFrame:
    """The chosen events as :func:`etl.events.store.read_events` gives them (announcement, precision, market
    time, sources, notes, reported moves), in the order asked."""
    return reader.using(lambda con: read_events(con, list(event_ids)))


def study(reader: Reader, event_ids: tuple[str, ...], tickers: tuple[str, ...] = (), benchmark: str = "",
          model: str = "market", returns_kind: str = "simple", estimation: str = "-250:-11",
          windows: str = "0:0,-1:1,0:1,-5:5", min_obs: int = 60) -> StudyTables:
    """The event study of ``event_ids`` (each event's own tickers unless ``tickers`` is given; the benchmark of
    each ticker's calendar unless ``benchmark`` is given). A malformed window raises ValueError with the reason."""
    settings = StudySettings(model=model, returns_kind=returns_kind, estimation=parse_estimation(estimation),
                             windows=parse_windows(windows), min_obs=min_obs, benchmark=benchmark or None,
                             tickers=tickers or None)
    return reader.using(lambda con: compute_event_studies(con, read_events(con, list(event_ids)), settings))


def car_paths(tables: StudyTables) -> pd.DataFrame:
    """CAR per event, ticker and relative day over the path window, with a 95 % confidence band.

    The band is CAR ± 1.96·s_i·√k: s_i is the ticker's standard deviation of abnormal returns over its
    estimation sample and k the number of sessions with an AR cumulated so far (the path cumulates from its
    first day, day -10 by default). Columns: event_id, ticker, benchmark, relative_day, date, ar, car, lower,
    upper.
    """
    daily = tables.daily
    if daily.empty:
        return pd.DataFrame(columns=["event_id", "ticker", "benchmark", "relative_day", "date", "ar", "car",
                                     "lower", "upper"])
    s = tables.results.drop_duplicates(["event_id", "ticker"]).set_index(["event_id", "ticker"])["s"]
    frame = daily.sort_values(["event_id", "ticker", "relative_day"]).reset_index(drop=True)
    counted = frame["ar"].notna().groupby([frame["event_id"], frame["ticker"]]).cumsum()
    sd = frame.set_index(["event_id", "ticker"]).index.map(s.to_dict()).to_numpy(dtype=float)
    half = stats.norm.ppf(0.5 + BAND_LEVEL / 2) * sd * np.sqrt(counted.to_numpy(dtype=float))
    frame["lower"], frame["upper"] = frame["car"] - half, frame["car"] + half
    return frame[["event_id", "ticker", "benchmark", "relative_day", "date", "ar", "car", "lower", "upper"]]


def media_comparison(events: pd.DataFrame, tables: StudyTables) -> pd.DataFrame:
    """Each move the media reported (``events.reported_moves``) next to the close-to-close return of day 0.

    Columns: event_id, ticker, reported, close_to_close (day 0's return, simple), day0, differs (further apart
    than a quarter of a percentage point: the media figure is usually an intraday or after-hours move).
    """
    rows = []
    day0_returns = tables.daily[tables.daily["relative_day"] == 0].set_index(["event_id", "ticker"])
    for event in events.itertuples():
        for ticker, reported in dict(event.reported_moves or {}).items():
            if (event.event_id, ticker) not in day0_returns.index:
                continue
            ret = float(day0_returns.loc[(event.event_id, ticker), "ret"])
            if tables.settings.returns_kind == "log":
                ret = math.expm1(ret)
            rows.append((event.event_id, ticker, float(reported), ret,
                         day0_returns.loc[(event.event_id, ticker), "date"],
                         abs(float(reported) - ret) > MEDIA_TOLERANCE))
    return pd.DataFrame(rows, columns=["event_id", "ticker", "reported", "close_to_close", "day0", "differs"])
