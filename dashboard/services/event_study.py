"""Event studies on demand: the Event study page's study, its CAR paths with bands, and the media's figures next
to the close-to-close moves.

The study is :func:`etl.eventstudy.warehouse.compute_event_studies`, the same code as ``python -m etl
eventstudy run`` (day 0 by each ticker's listing calendar, returns from adjusted closes, every statistic of
docs/eventstudy.md), over the events and adjusted closes read in one snapshot; the page caches it per
warehouse version and choice.
"""

from __future__ import annotations

import math
from collections.abc import Collection

import numpy as np
import pandas as pd
from scipy import stats

from dashboard.queries.events import event_details
from dashboard.queries.market import adjusted_closes
from dashboard.queries.reader import Queryable, Reader
from dashboard.services.settings import StudyConfig
from etl.eventstudy.settings import StudySettings, parse_estimation, parse_windows
from etl.eventstudy.warehouse import StudyTables, compute_event_studies

BAND_LEVEL = 0.95
MEDIA_TOLERANCE = 0.0025
"""A media figure further than this (a quarter of a percentage point) from the close-to-close return is noted."""
PATH_COLUMNS = ["event_id", "ticker", "benchmark", "relative_day", "date", "ar", "car", "lower", "upper"]
STATISTIC_HELP = {
    "r_bar": "Mean pairwise correlation of the tickers' estimation-period abnormal returns; the Kolari-Pynnönen "
             "(KP) tests correct for it.",
    "bhar_mean": "Mean buy-and-hold abnormal return over the window.",
    "t_test": "Cross-sectional t: AAR over its cross-sectional standard error (Student t, N-1 df).",
    "brown_warner_1980": "Brown & Warner (1980): AAR over the tickers' estimation s.d., assuming independence.",
    "brown_warner_1985": "Brown & Warner (1985): AAR over the s.d. of the estimation-period mean AR (crude "
                         "dependence adjustment).",
    "patell": "Patell (1976) Z: sum of the standardized ARs over their expected s.d. (normal).",
    "bmp": "Boehmer, Musumeci & Poulsen (1991): cross-sectional t of the standardized ARs, robust to "
           "event-induced variance.",
    "sign": "Sign test: positive ARs against one half (normal).",
    "generalized_sign": "Cowan (1992): positive ARs against the estimation period's share of positives (normal).",
    "rank": "Corrado (1989): the day's mean rank of AR among each ticker's estimation and event days (normal).",
    "wilcoxon": "Wilcoxon signed-rank W of the day's ARs (exact p-value).",
    "lamb": "Lamb (1995): Brown & Warner (1985) with the forecast-error correction of the market model (normal).",
    "corrado_sign": "Corrado & Zivney (1992) sign test: signs of AR minus each ticker's median AR (normal).",
    "modified_rank": "Corrado & Zivney (1992) rank test on standardized ranks K / (1 + sessions) (normal).",
    "patell_kp": "Patell Z corrected for the cross-correlation r̄ of clustered events (Kolari & Pynnönen 2010).",
    "bmp_kp": "BMP t corrected for the cross-correlation r̄ of clustered events (Kolari & Pynnönen 2010).",
    "car_t_test": "Cross-sectional t of the CARs (Student t, N-1 df).",
    "car_brown_warner_1985": "Daily Brown & Warner (1985) statistics summed over the window / √L (normal).",
    "car_patell": "Patell Z of the standardized CARs (normal).",
    "car_bmp": "BMP t of the standardized CARs, robust to event-induced variance (Student t, N-1 df).",
    "car_rank": "Cowan (1992): mean Corrado rank over the window against its expected value (normal).",
    "car_lamb": "Daily Lamb statistics summed over the window / √L (normal).",
    "car_patell_kp": "Patell Z of the CARs corrected for the cross-correlation r̄ (Kolari & Pynnönen 2010).",
    "car_bmp_kp": "BMP t of the CARs corrected for the cross-correlation r̄ (Kolari & Pynnönen 2010).",
    "car_grank": "Kolari & Pynnönen (2011) GRANK-T: rank of the standardized CAR among the estimation days "
                 "(Student t, T-2 df).",
    "bhar_t": "Cross-sectional t of the buy-and-hold abnormal returns (Student t, N-1 df).",
    "bhar_skew_t": "Lyon, Barber & Tsai (1999) skewness-adjusted t of the mean BHAR (Student t, N-1 df).",
}
"""One line per statistic of the Event study page's tables, shown when hovering its header (docs/eventstudy.md
has the formulas)."""


def statistic_help(columns: Collection[str]) -> dict[str, str]:
    """Header tooltips of ``columns``: each statistic's line, and for its ``_p`` and ``_stars`` columns what they
    are of."""
    helps = {}
    for column in columns:
        name = column.removesuffix("_p").removesuffix("_stars")
        if name not in STATISTIC_HELP:
            continue
        if column.endswith("_p") and name != column:
            helps[column] = f"Two-sided p-value of {name}. {STATISTIC_HELP[name]}"
        elif column.endswith("_stars") and name != column:
            helps[column] = f"Significance of {name}: * 10 %, ** 5 %, *** 1 % (two-sided)."
        else:
            helps[column] = STATISTIC_HELP[name]
    return helps


