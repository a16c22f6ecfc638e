"""Events and our spend: each event's change in a provider's share of our spend, next to the CAR[-1,+1] of the
provider's stock.

A CAR is the one ``python -m etl eventstudy run`` stored (table ``event_study_results``, or its reason in
``event_study_exclusions``) or, for a pair the run has not covered, the same warehouse-mode study computed
here with the ``eventstudy.*`` settings (:class:`~dashboard.services.settings.StudyConfig`) against the
dashboard's benchmark. The conventions are in README "Dashboard".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.queries.events import event_shares, stored_cars
from dashboard.queries.reader import Queryable, Reader
from dashboard.services.event_study import run_study
from dashboard.services.settings import MODEL_LABELS, StudyConfig
from etl.eventstudy.windows import OffsetWindow

SHARE_WINDOWS = (30, 90)
CAR_WINDOW = OffsetWindow(-1, 1)
CAR_COLUMNS = ("car_m1_p1", "car_m1_p1_p", "car_m1_p1_stars")
"""CAR[-1,+1], the two-sided p-value of its time-series t test (CAR / (s·√L)) and its stars (* 10 %, ** 5 %,
*** 1 %)."""


def share_change_columns(windows: tuple[int, ...]) -> list[str]:
    """The columns of :func:`event_share_changes`, in order."""
    columns = ["date", "headline", "provider", "ticker", *[f"change_{n}d_pp" for n in windows], *CAR_COLUMNS]
    for n in windows:
        columns += [f"share_before_{n}d", f"share_after_{n}d", f"complete_{n}d"]
    return [*columns, "car_source", "car_note", "event_id"]


def event_share_changes(reader: Reader, currency: str, measure: str = "effective", max_age_days: int = 7,
                        tickers: tuple[tuple[str, str], ...] = (), benchmark: str = "SPY",
                        windows: tuple[int, ...] = SHARE_WINDOWS, *, study: StudyConfig) -> pd.DataFrame:
    """One row per event and provider: the provider's share of all our spend (reporting currency; amounts
    without a rate left out) in the N days before the event's UTC date and in the N days from it, for each N
    of ``windows``, next to the CAR[-1,+1] of the provider's ticker (``tickers``: (provider, ticker) pairs).

    Columns (:func:`share_change_columns`): date, headline, provider, ticker, change_<N>d_pp per N (percentage
    points), car_m1_p1 (fraction) with its p-value and stars (:data:`CAR_COLUMNS`), then per N
    share_before_<N>d, share_after_<N>d and complete_<N>d (both windows inside the loaded spend), car_source and
    car_note (see :func:`event_cars`) and event_id. One snapshot serves every read, so shares and CARs come from
    the same published file.
    """
    columns = share_change_columns(windows)
    with reader.snapshot() as snapshot:
        wide = event_shares(snapshot, currency, measure, max_age_days, tickers, windows)
        if wide.empty:
            return pd.DataFrame(columns=columns)
        wide["date"] = pd.to_datetime(wide["date"]).dt.date
        wide["ticker"] = wide["provider"].map(dict(tickers))
        pairs = sorted({(e, t) for e, t in zip(wide["event_id"], wide["ticker"], strict=True) if isinstance(t, str)})
        cars = event_cars(snapshot, tuple(pairs), benchmark, study=study)
    wide = wide.merge(cars, on=["event_id", "ticker"], how="left")
    return wide.sort_values(["date", "provider", "event_id"]).reset_index(drop=True).reindex(columns=columns)


def event_cars(reader: Queryable, pairs: tuple[tuple[str, str], ...], benchmark: str = "SPY", *,
               study: StudyConfig) -> pd.DataFrame:
    """CAR[-1,+1] of each (event_id, ticker): what ``eventstudy run`` stored for the pair (preferring
    ``benchmark``, then the configured model and returns; an exclusion counts only against ``benchmark``), else
    computed here (see :func:`_compute_cars`). Columns event_id, ticker, :data:`CAR_COLUMNS`, car_source
    (``event_study_results``, ``event_study_exclusions`` or ``computed``), car_note."""
    out = pd.DataFrame({"event_id": [p[0] for p in pairs], "ticker": [p[1] for p in pairs]}, dtype=object)
    out["car_m1_p1"], out["car_m1_p1_p"], out["car_m1_p1_stars"] = np.nan, np.nan, None
    out["car_source"], out["car_note"] = None, None
    if not pairs:
        return out
    with reader.snapshot() as snapshot:
        rows = stored_cars(snapshot, tuple(sorted({e for e, _ in pairs})), str(CAR_WINDOW), benchmark, study.model,
                           study.returns_kind)
        found = {(r.event_id, r.ticker): (r.car, r.car_t_p, r.stars, r.note, r.source)
                 for r in rows.itertuples(index=False)}
        todo = [p for p in pairs if p not in found]
        computed = _compute_cars(snapshot, todo, benchmark, study) if todo else {}
    values = [found[p] if p in found else (*computed[p], "computed") for p in pairs]
    out["car_m1_p1"] = [float(v[0]) for v in values]
    out["car_m1_p1_p"] = [float(v[1]) for v in values]
    out["car_m1_p1_stars"] = [v[2] for v in values]
    out["car_note"] = [v[3] for v in values]
    out["car_source"] = [v[4] for v in values]
    return out


def _compute_cars(snapshot: Queryable, pairs: list[tuple[str, str]], benchmark: str, study: StudyConfig
                  ) -> dict[tuple[str, str], tuple[float, float, str | None, str]]:
    """CAR[-1,+1] of pairs that ``eventstudy run`` has not stored, from the same warehouse-mode event study (day
    0 by the listing calendar; model, returns, estimation window and minimum sessions of the ``eventstudy.*``
    settings) against ``benchmark``: (CAR, its p-value, stars, note). A pair that cannot run gets NaN and the
    reason."""
    settings = study.settings(windows=(CAR_WINDOW,), benchmark=benchmark,
                              tickers=tuple(sorted({ticker for _, ticker in pairs})))
    tables = run_study(snapshot, tuple(sorted({event for event, _ in pairs})), settings, detail=False)
    model = MODEL_LABELS[settings.model]
    cars = {(r.event_id, r.ticker): (float(r.car), float(r.car_t_p), r.stars,
                                     f"{model} vs {r.benchmark}, day 0 {pd.Timestamp(r.day0).date()}")
            for r in tables.results.itertuples()}
    reasons = {(p.event_id, p.ticker): p.reason for p in tables.pairs.itertuples()}
    return {pair: cars.get(pair) or (np.nan, np.nan, None, reasons.get(pair) or "not computed") for pair in pairs}
