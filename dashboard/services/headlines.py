"""Each page's headline: its answer in one sentence, written from the data the page shows.

A page reserves the place under its title and fills it once its data is loaded, so the sentence follows the
page's filters and choices. Amounts are written as the page's figures are (:mod:`dashboard.formats`), shares
and CARs as percentages, p-values to three decimals as in the tables. Missing data is said, never filled in.
No Streamlit and no SQL here: the inputs are the frames and facts the page already loaded.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

import pandas as pd

from dashboard.formats import money
from dashboard.queries.meta import WarehouseSummary
from dashboard.queries.spend import Kpis
from etl.eventstudy.warehouse import StudyTables

HEADLINE_EVENT = "openai-google-cloud-2025"
"""The event the Spend vs market headline prefers when it names the chosen provider: OpenAI adding Google Cloud."""
HEADLINE_DAYS = 90
MAIN_WINDOW = "[-1,+1]"
"""The Event study headline's window when the study has it (else the study's first window)."""


def _day(value: object) -> str:
    return f"{pd.Timestamp(value):%Y-%m-%d}"  # type: ignore[arg-type]


def _quoted(headline: object) -> str:
    """An event's headline in quotes, its ``$`` escaped so that Markdown does not read "$38B ... $2B" as math."""
    return f"“{str(headline).replace('$', chr(92) + '$')}”"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _significance(p: object, stars: object) -> str:
    """``(p = 0.042 **)``, or ``(no p-value)`` when the test could not run."""
    if p is None or pd.isna(p):  # type: ignore[arg-type]
        return "(no p-value)"
    marks = f" {stars}" if isinstance(stars, str) and stars else ""
    return f"(p = {float(p):.3f}{marks})"  # type: ignore[arg-type]


def _on_synthetic(ticker: str, synthetic: Collection[str]) -> str:
    return " on synthetic demo prices" if ticker.upper() in {t.upper() for t in synthetic} else ""


def overview(kpis: Kpis, providers: int, start: date, end: date, currency: str, measure_label: str) -> str:
    """Overview: the range's total (as the *Exact* caption writes it), across how many providers, and the
    largest one's share (as its KPI tile writes it)."""
    scope = f"From {start:%Y-%m-%d} to {end:%Y-%m-%d}"
    if not providers or not kpis.total:
        return f"{scope}, no {measure_label.lower()} in {currency} matches these filters."
    sentence = (f"{scope}, our {measure_label.lower()} was **{money(kpis.total, currency)}** across "
                f"{_count(providers, 'provider')}")
    share = kpis.top_provider_share
    if providers == 1:
        return f"{sentence}: {kpis.top_provider}."
    return f"{sentence}; {kpis.top_provider} was the largest at **{share:.1%}**."


def headline_event(changes: pd.DataFrame, provider: str) -> pd.Series | None:
    """The row of ``changes`` (:func:`dashboard.services.event_spend.event_share_changes`) the Spend vs market
    headline is about: :data:`HEADLINE_EVENT` when it names ``provider``, else the newest event naming it."""
    mine = changes[changes["provider"] == provider]
    if mine.empty:
        return None
    preferred = mine[mine["event_id"] == HEADLINE_EVENT]
    return (preferred if not preferred.empty else mine.sort_values(["date", "event_id"])).iloc[-1]


def spend_vs_market(changes: pd.DataFrame, provider: str, measure_label: str, synthetic: Collection[str] = (),
                    days: int = HEADLINE_DAYS) -> str:
    """Spend vs market: the provider's share of our spend in the ``days`` before and from its headline event
    (:func:`headline_event`), and the CAR[-1,+1] of its ticker with the p-value and stars, on synthetic prices
    said so."""
    row = headline_event(changes, provider)
    if row is None:
        return f"No event of the catalog names {provider}, so there is no move of its share or stock to report."
    event = f"{_quoted(row['headline'])} ({_day(row['date'])})"
    before, after = row[f"share_before_{days}d"], row[f"share_after_{days}d"]
    if pd.isna(before) or pd.isna(after):
        share = f"We have no spend in the {days} days before or from {event} to compare {provider}'s share"
    else:
        share = (f"{provider}'s share of our {measure_label.lower()} went from **{before:.1%}** in the {days} days "
                 f"before {event} to **{after:.1%}** in the {days} days from it")
        if not row[f"complete_{days}d"]:
            share += f" (the loaded spend does not cover both {days}-day windows)"
    ticker = row["ticker"]
    if not isinstance(ticker, str):
        return f"{share}; {provider} has no ticker (setting `providers.tickers`), so no CAR."
    if pd.isna(row["car_m1_p1"]):
        return f"{share}; there is no CAR[-1,+1] for {ticker}: {row['car_note']}."
    return (f"{share}; {ticker}'s CAR[-1,+1]{_on_synthetic(ticker, synthetic)} was **{row['car_m1_p1']:+.2%}** "
            f"{_significance(row['car_m1_p1_p'], row['car_m1_p1_stars'])}.")


