"""Events: the catalog, the chosen events' facts, markers per provider, shares of our spend around each event,
and the CARs ``python -m etl eventstudy run`` stored.

An event belongs to the providers it names and to those whose ticker it names (the ``tickers`` parameter:
(provider, ticker) pairs of the ``providers.tickers`` setting). Its date is the UTC date of ``announced_at``.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from dashboard.queries.reader import Queryable, Reader
from dashboard.queries.spend import MEASURES
from etl.events.store import read_events


def event_list(reader: Reader) -> pd.DataFrame:
    """Every event, newest first: event_id, date (UTC date of the announcement), headline, tickers, providers,
    origin."""
    return reader.frame(
        """
        SELECT event_id, announced_at::DATE AS date, headline, tickers, providers, origin
        FROM events ORDER BY announced_at DESC, event_id
        """
    )


def event_details(reader: Queryable, event_ids: tuple[str, ...]) -> pd.DataFrame:
    """The chosen events as :func:`etl.events.store.read_events` gives them (announcement, precision, market
    time, tickers, sources, notes, reported moves), in the order asked."""
    return reader.using(lambda con: read_events(con, list(event_ids)))


def _event_providers_sql() -> str:
    """(event_id, announced_at, headline, provider): each event once per provider, named in ``providers`` or
    through one of its ``tickers`` (the $map_* lists: the providers.tickers setting)."""
    return """
        SELECT e.event_id, e.announced_at, e.headline, p.provider
        FROM events e, unnest(e.providers) AS p(provider)
        UNION
        SELECT e.event_id, e.announced_at, e.headline, m.provider
        FROM events e, unnest(e.tickers) AS t(ticker)
        JOIN (SELECT unnest($map_providers::VARCHAR[]) AS provider, unnest($map_tickers::VARCHAR[]) AS ticker) m
          ON m.ticker = t.ticker
    """


def _mapping_params(tickers: tuple[tuple[str, str], ...]) -> dict:
    return {"map_providers": [p for p, _ in tickers], "map_tickers": [t for _, t in tickers]}


def event_markers(reader: Reader, start: date, end: date, tickers: tuple[tuple[str, str], ...] = ()) -> pd.DataFrame:
    """Events announced from ``start`` to ``end`` (UTC dates), one row per event and provider: columns event_id,
    date, announced_at, provider, headline, source_url (the first)."""
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


def event_shares(reader: Queryable, currency: str, measure: str, max_age_days: int,
                 tickers: tuple[tuple[str, str], ...], windows: tuple[int, ...]) -> pd.DataFrame:
    """One row per event and provider: the provider's share of all our spend (``currency``; amounts without a
    rate left out) in the N days before the event's date and in the N days from it, for each N of ``windows``.

    Columns event_id, date, headline, provider, then per N: share_before_<N>d, share_after_<N>d (fractions; NULL
    without spend in the window), change_<N>d_pp (percentage points) and complete_<N>d (the loaded spend covers
    both windows).

    Shaped for the page's budget (README "Dashboard", Performance): the rollup is summed per day, provider and
    billing currency first, so each sum is converted once (``ss_fx_amount`` over ``fx_rates_into``, the one rate
    lookup) instead of every rollup row: 3,655 conversions instead of 41,667 at 10 million cost rows; the
    totals differ from converting row by row only by the rounding of the 12th decimal.
    """
    column = MEASURES[measure]  # from the allow-list, never from user text
    per_window = ",\n".join(  # integers from the caller's tuple, never user text
        f"""any_value(share_before) FILTER (days = {n}) AS share_before_{n}d,
            any_value(share_after) FILTER (days = {n}) AS share_after_{n}d,
            any_value((share_after - share_before) * 100) FILTER (days = {n}) AS change_{n}d_pp,
            any_value(complete) FILTER (days = {n}) AS complete_{n}d""" for n in map(int, windows))
    return reader.frame(
        f"""
        WITH native AS (
            SELECT date, currency, provider, sum({column}) AS amount FROM daily_spend GROUP BY ALL
        ),
        daily AS (
            SELECT n.date, n.provider, sum(ss_fx_amount(n.amount, r.fx_rate)) AS amount
            FROM native n JOIN fx_rates_into($cur, max_age_days := $age) r USING (date, currency)
            WHERE NOT r.fx_missing GROUP BY ALL
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
        ),
        shares AS (
            SELECT s.event_id, s.day, s.provider, s.days,
                   (coalesce(s.provider_before, 0) / nullif(s.total_before, 0))::DOUBLE AS share_before,
                   (coalesce(s.provider_after, 0) / nullif(s.total_after, 0))::DOUBLE AS share_after,
                   (s.day - s.days >= b.first_day AND s.day + s.days - 1 <= b.last_day) AS complete
            FROM sums s CROSS JOIN bounds b
        )
        SELECT s.event_id, s.day AS date, e.headline, s.provider, {per_window}
        FROM shares s JOIN events e USING (event_id)
        GROUP BY s.event_id, s.day, e.headline, s.provider
        ORDER BY s.day, s.provider, s.event_id
        """,
        {"cur": currency.upper(), "age": max_age_days, "windows": list(windows)} | _mapping_params(tickers),
    )


def stored_cars(reader: Queryable, event_ids: tuple[str, ...], window: str, benchmark: str, model: str,
                returns_kind: str) -> pd.DataFrame:
    """The CAR over ``window`` (e.g. ``[-1,+1]``) that ``eventstudy run`` stored for each (event, ticker) of
    ``event_ids``: its row in ``event_study_results``, or its row against ``benchmark`` in
    ``event_study_exclusions`` (car NULL, the engine's reason in the note; an exclusion against another
    benchmark may be that benchmark's own doing). Where several runs stored a pair, the one against
    ``benchmark`` wins, then ``model``, then ``returns_kind``, then a result over an exclusion.

    Columns event_id, ticker, car, car_t_p (two-sided p-value of the time-series t test), stars (of car_t_p),
    note, source (``event_study_results`` or ``event_study_exclusions``).
    """
    return reader.frame(
        """
        SELECT event_id, ticker, car, car_t_p, stars, note, source
        FROM (
            SELECT event_id, ticker, benchmark, model, returns_kind, car, car_t_p, stars,
                   'event_study_results' AS source,
                   format('{} model, {} returns, vs {}', model, returns_kind, benchmark) AS note
            FROM event_study_results WHERE "window" = $window
            UNION ALL
            SELECT event_id, ticker, benchmark, model, returns_kind, NULL::DOUBLE, NULL::DOUBLE, NULL,
                   'event_study_exclusions',
                   format('excluded ({} model, {} returns, vs {}): {}', model, returns_kind, benchmark, reason)
            FROM event_study_exclusions WHERE benchmark = $bench
        )
        WHERE list_contains($events::VARCHAR[], event_id)
        QUALIFY row_number() OVER (PARTITION BY event_id, ticker
                                   ORDER BY benchmark = $bench DESC, model = $model DESC,
                                            returns_kind = $returns DESC, source = 'event_study_results' DESC,
                                            benchmark, model) = 1
        """,
        {"events": list(event_ids), "window": window, "bench": benchmark, "model": model, "returns": returns_kind},
    )
