"""The test battery of one prepared event: every daily statistic per event-period session and every CAR statistic
per event window (``statistics.py`` holds the formulas; docs/eventstudy.md the references)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from etl.eventstudy import statistics as st
from etl.eventstudy.models import ReturnKind
from etl.eventstudy.windows import EventLayout, WindowSpec


@dataclass(frozen=True)
class PreparedEvent:
    """Arrays of one event restricted to the included firms; rows are the sessions of the span."""

    labels: pd.Index
    rel_day: np.ndarray
    firms: list[str]
    r: np.ndarray
    expected: np.ndarray
    ar: np.ndarray
    sar: np.ndarray
    sample: np.ndarray
    t_obs: np.ndarray
    s: np.ndarray
    kind: ReturnKind
    market_term: np.ndarray
    """(R_mt - mean R_m)^2 / SS_m per session and firm (zero for the models without a market fit)."""


def _stat_columns(tests: dict[str, st.Tested]) -> dict[str, np.ndarray]:
    """Statistic, ``_p`` and ``_stars`` columns, grouped in that order."""
    cols = {name: np.asarray(stat, dtype=float) for name, (stat, _) in tests.items()}
    cols |= {f"{name}_p": np.asarray(p, dtype=float) for name, (_, p) in tests.items()}
    cols |= {f"{name}_stars": st.stars(p) for name, (_, p) in tests.items()}
    return cols


def ar_in_f(ev: PreparedEvent, event_rows: np.ndarray) -> np.ndarray:
    """AR on F_i = E_i plus the event-period sessions where AR_it exists; NaN elsewhere (rank and sign tests)."""
    in_f = ev.sample.copy()
    in_f[event_rows] |= ~np.isnan(ev.ar[event_rows])
    return np.where(in_f, ev.ar, np.nan)


def daily_tests(
    ev: PreparedEvent, event_rows: np.ndarray, ar_f: np.ndarray, ranks: np.ndarray, mean_t: float, r_bar: float
) -> pd.DataFrame:
    """One row per event-period session: n, AAR, r̄ and every daily test with its p-value and stars."""
    ar, sar = ev.ar[event_rows], ev.sar[event_rows]
    est_ar = np.where(ev.sample, ev.ar, np.nan)
    p_hat = float(np.sum(est_ar > 0) / ev.sample.sum()) if ev.firms else float("nan")
    sd_abar = st.brown_warner_1985_sd(est_ar)
    tests = {
        "t_test": st.t_test(ar),
        "brown_warner_1980": st.brown_warner_1980(ar, ev.s, mean_t),
        "brown_warner_1985": st.brown_warner_1985(ar, sd_abar, mean_t),
        "patell": st.patell(sar, ev.t_obs),
        "bmp": st.bmp(sar),
        "sign": st.sign_test(ar),
        "generalized_sign": st.generalized_sign_test(ar, p_hat),
        "rank": st.corrado_rank_test(ranks, event_rows),
        "wilcoxon": st.wilcoxon_test(ar),
        "lamb": st.lamb(ar, sd_abar, mean_t, ev.market_term[event_rows]),
        "corrado_sign": st.corrado_sign_test(ar_f, event_rows),
        "modified_rank": st.modified_rank_test(ranks, event_rows),
        "patell_kp": st.patell_kolari_pynnonen(sar, ev.t_obs, r_bar),
        "bmp_kp": st.bmp_kolari_pynnonen(sar, r_bar),
    }
    head = {
        "session": ev.labels[event_rows],
        "relative_day": ev.rel_day[event_rows],
        "n": st.present_count(ar),
        "aar": st.row_mean(ar),
        "r_bar": np.full(len(event_rows), r_bar),
    }
    return pd.DataFrame(head | _stat_columns(tests))


def _gross(values: np.ndarray, kind: ReturnKind) -> np.ndarray:
    """1 + simple return; log returns are converted with exp(r) - 1 first (for BHAR only)."""
    return np.exp(values) if kind == "log" else 1.0 + values


def _window(
    ev: PreparedEvent,
    rows: np.ndarray,
    daily: dict[str, np.ndarray],
    ranks: np.ndarray,
    estimation_sar: np.ndarray,
    r_bar: float,
) -> tuple[dict[str, object], dict[str, np.ndarray]]:
    """CAR and BHAR statistics of one window (``daily``: the window's values of the daily BW1985 and Lamb tests;
    ``estimation_sar``: the SARs of the estimation rows, NaN outside E_i) and the per-firm CAR/BHAR columns (firms
    with an AR in it)."""
    ar, sar = ev.ar[rows], ev.sar[rows]
    present = ~np.isnan(ar)
    days_i = present.sum(axis=0)
    has = days_i > 0
    length = len(rows)
    with np.errstate(invalid="ignore", divide="ignore"):
        car = np.where(has, np.nansum(ar, axis=0), np.nan)
        scar = np.where(has, np.nansum(sar, axis=0) / np.sqrt(days_i), np.nan)
        bhar = np.where(
            has,
            np.prod(np.where(present, _gross(ev.r[rows], ev.kind), 1.0), axis=0)
            - np.prod(np.where(present, _gross(ev.expected[rows], ev.kind), 1.0), axis=0),
            np.nan,
        )
        car_t = car / (ev.s * np.sqrt(days_i))
    car_t_p = st.p_student(car_t, ev.t_obs - 1.0)
    tests = {
        "car_t_test": st.car_t_test(car[has]),
        "car_brown_warner_1985": st.cumulated_daily(daily["brown_warner_1985"], length),
        "car_patell": st.car_patell(scar[has], ev.t_obs[has]),
        "car_bmp": st.car_bmp(scar[has]),
        "car_rank": st.car_rank_test(ranks, rows, length),
        "car_lamb": st.cumulated_daily(daily["lamb"], length),
        "car_patell_kp": st.car_patell_kolari_pynnonen(scar[has], ev.t_obs[has], r_bar),
        "car_bmp_kp": st.car_bmp_kolari_pynnonen(scar[has], r_bar),
        "car_grank": st.car_grank(estimation_sar[:, has], scar[has]),
        "bhar_t": st.bhar_t(bhar[has]),
        "bhar_skew_t": st.bhar_skew_t(bhar[has]),
    }
    caar = float(car[has].mean()) if has.any() else float("nan")
    summary: dict[str, object] = {
        "n": int(has.sum()),
        "days": length,
        "caar": caar,
        "mean_daily_aar": caar / length,
        "bhar_mean": float(bhar[has].mean()) if has.any() else float("nan"),
        "r_bar": r_bar,
    }
    summary |= {k: v.item() if isinstance(v, np.ndarray) else v for k, v in _stat_columns(tests).items()}
    firms = {
        "firm": np.array(ev.firms, dtype=object),
        "days": days_i,
        "car": car,
        "bhar": bhar,
        "scar": scar,
        "car_t": car_t,
        "car_t_p": car_t_p,
        "car_t_stars": st.stars(car_t_p),
    }
    return summary, {name: values[has] for name, values in firms.items()}


def window_tests(
    ev: PreparedEvent,
    layout: EventLayout,
    specs: tuple[WindowSpec, ...],
    lo: int,
    daily: pd.DataFrame,
    ranks: np.ndarray,
    r_bar: float,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per event window with the CAR and BHAR tests, and the per-firm CAR/BHAR rows of every window."""
    summaries, firm_parts = [], []
    cumulated = {name: daily[name].to_numpy() for name in ("brown_warner_1985", "lamb")}
    estimation = ev.sample.any(axis=1)
    estimation_sar = np.where(ev.sample, ev.sar, np.nan)[estimation]
    for spec, (first, last) in zip(specs, layout.windows, strict=True):
        rows = np.arange(first - lo, last - lo + 1)
        in_daily = rows - (layout.event_period[0] - lo)
        summary, firms = _window(ev, rows, {name: values[in_daily] for name, values in cumulated.items()}, ranks,
                                 estimation_sar, r_bar)
        head = {
            "window": str(spec),
            "window_start": ev.labels[rows[0]],
            "window_end": ev.labels[rows[-1]],
            "start_day": int(ev.rel_day[rows[0]]),
            "end_day": int(ev.rel_day[rows[-1]]),
        }
        summaries.append(head | summary)
        firm_parts.append({"window": np.full(len(firms["firm"]), str(spec), dtype=object)} | firms)
    columns = {name: np.concatenate([part[name] for part in firm_parts]) for name in firm_parts[0]}
    return pd.DataFrame(summaries), pd.DataFrame(columns)
