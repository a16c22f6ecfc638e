"""`status` as a cron monitor reads it: open failures and their lifecycle (`loads dismiss`), `--json`, and the
freshness of the data; on warehouses built in the test with the real loader and CLI."""

from __future__ import annotations

import getpass
import json
import shutil

import duckdb

from etl import loadlog, warehouse
from etl.loadlog import LoadRecord
from tests.billing.test_azure import EXPORT_RUN, PARTITIONED
from tests.billing.test_loader import HEADER, focus_row, write


def test_a_failure_stays_open_until_its_source_loads_and_status_exits_1_meanwhile(cli, tmp_path):
    path = tmp_path / "feed.csv"
    write(path, HEADER, focus_row("bad", "2025-06-01"))
    cli("billing", "load", str(path))
    write(tmp_path / "other.csv", HEADER, focus_row("1.00", "2025-06-01"))
    cli("billing", "load", str(tmp_path / "other.csv"))  # another source succeeding resolves nothing
    failing = cli("status")
    assert failing.code == 1
    assert "1 open failure(s), until a later load of the same source succeeds" in failing.out
    assert f"  load 1 {path}: {path}: line 2, column \"BilledCost\"" in failing.out
    write(path, HEADER, focus_row("1.00", "2025-06-01"))
    cli("billing", "load", str(path))
    assert cli("status").code == 0
    assert cli("loads", "list").out == "no open failed loads\n"
    assert "resolved  load 3" in cli("loads", "list", "--all").out


def test_a_dismissed_failure_closes_with_who_and_when_and_json_says_the_same(cli, tmp_path, query):
    path = write(tmp_path / "feed.csv", HEADER, focus_row("x", "2025-06-01"))
    cli("billing", "load", str(path), str(write(tmp_path / "good.csv", HEADER, focus_row("2.50", "2025-06-01"))))
    report = cli("status", "--json")
    doc = json.loads(report.out)
    assert report.code == 1 and doc["ok"] is False and doc["schema_version"] == doc["latest_schema_version"]
    assert [(f["load_id"], f["source"]) for f in doc["open_failures"]] == [(1, str(path))]
    [feed] = doc["freshness"]["billing"]
    assert (feed["provider"], feed["account"], feed["data_until"], feed["lag_days"], feed["stale"]) == (
        "CoreWeave", "A1", "2025-06-01T01:00:00Z", 2.0, True)
    assert doc["freshness"]["prices"] == [] and doc["freshness"]["fx"] == [] and doc["stale_feeds"] == 1

    dismissed = cli("loads", "dismiss", "1", "--reason", "test file")
    assert (dismissed.code, dismissed.out) == (0, f"dismissed failed load 1 (by {getpass.getuser()})\n")
    assert query("SELECT load_id, dismissed_by, reason, dismissed_at > now()::TIMESTAMP - INTERVAL 1 MINUTE "
                 "FROM load_dismissals") == [(1, getpass.getuser(), "test file", True)]
    after = cli("status", "--json")
    assert after.code == 0 and json.loads(after.out)["ok"] is True and json.loads(after.out)["open_failures"] == []
    assert cli("status").code == 0
    assert f"dismissed  {getpass.getuser()}: test file" in cli("loads", "list", "--all").out


def test_dismissing_what_is_not_an_open_failure_is_refused(cli, tmp_path):
    bad = write(tmp_path / "feed.csv", HEADER, focus_row("x", "2025-06-01"))
    cli("billing", "load", str(bad))
    cli("billing", "load", str(write(tmp_path / "feed.csv", HEADER, focus_row("1.00", "2025-06-01"))))
    cli("billing", "load", str(write(tmp_path / "other.csv", HEADER, focus_row("y", "2025-06-01"))))
    assert cli("loads", "dismiss", "3", "--by", "ana").code == 0
    for load_id, why in [("99", "no load 99 in load_log"),
                         ("2", "load 2 did not fail (status loaded); only failed loads are dismissed"),
                         ("1", "load 1 is no longer open: load 2 of the same source succeeded"),
                         ("3", "load 3 was already dismissed by ana")]:
        result = cli("loads", "dismiss", load_id)
        assert (result.code, result.out) == (1, f"error: {why}\n")


def test_a_billing_failure_that_knew_its_accounts_is_resolved_by_a_later_load_of_them(cli, warehouse, tmp_path):
    with warehouse.write("failures") as session:  # as the loader records a failure after reading the rows
        for source, account in [("june-a1.csv", "A1"), ("june-a9.csv", "A9")]:
            loadlog.write_alone(session, LoadRecord("billing", source, format="focus", dataset="cost",
                                                    scope=[("CoreWeave", account)], error=f"{source}: bad total"))
    cli("billing", "load", str(write(tmp_path / "july.csv", HEADER, focus_row("1.00", "2025-07-01"))))
    doc = json.loads(cli("status", "--json").out)
    assert [f["source"] for f in doc["open_failures"]] == ["june-a9.csv"]  # A1 was loaded since, A9 was not


def test_migration_0005_backfills_the_latest_charge_end_of_the_rollup(load_billing, db_path, tmp_path, query,
                                                                      monkeypatch):
    load_billing(write(tmp_path / "june.csv", HEADER, focus_row("1.00", "2025-06-01"),
                       focus_row("2.00", "2025-06-03").replace("2025-06-03T01:00:00Z", "2025-07-01T00:00:00Z")))
    every = warehouse.migrations()
    health = next(m for m in every if m.name == "health")
    con = duckdb.connect(str(db_path))  # as published before migration 0005
    con.execute("DELETE FROM schema_migrations WHERE version >= ?", [health.version])
    con.execute("DROP VIEW billing_freshness; DROP VIEW load_failures; DROP TABLE load_dismissals; "
                "ALTER TABLE daily_spend_rollup DROP COLUMN charge_period_end")
    con.close()
    # later migrations (they touch other tables) stay applied: only those up to 0005 are offered to the upgrade
    monkeypatch.setattr(warehouse, "migrations", lambda: [m for m in every if m.version <= health.version])
    load_billing()  # any write applies the migration
    # a charge longer than a day (here to 1 July) counts to the end of its first day
    assert query("SELECT date::VARCHAR, charge_period_end::VARCHAR FROM daily_spend_rollup ORDER BY 1") == [
        ("2025-06-01", "2025-06-01 01:00:00"), ("2025-06-03", "2025-06-04 00:00:00")]
    assert query("SELECT data_until::VARCHAR FROM billing_freshness") == [("2025-06-04 00:00:00",)]


def test_a_manifest_failure_keeps_its_accounts_and_a_later_export_of_them_resolves_it(load_billing, query,
                                                                                       tmp_path):
    shutil.copytree(PARTITIONED, tmp_path / "export")
    manifest_path = tmp_path / "export" / EXPORT_RUN / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["blobs"][1]["dataRowCount"] = 2
    manifest["dataRowCount"] = 4  # the parts hold 5 rows: the failure comes after the rows were read
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    [failed] = load_billing(manifest_path)
    assert failed.status == "failed" and failed.scope
    assert query("SELECT state FROM load_failures") == [("open",)]
    [loaded] = load_billing(PARTITIONED / EXPORT_RUN / "manifest.json")  # another source: the good export
    assert loaded.status == "loaded" and set(failed.scope) <= set(loaded.scope)
    assert query("SELECT state, resolved_by FROM load_failures") == [("resolved", loaded.load_id)]
