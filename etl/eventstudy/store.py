"""Storing warehouse-mode results: one transaction per ``eventstudy run``.

The rows of every (event, ticker, benchmark, model, returns kind) that ran (computed or excluded) replace
that key's earlier rows in ``event_study_daily``, ``event_study_results`` and ``event_study_exclusions``;
the cross-sections of every (event, benchmark, model, returns kind) that ran replace theirs in
``event_study_cross`` and ``event_study_cross_daily``. A pair that failed (no prices, no benchmark) or was
skipped (day 0 outside the price history) keeps whatever an earlier run stored: neither deletes results.
``event_day0`` gets the day 0 of every pair, and ``event_study_overlaps`` is recomputed for the run's tickers
over every event in the warehouse. The run itself is a row of ``event_study_runs`` (skipped pairs counted in
``skipped`` and listed in ``message``); every stored row carries its ``run_id``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import duckdb
import pandas as pd

from etl.events.store import DAY0_COLUMNS
from etl.eventstudy.warehouse import StudyTables, event_overlaps
from etl.warehouse import WriteSession

RESULT_TABLES = {"daily": "event_study_daily", "results": "event_study_results",
                 "exclusions": "event_study_exclusions"}
CROSS_TABLES = {"cross": "event_study_cross", "cross_daily": "event_study_cross_daily"}


def store_study(session: WriteSession, tables: StudyTables, event_ids: Sequence[str],
                started_at: datetime) -> int:
    """Write ``tables`` as one run (see the module docstring); returns the run id."""
    settings = tables.settings
    status = tables.pairs
    ran = status.loc[status["status"].isin(["computed", "excluded"]), ["event_id", "ticker", "benchmark"]]
    ran = ran.drop_duplicates()
    failed = status[status["status"] == "failed"]
    skipped = status[status["status"] == "skipped"]
    keys = [settings.model, settings.returns_kind]
    with session.transaction() as con:
        run_id = con.execute("SELECT nextval('event_study_run_seq')").fetchall()[0][0]
        con.register("ran_pairs", ran)
        for name, table in RESULT_TABLES.items():
            con.execute(f"DELETE FROM {table} t USING ran_pairs p WHERE t.event_id = p.event_id AND "
                        "t.ticker = p.ticker AND t.benchmark = p.benchmark AND t.model = ? AND t.returns_kind = ?",
                        keys)
            _insert(con, table, getattr(tables, name), run_id)
        for name, table in CROSS_TABLES.items():
            con.execute(f"DELETE FROM {table} t USING (SELECT DISTINCT event_id, benchmark FROM ran_pairs) p "
                        "WHERE t.event_id = p.event_id AND t.benchmark = p.benchmark AND t.model = ? "
                        "AND t.returns_kind = ?", keys)
            _insert(con, table, getattr(tables, name), run_id)
        con.unregister("ran_pairs")
        _store_day0(con, tables.day0)
        _store_overlaps(con, tables, run_id)
        message = "\n".join([*(f"{r.event_id} / {r.ticker}: {r.reason}" for r in failed.itertuples()),
                             *(f"skipped {r.event_id} / {r.ticker}: {r.reason}" for r in skipped.itertuples())])
        con.execute(
            "INSERT INTO event_study_runs (run_id, started_at, finished_at, parameters, events, tickers, pairs, "
            "computed, excluded, failed, skipped, status, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [run_id, _naive(started_at), _naive(datetime.now(UTC)), json.dumps(settings.describe()),
             list(event_ids), sorted(set(status["ticker"])), len(status),
             int((status["status"] == "computed").sum()), int((status["status"] == "excluded").sum()),
             len(failed), len(skipped), "failed" if len(failed) else "ok", message or None])
    return run_id


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, run_id: int) -> None:
    if frame.empty:
        return
    con.register("study_rows", frame.assign(run_id=run_id))
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM study_rows")
    finally:
        con.unregister("study_rows")


def _store_day0(con: duckdb.DuckDBPyConnection, day0: pd.DataFrame) -> None:
    if day0.empty:
        return
    con.register("study_rows", day0[DAY0_COLUMNS])
    try:
        con.execute("DELETE FROM event_day0 d USING study_rows i WHERE d.event_id = i.event_id AND d.ticker = i.ticker")
        con.execute("INSERT INTO event_day0 BY NAME SELECT * FROM study_rows")
    finally:
        con.unregister("study_rows")


def _store_overlaps(con: duckdb.DuckDBPyConnection, tables: StudyTables, run_id: int) -> None:
    """Overlaps of the run's tickers, over every event with a day 0 for them (after this run's day 0s)."""
    tickers = sorted(set(tables.day0["ticker"]))
    day0 = con.execute(f"SELECT {', '.join(DAY0_COLUMNS)} FROM event_day0 WHERE ticker IN (SELECT unnest(?)) "
                       "ORDER BY day0, event_id", [tickers]).df()
    con.execute("DELETE FROM event_study_overlaps WHERE ticker IN (SELECT unnest(?))", [tickers])
    _insert(con, "event_study_overlaps", event_overlaps(day0, tables.settings), run_id)


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)