def run_study(reader: Queryable, event_ids: tuple[str, ...], settings: StudySettings, *,
              detail: bool = True) -> StudyTables:
    """The event study of ``event_ids`` under ``settings``, from one snapshot's events and adjusted closes (of
    every ticker the study may use: the events' own or ``settings.tickers``, and the benchmarks); without
    ``detail`` only its results (see :func:`~etl.eventstudy.warehouse.compute_event_studies`)."""
    with reader.snapshot() as snapshot:
        events = event_details(snapshot, event_ids)
        firms = settings.tickers or [ticker for tickers in events["tickers"] for ticker in tickers]
        benchmarks = [settings.benchmark] if settings.benchmark else list(settings.benchmarks.values())
        prices = adjusted_closes(snapshot, tuple(sorted({str(t).upper() for t in (*firms, *benchmarks)})))
    return compute_event_studies(prices, events, settings, detail=detail)


def study(reader: Reader, event_ids: tuple[str, ...], tickers: tuple[str, ...] = (), benchmark: str = "",
          model: str = "", returns_kind: str = "", estimation: str = "", windows: str = "", *,
          config: StudyConfig) -> StudyTables:
    """The Event study page's study: the ``eventstudy.*`` settings of ``config``, overridden by every choice
    given (each event's own tickers unless ``tickers``; the benchmark of each ticker's calendar unless
    ``benchmark``). A malformed window raises ValueError with the reason."""
    settings = config.settings(model=model or None, returns_kind=returns_kind or None,
                               estimation=parse_estimation(estimation) if estimation else None,
                               windows=parse_windows(windows) if windows else None,
                               benchmark=benchmark or None, tickers=tickers or None)
    return run_study(reader, event_ids, settings)


def car_paths(tables: StudyTables) -> pd.DataFrame:
    """CAR per event, ticker and relative day over the path window, with a 95 % confidence band.

    The band is CAR ± 1.96·s_i·√k: s_i is the ticker's standard deviation of abnormal returns over its
    estimation sample and k the number of sessions with an AR cumulated so far (the path cumulates from its
    first day, day -10 by default). Columns: PATH_COLUMNS.
    """
    daily = tables.daily
    if daily.empty:
        return pd.DataFrame(columns=PATH_COLUMNS)
    s = tables.results.drop_duplicates(["event_id", "ticker"]).set_index(["event_id", "ticker"])["s"]
    frame = daily.sort_values(["event_id", "ticker", "relative_day"]).reset_index(drop=True)
    counted = frame["ar"].notna().groupby([frame["event_id"], frame["ticker"]]).cumsum()
    sd = frame.set_index(["event_id", "ticker"]).index.map(s.to_dict()).to_numpy(dtype=float)
    half = stats.norm.ppf(0.5 + BAND_LEVEL / 2) * sd * np.sqrt(counted.to_numpy(dtype=float))
    frame["lower"], frame["upper"] = frame["car"] - half, frame["car"] + half
    return frame[PATH_COLUMNS]


def media_comparison(events: pd.DataFrame, tables: StudyTables, synthetic: Collection[str] = ()) -> pd.DataFrame:
    """Each move the media reported (``events.reported_moves``) next to the close-to-close return of day 0.

    Columns: event_id, ticker, reported, close_to_close (day 0's return, simple), day0, differs (further apart
    than a quarter of a percentage point: the media figure is usually an intraday or after-hours move),
    synthetic. A ticker in ``synthetic`` (its prices made up by ``python -m etl demo``) is never set beside the
    real figure: its close_to_close is left empty and it never differs; the page says its prices are synthetic.
    """
    rows = []
    made_up = {ticker.upper() for ticker in synthetic}
    day0_returns = tables.daily[tables.daily["relative_day"] == 0].set_index(["event_id", "ticker"])
    for event in events.itertuples():
        for ticker, reported in dict(event.reported_moves or {}).items():
            if (event.event_id, ticker) not in day0_returns.index:
                continue
            day0 = day0_returns.loc[(event.event_id, ticker), "date"]
            if ticker.upper() in made_up:
                rows.append((event.event_id, ticker, float(reported), math.nan, day0, False, True))
                continue
            ret = float(day0_returns.loc[(event.event_id, ticker), "ret"])
            if tables.settings.returns_kind == "log":
                ret = math.expm1(ret)
            rows.append((event.event_id, ticker, float(reported), ret, day0,
                         abs(float(reported) - ret) > MEDIA_TOLERANCE, False))
    return pd.DataFrame(rows, columns=["event_id", "ticker", "reported", "close_to_close", "day0", "differs",
                                       "synthetic"])
