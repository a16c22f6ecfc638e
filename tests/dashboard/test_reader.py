"""The dashboard's read path: short-lived read-only snapshots of the published warehouse file."""

from __future__ import annotations

import pytest

from dashboard.queries.reader import QueryError, Reader
from etl.warehouse import Warehouse, WarehouseMissingError

PUBLISHED_LATER = "SELECT count(*) FROM information_schema.tables WHERE table_name = 'published_later'"


def test_a_snapshot_keeps_its_file_while_the_etl_publishes_a_new_one(spend_db):
    reader = Reader(spend_db)
    with reader.snapshot() as snapshot:
        loads = snapshot.row("SELECT count(*) FROM load_log")[0]
        with Warehouse(spend_db).write("a publish while the dashboard reads") as session:  # not blocked by the reader
            con = session.con
            con.execute("CREATE TABLE published_later AS SELECT 1 AS x")
        assert snapshot.row(PUBLISHED_LATER) == (0,)
        assert snapshot.row("SELECT count(*) FROM load_log")[0] == loads
        assert reader.row(PUBLISHED_LATER) == (1,)  # a new query opens the new file


def test_a_snapshot_is_its_own_snapshot(spend_db):
    with Reader(spend_db).snapshot() as snapshot, snapshot.snapshot() as inner:
        assert inner is snapshot


def test_a_failed_query_is_a_query_error_with_duckdbs_first_line(spend_db):
    with pytest.raises(QueryError, match="Table with name no_such_table does not exist"):
        Reader(spend_db).frame("SELECT * FROM no_such_table")
    with Reader(spend_db).snapshot() as snapshot, pytest.raises(QueryError, match="no_such_table"):
        snapshot.using(lambda con: con.execute("SELECT * FROM no_such_table"))


def test_a_missing_warehouse_is_reported_as_such(tmp_path):
    with pytest.raises(WarehouseMissingError):
        Reader(tmp_path / "absent.duckdb").frame("SELECT 1")


def test_a_file_that_is_not_a_warehouse_is_a_query_error_naming_it(tmp_path):
    path = tmp_path / "not-a-warehouse.duckdb"
    path.write_text("date,amount\n2025-06-10,1\n")
    with pytest.raises(QueryError, match=f"cannot open the warehouse {path}"):
        Reader(path).frame("SELECT 1")
