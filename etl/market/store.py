"""Writing one market load (a ticker's prices, an FX pair's rates) in one transaction with its ``load_log`` row."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import duckdb
import pandas as pd

from etl import loadlog
from etl.demo import isolation
from etl.loadlog import LoadRecord
from etl.warehouse import WriteSession

log = logging.getLogger(__name__)


@contextlib.contextmanager
def recorded_load(session: WriteSession, record: LoadRecord, name: str,
                  frame: pd.DataFrame) -> Iterator[duckdb.DuckDBPyConnection]:
    """One load in one transaction: the block writes the rows of ``frame`` (registered as ``name`` for the block's
    SQL), stamped with ``record.load_id`` (assigned here), and sets ``record.rows`` and ``record.message``; the
    status and the ``load_log`` row follow in the same transaction, so either all of it commits or none of it does.
    A real load also removes the demo's synthetic rows of its kind in that transaction."""
    con = session.con
    con.register(name, frame)
    try:
        with session.transaction():
            record.load_id = loadlog.next_load_id(con)
            yield con
            removed = None if record.synthetic else isolation.remove_synthetic(con, record.kind)
            if removed:
                record.message = "; ".join(filter(None, [record.message, removed]))
            record.status = "loaded" if record.rows else "unchanged"
            loadlog.write(con, record)
    finally:
        con.unregister(name)
    log.info("%s %s: %s", record.status, record.source, record.message)