def event_study(events: pd.DataFrame, tables: StudyTables, synthetic: Collection[str] = ()) -> str:
    """Event study: the first chosen event's CAR over the main window (:data:`MAIN_WINDOW` when studied) for
    each of its tickers with p-value and stars, and why a ticker has none; synthetic prices said so."""
    event = events.iloc[0]
    name = f"{_quoted(event['headline'])} ({_day(event['announced_at'])})"
    windows = [str(w) for w in tables.settings.windows]
    window = MAIN_WINDOW if MAIN_WINDOW in windows else windows[0]
    results = tables.results[(tables.results["event_id"] == event["event_id"]) & (tables.results["window"] == window)]
    parts = [f"**{r.car:+.2%}** for {r.ticker} against {r.benchmark} {_significance(r.car_t_p, r.stars)}"
             for r in results.itertuples()]
    made_up = [t for t in results["ticker"] if _on_synthetic(t, synthetic)]
    pairs = tables.pairs[(tables.pairs["event_id"] == event["event_id"]) & (tables.pairs["status"] != "computed")]
    missing = [f"{p.ticker} has none ({p.reason})" for p in pairs.itertuples()]
    if not parts:
        return f"No ticker of {name} could be studied: " + "; ".join(missing or ["no ticker has prices"]) + "."
    sentence = f"Around {name}, CAR{window} was " + _and(parts)
    if made_up:
        sentence += f", on synthetic demo prices of {_and(made_up)}"
    return sentence + (f"; {_and(missing)}." if missing else ".")


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def data_health(feeds: pd.DataFrame, open_failures: int, price_feeds: pd.DataFrame, fx_feeds: pd.DataFrame) -> str:
    """Data health: fresh billing feeds (provider and billing account) out of all and how far their data goes,
    open failures, and the latest prices and FX rates with how many are fresh."""
    accounts = feeds.drop_duplicates(["provider", "account"])
    if accounts.empty:
        parts = ["No billing feed is loaded yet"]
    else:
        parts = [f"**{int((~accounts['stale']).sum())} of {_count(len(accounts), 'billing feed')}** "
                 f"{'is' if int((~accounts['stale']).sum()) == 1 else 'are'} fresh (billing data until "
                 f"{_day(accounts['data_until'].max())})"]
    parts.append(f"**{_count(open_failures, 'open failure')}**")
    for frame, latest, what, noun in ((price_feeds, "last_session", "prices", "ticker"),
                                      (fx_feeds, "last_date", "FX rates", "pair")):
        if frame.empty:
            parts.append(f"no {what}")
        else:
            fresh = int((~frame["stale"]).sum())
            parts.append(f"{what} up to {_day(frame[latest].max())} ({fresh} of {_count(len(frame), noun)} fresh)")
    return "; ".join(parts) + "."


def sql(facts: WarehouseSummary, relations: int) -> str:
    """SQL: what the warehouse holds (cost rows, providers, period, tickers, events) and how many documented
    relations the page lists."""
    listed = f"{_count(relations, 'documented relation')} {'is' if relations == 1 else 'are'} listed beside the console"
    if facts.empty:
        return f"The warehouse holds no billing data yet; {listed}."
    assert facts.first_day is not None and facts.last_day is not None  # not empty: daily_spend has days
    return (f"The warehouse holds **{_count(facts.cost_rows, 'cost row')}** of "
            f"{_count(len(facts.providers), 'provider')} from {facts.first_day:%Y-%m-%d} to "
            f"{facts.last_day:%Y-%m-%d}, prices of {_count(facts.tickers, 'ticker')} and "
            f"{_count(facts.events, 'event')}; {listed}.")

