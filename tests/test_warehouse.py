"""The write path: migrations, atomic publish, snapshot isolation for readers, one writer at a time."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from decimal import Decimal

import duckdb
import pytest

from etl.warehouse import (
    STORAGE_VERSION,
    Warehouse,
    WarehouseBusyError,
    WarehouseLockedError,
    clone_or_copy,
    connect_readonly,
    latest_schema_version,
    migrations,
    schema_version,
    storage_version,
)


def file_storage_version(path) -> str:
    con = duckdb.connect(":memory:")
    con.execute(f"ATTACH '{path}' AS f (READ_ONLY)")
    try:
        return storage_version(con, "f")
    finally:
        con.close()


def test_a_new_warehouse_gets_every_migration_and_the_views(warehouse, query):
    with warehouse.write("test"):
        pass
    assert query("SELECT max(version) FROM schema_migrations") == [(latest_schema_version(),)]
    views = {name for (name,) in query("SELECT view_name FROM duckdb_views() WHERE NOT internal")}
    assert {"cost", "daily_spend"} <= views


@pytest.mark.parametrize("start", range(latest_schema_version()))
def test_an_older_warehouse_is_upgraded_keeping_its_data(start, db_path):
    con = duckdb.connect(str(db_path))
    for migration in migrations()[:start]:
        con.execute(migration.path.read_text())
        con.execute("INSERT INTO schema_migrations VALUES (?, ?, now()::TIMESTAMP)",
                    [migration.version, migration.name])
    con.execute("CREATE TABLE user_notes AS SELECT 'kept' AS note")
    con.close()
    with Warehouse(db_path).write("upgrade") as writer:
        assert schema_version(writer.con) == latest_schema_version()
    reader = connect_readonly(db_path)
    assert reader.execute("SELECT note FROM user_notes").fetchall() == [("kept",)]
    assert schema_version(reader) == latest_schema_version()
    reader.close()


def test_a_reader_keeps_its_snapshot_while_a_write_is_published(warehouse, db_path):
    with warehouse.write("first") as session:
        session.con.execute("CREATE TABLE marker AS SELECT 1 AS v")
    old_reader = connect_readonly(db_path)
    with warehouse.write("second") as session:
        session.con.execute("UPDATE marker SET v = 2")
        # the published file is untouched until the block ends
        during = connect_readonly(db_path)
        assert during.execute("SELECT v FROM marker").fetchall() == [(1,)]
        during.close()
    new_reader = connect_readonly(db_path)
    assert old_reader.execute("SELECT v FROM marker").fetchall() == [(1,)]
    assert new_reader.execute("SELECT v FROM marker").fetchall() == [(2,)]
    old_reader.close()
    new_reader.close()


def test_a_failed_write_leaves_the_published_file_and_no_work_files(warehouse, db_path):
    with warehouse.write("first") as session:
        session.con.execute("CREATE TABLE marker AS SELECT 1 AS v")
    version = warehouse.version()
    with pytest.raises(RuntimeError, match="boom"), warehouse.write("failing") as session:
        session.con.execute("UPDATE marker SET v = 99")
        raise RuntimeError("boom")
    assert warehouse.version() == version
    reader = connect_readonly(db_path)
    assert reader.execute("SELECT v FROM marker").fetchall() == [(1,)]
    reader.close()
    assert sorted(p.name for p in db_path.parent.iterdir() if p.name.startswith(db_path.name)) == [
        db_path.name, db_path.name + ".lock"]


def test_writes_are_serialised_by_the_lock(db_path):
    holding = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with Warehouse(db_path).write("holder"):
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    assert holding.wait(10)
    started = time.monotonic()
    with pytest.raises(WarehouseBusyError, match="another ETL run held the writer lock"), \
            Warehouse(db_path, lock_timeout_s=0.5).write("second"):
        pass
    assert time.monotonic() - started >= 0.5
    release.set()
    thread.join()
    with Warehouse(db_path, lock_timeout_s=5).write("after"):
        pass


def test_a_write_that_must_not_wait_refuses_at_once_naming_the_holder(db_path):
    warehouse = Warehouse(db_path, lock_timeout_s=600)
    assert warehouse.locked_by() is None
    with warehouse.write("holder"):
        assert warehouse.locked_by() == f"pid {os.getpid()}: holder"
        with pytest.raises(WarehouseLockedError, match=f"holds the writer lock \\(pid {os.getpid()}: holder\\); "
                                                       "not waiting for it"), warehouse.write("run", wait=False):
            pass
    assert warehouse.locked_by() is None
    with warehouse.write("run", wait=False) as session:  # free again: it runs
        session.con.execute("CREATE TABLE t AS SELECT 1 AS x")
    assert sorted(p.name for p in db_path.parent.glob(db_path.name + "*")) == [db_path.name, db_path.name + ".lock"]


def test_another_process_reading_does_not_block_a_write(warehouse, db_path):
    with warehouse.write("first") as session:
        session.con.execute("CREATE TABLE marker AS SELECT 1 AS v")
    reader = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1], read_only=True); "
         "print(c.execute('select v from marker').fetchone()[0], flush=True); time.sleep(30)", str(db_path)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert reader.stdout.readline().strip() == "1"
        with warehouse.write("while read") as session:
            session.con.execute("UPDATE marker SET v = 2")
        fresh = connect_readonly(db_path)
        assert fresh.execute("SELECT v FROM marker").fetchall() == [(2,)]
        fresh.close()
    finally:
        reader.kill()
        reader.wait()


def test_work_files_of_an_interrupted_run_are_cleaned_up(warehouse, db_path):
    with warehouse.write("first"):
        pass
    leftover = db_path.with_name(db_path.name + ".work-99999")
    leftover.write_bytes(b"half-written copy")
    with warehouse.write("second"):
        pass
    assert not leftover.exists()


def test_a_session_transaction_commits_or_rolls_back(warehouse, query):
    with warehouse.write("test") as session:
        session.con.execute("CREATE TABLE marker (v INTEGER PRIMARY KEY)")
        with session.transaction() as con:
            con.execute("INSERT INTO marker VALUES (1)")
        with pytest.raises(RuntimeError, match="boom"), session.transaction() as con:
            con.execute("INSERT INTO marker VALUES (2)")
            raise RuntimeError("boom")
        with pytest.raises(duckdb.ConstraintException), session.transaction() as con:
            con.execute("INSERT INTO marker VALUES (3)")
            con.execute("INSERT INTO marker VALUES (1)")  # fails: the whole transaction is rolled back
        with session.transaction() as con:  # and the connection is usable again
            con.execute("INSERT INTO marker VALUES (4)")
    assert query("SELECT v FROM marker ORDER BY v") == [(1,), (4,)]


def test_the_warehouse_is_written_in_the_storage_version_duckdb_1_5_reads(warehouse, db_path):
    with warehouse.write("test"):
        pass
    assert STORAGE_VERSION == "v1.5.0"
    assert file_storage_version(db_path) == "v1.5.0"


def test_a_warehouse_in_another_storage_version_is_converted_by_the_next_write(warehouse, db_path, query, caplog):
    with warehouse.write("first") as session:
        session.con.execute("CREATE TABLE marker AS SELECT nextval('load_id_seq') AS v, 12.5::DECIMAL(38, 12) AS x")
    newer = db_path.with_name("newer.duckdb")  # what duckdb 2.0 writes by default, e.g. an earlier `make run`
    con = duckdb.connect(":memory:")
    con.execute(f"ATTACH '{db_path}' AS old (READ_ONLY)")
    con.execute(f"ATTACH '{newer}' AS new (STORAGE_VERSION 'v2.0.0')")
    con.execute("COPY FROM DATABASE old TO new")
    con.close()
    newer.replace(db_path)
    assert file_storage_version(db_path) == "v2.0.0"
    published = db_path.read_bytes()

    with caplog.at_level("INFO", logger="etl.warehouse"), warehouse.write("second") as session:
        assert db_path.read_bytes() == published  # converted in the work copy, not in place
        session.con.execute("INSERT INTO marker SELECT nextval('load_id_seq'), 1")
    assert file_storage_version(db_path) == "v1.5.0"
    assert query("SELECT v, x FROM marker ORDER BY v") == [(1, Decimal("12.5")), (2, Decimal("1"))]
    assert query("SELECT max(version) FROM schema_migrations") == [(latest_schema_version(),)]
    converted = [r.getMessage() for r in caplog.records if "converting" in r.getMessage()]
    assert converted == [f"converting {db_path.name} from storage version v2.0.0 to v1.5.0, which DuckDB 1.5 tools "
                         "read"]
    caplog.clear()
    with caplog.at_level("INFO", logger="etl.warehouse"), warehouse.write("third"):
        pass  # already converted: a plain copy
    assert not [r for r in caplog.records if "converting" in r.getMessage()]


def test_a_published_file_duckdb_cannot_open_fails_the_write_and_leaves_no_work_file(warehouse, db_path):
    db_path.write_bytes(b"not a DuckDB file" * 1000)
    with pytest.raises(duckdb.Error), warehouse.write("test"):
        pass
    assert db_path.read_bytes() == b"not a DuckDB file" * 1000
    assert sorted(p.name for p in db_path.parent.iterdir() if p.name.startswith(db_path.name)) == [
        db_path.name, db_path.name + ".lock"]


def test_a_write_session_times_its_steps_and_a_failed_one_never_publishes(warehouse, db_path):
    with warehouse.write("first") as session:
        session.con.execute("CREATE TABLE marker AS SELECT range AS v FROM range(100000)")
        assert list(session.timings) == ["copy"]  # the rest is measured as the session ends
    assert list(session.timings) == ["copy", "work", "checkpoint", "publish"]
    assert all(seconds > 0 for seconds in session.timings.values())
    with pytest.raises(RuntimeError, match="boom"), warehouse.write("failing") as failing:
        raise RuntimeError("boom")
    assert list(failing.timings) == ["copy"]


def test_the_work_file_is_a_reflink_where_the_filesystem_offers_one_and_a_copy_elsewhere(tmp_path):
    source = tmp_path / "published.duckdb"
    source.write_bytes(os.urandom(3 * 2**20 + 17))
    how = clone_or_copy(source, tmp_path / "work")
    assert (tmp_path / "work").read_bytes() == source.read_bytes()
    filesystem = subprocess.run(["stat", "-f", "-c", "%T", str(tmp_path)], capture_output=True, text=True).stdout
    assert how in ("reflink", "copy")
    if filesystem.strip() in ("ext2/ext3", "tmpfs"):  # no reflinks there (this machine's ext4 among them)
        assert how == "copy"
