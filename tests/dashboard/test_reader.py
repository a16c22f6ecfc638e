"""The dashboard's read path: one held read-only connection per published file identity, a cursor per query."""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from dashboard.queries.reader import QueryError, Reader
from etl.warehouse import Warehouse, WarehouseMissingError

PUBLISHED_LATER = "SELECT count(*) FROM information_schema.tables WHERE table_name = 'published_later'"


def publish(db: Path, table: str = "published_later") -> None:
    with Warehouse(db).write("a publish while the dashboard reads") as session:  # not blocked by the reader
        session.con.execute(f"CREATE TABLE {table} AS SELECT 1 AS x")


def open_files(db: Path) -> list[str]:
    """What this process holds open of the warehouse: its path, or the path marked ``(deleted)`` for a file that a
    publish replaced."""
    targets = [os.readlink(fd) for fd in Path("/proc/self/fd").iterdir() if fd.is_symlink()]
    return sorted(t for t in targets if t.startswith(str(db)) and not t.startswith(str(db) + "."))


def test_a_snapshot_keeps_its_file_while_the_etl_publishes_a_new_one(spend_db):
    reader = Reader(spend_db)
    with reader.snapshot() as snapshot:
        loads = snapshot.row("SELECT count(*) FROM load_log")[0]
        publish(spend_db)
        assert snapshot.row(PUBLISHED_LATER) == (0,)
        assert snapshot.row("SELECT count(*) FROM load_log")[0] == loads
        assert reader.row(PUBLISHED_LATER) == (1,)  # a new query opens the new file...
        assert snapshot.row(PUBLISHED_LATER) == (0,)  # ...and the snapshot still reads the one it started on
        assert open_files(spend_db) == [f"{spend_db}", f"{spend_db} (deleted)"]
    assert open_files(spend_db) == [f"{spend_db}"]  # the old file's connection closed with its last query


def test_one_connection_is_held_per_published_file_and_reopened_after_a_publish(spend_db, caplog):
    reader = Reader(spend_db)
    with caplog.at_level(logging.INFO, logger="dashboard.queries.reader"):
        for _ in range(3):
            assert reader.row(PUBLISHED_LATER) == (0,)
        first = reader.version()
        publish(spend_db)
        for _ in range(3):
            assert reader.row(PUBLISHED_LATER) == (1,)
    opened = [r.getMessage() for r in caplog.records if r.getMessage().startswith("opened ")]
    assert opened == [f"opened {spend_db} read-only ({first})", f"opened {spend_db} read-only ({reader.version()})"]
    assert first != reader.version()
    assert open_files(spend_db) == [f"{spend_db}"]


def test_threads_query_the_held_connection_in_parallel_across_publishes(spend_db):
    reader = Reader(spend_db)

    def count(_: int) -> int:
        with reader.snapshot() as snapshot:  # two reads that must agree: one snapshot
            first = snapshot.row("SELECT count(*) FROM information_schema.tables WHERE table_name LIKE 'later_%'")[0]
            again = snapshot.frame("SELECT count(*) AS n FROM information_schema.tables "
                                   "WHERE table_name LIKE 'later_%'")["n"].iloc[0]
            assert first == again
            return first

    seen = []
    with ThreadPoolExecutor(max_workers=6) as pool:
        for round_ in range(3):
            seen.append(sorted(set(pool.map(count, range(60)))))
            publish(spend_db, f"later_{round_}")
        seen.append(sorted(set(pool.map(count, range(60)))))
    assert seen == [[0], [1], [2], [3]]
    assert open_files(spend_db) == [f"{spend_db}"]


def test_a_snapshot_is_its_own_snapshot(spend_db):
    with Reader(spend_db).snapshot() as snapshot, snapshot.snapshot() as inner:
        assert inner is snapshot


def test_a_failed_query_is_a_query_error_with_duckdbs_first_line(spend_db):
    with pytest.raises(QueryError, match="Table with name no_such_table does not exist"):
        Reader(spend_db).frame("SELECT * FROM no_such_table")
    with Reader(spend_db).snapshot() as snapshot, pytest.raises(QueryError, match="no_such_table"):
        snapshot.using(lambda con: con.execute("SELECT * FROM no_such_table"))
    assert Reader(spend_db).row("SELECT 1") == (1,)  # a failed query leaves the held connection usable


def test_a_held_connection_is_read_only(spend_db):
    with pytest.raises(QueryError, match="read-only"):
        Reader(spend_db).using(lambda con: con.execute("CREATE TABLE written_by_the_dashboard (x INTEGER)"))


def test_a_missing_warehouse_is_reported_as_such(tmp_path):
    with pytest.raises(WarehouseMissingError):
        Reader(tmp_path / "absent.duckdb").frame("SELECT 1")


def test_a_warehouse_removed_after_it_was_read_is_missing_again(spend_db):
    reader = Reader(spend_db)
    assert reader.row("SELECT 1") == (1,)
    spend_db.unlink()
    with pytest.raises(WarehouseMissingError):
        reader.row("SELECT 1")
    assert open_files(spend_db) == []


def test_a_file_that_is_not_a_warehouse_is_a_query_error_naming_it(tmp_path):
    path = tmp_path / "not-a-warehouse.duckdb"
    path.write_text("date,amount\n2025-06-10,1\n")
    with pytest.raises(QueryError, match=f"cannot open the warehouse {path}"):
        Reader(path).frame("SELECT 1")
