"""``python -m etl run``: every configured step in one write session, failures isolated, exit codes; ``etl cron``."""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

import pandas as pd
import pytest

from etl import pipelines
from etl import run as run_job
from etl.config import load_config
from etl.context import Context
from etl.market import yahoo
from etl.warehouse import Warehouse
from tests.billing.test_azure import EXPORT_RUN, PARTITIONED
from tests.billing.test_loader import HEADER, focus_row, write
from tests.conftest import FIXTURES
from tests.helpers import dec, read_csv_rows, table_rows
from tests.market.fakes import FakeYahoo, fixture_history, need_market_fixtures, synthetic_history

FOCUS = FIXTURES / "billing" / "focus" / "focus_1_2_two_providers.csv"  # 5 rows in USD and EUR
# settings under which the market steps have nothing to do, so that no test depends on Yahoo
NO_MARKETS = """
[market]
tickers = []
benchmarks = []
[providers.tickers]
"Google Cloud" = ""
Microsoft = ""
AWS = ""
Oracle = ""
CoreWeave = ""
[fx]
currencies = []
"""


def raw_billed(path: Path) -> dict[str, Decimal]:
    """BilledCost per BillingCurrency of a FOCUS CSV file, read with the csv module."""
    totals: dict[str, Decimal] = {}
    for row in read_csv_rows(path):
        totals[row["BillingCurrency"]] = totals.get(row["BillingCurrency"], Decimal(0)) + dec(row["BilledCost"])
    return totals


def write_config(folder: Path, *sources: str, extra: str = "") -> Path:
    """A config.toml with one ``[[billing.sources]]`` table per TOML body in ``sources``."""
    tables = "".join(f"[[billing.sources]]\n{body}\n" for body in sources)
    path = folder / "config.toml"
    path.write_text(f"{extra}\n{tables}", encoding="utf-8")
    return path


class MarketFake(FakeYahoo):
    """Yahoo from the shared fixtures: the Tokyo and index symbols the catalog needs borrow fixture tickers' rows,
    FX pairs get synthetic rates. Records whether the warehouse's writer lock was held during each download."""

    ALIAS: ClassVar[dict[str, str]] = {"9984.T": "NVDA", "^N225": "QQQ", "^GSPC": "SPY"}

    def __init__(self, warehouse: Warehouse) -> None:
        rates = synthetic_history({"2025-06-02": 0.9, "2025-06-03": 0.91})
        super().__init__(history=lambda symbol, start, end: rates(symbol, start, end) if symbol.endswith("=X")
                         else fixture_history(self.ALIAS.get(symbol, symbol), start, end))
        self.warehouse = warehouse
        self.lock_holders: list[str | None] = []

    def __call__(self, tickers, start=None, end=None, **kwargs) -> pd.DataFrame:
        self.lock_holders.append(self.warehouse.locked_by())
        return super().__call__(tickers, start, end, **kwargs)


def test_a_run_downloads_first_then_does_every_step_in_one_write_session(tmp_path, db_path, query, monkeypatch):
    need_market_fixtures()
    config = load_config(write_config(tmp_path, f'path = "{FOCUS}"', extra=f'db = "{db_path}"'))
    warehouse = Context(config).warehouse
    fake = MarketFake(warehouse)
    monkeypatch.setattr(yahoo.yf, "download", fake)
    sessions: list[str] = []
    real_write = Warehouse.write

    def counting_write(self: Warehouse, purpose: str, **kwargs):
        sessions.append(purpose)
        return real_write(self, purpose, **kwargs)

    monkeypatch.setattr(Warehouse, "write", counting_write)
    now = datetime(2025, 12, 1, 22, tzinfo=UTC)

    report = run_job.run(config, warehouse, now=now)
    assert [(s.name, s.status) for s in report.steps] == [
        ("billing", "ok"), ("gcp", "skipped"), ("prices", "ok"), ("fx", "ok"), ("events", "ok"),
        ("eventstudy", "ok"), ("anomalies", "ok"), ("forecasts", "skipped"), ("budgets", "skipped"),
        ("export", "skipped")]
    assert report.exit_code == 0 and report.warnings == []
    assert sessions == ["run"]  # one copy of the warehouse, one publish
    assert [call["tickers"][0] for call in fake.calls] == ["GOOGL", "CADUSD=X"]
    assert fake.lock_holders == [None, None]  # both downloads ran without the writer lock
    steps = {s.name: s for s in report.steps}
    assert steps["billing"].counts == "1 source: 1 loaded; 5 rows written"
    assert steps["prices"].counts.startswith("11 tickers: 11 loaded; ")
    assert steps["fx"].counts == "5 pairs: 5 loaded; 10 rows written"  # CAD EUR GBP NOK JPY, two days each
    assert steps["events"].counts == "24 catalog events"
    assert steps["eventstudy"].counts == "run 1: 24 events, 39 computed, 1 excluded, 0 skipped, 0 failed"
    assert steps["anomalies"].counts.startswith("run 1: 0 anomalies (0 low, 0 medium, 0 high) from ")
    assert query("SELECT series_scored, anomalies FROM anomaly_runs") == [(0, 0)]  # the fixture's few days
    assert dict(query("SELECT BillingCurrency, sum(BilledCost) FROM cost GROUP BY 1")) == raw_billed(FOCUS)
    assert query("SELECT count(DISTINCT ticker) FROM prices") == [(11,)]
    assert query("SELECT kind, count(*) FROM load_log GROUP BY 1 ORDER BY 1") == [
        ("billing", 1), ("events", 1), ("fx", 5), ("prices", 11)]
    assert query("SELECT count(*) FROM event_study_runs") == [(1,)]

    again = run_job.run(config, warehouse, now=now)  # nothing new: every load unchanged, still one session
    assert again.exit_code == 0 and sessions == ["run", "run"]
    assert {s.name: s.counts for s in again.steps}["billing"] == "1 source: 1 unchanged; 0 rows written"


def test_a_failed_step_does_not_stop_the_others_and_the_output_says_which(tmp_path, cli, query, monkeypatch):
    config = write_config(tmp_path, f'path = "{FOCUS}"')  # default market settings: Yahoo is unreachable here

    def broken(config, session):
        raise RuntimeError("catalog exploded")

    monkeypatch.setattr(pipelines, "refresh_events", broken)
    result = cli("--config", str(config), "run")
    assert result.code == 1
    steps = {row["step"]: row for row in table_rows(result.out, "step")}
    assert {name: row["status"] for name, row in steps.items()} == {
        "billing": "ok", "gcp": "skipped", "prices": "failed", "fx": "failed", "events": "failed",
        "eventstudy": "skipped", "anomalies": "ok", "forecasts": "skipped", "budgets": "skipped", "export": "skipped"}
    assert steps["events"]["reason"] == "RuntimeError: catalog exploded"
    assert steps["eventstudy"]["reason"] == "no events stored"
    lines = result.out.splitlines()
    [prices_error] = [line for line in lines if line.startswith("error: step prices: ")]
    assert prices_error.startswith("error: step prices: could not reach Yahoo Finance: Failed to connect to "
                                   "query2.finance.yahoo.com:443 over proxy 127.0.0.1")  # yfinance's words may follow
    assert prices_error.endswith("(all 11 tickers failed)")
    assert lines[-1] == (f"run failed: 2 steps ok, 3 failed (prices, fx, events), 5 skipped; published "
                         f"{tmp_path / 'warehouse.duckdb'}; exit 1")
    # what succeeded is published; the failed downloads stored no rows, only their failures (open for `status`)
    assert dict(query("SELECT BillingCurrency, sum(BilledCost) FROM cost GROUP BY 1")) == raw_billed(FOCUS)
    assert query("SELECT kind, status, count(*) FROM load_log GROUP BY ALL ORDER BY ALL") == [
        ("billing", "loaded", 1), ("fx", "failed", 5), ("prices", "failed", 11)]
    assert query("SELECT count(*) FROM prices") == query("SELECT count(*) FROM fx_rates") == [(0,)]
    assert query("SELECT kind, count(*) FROM load_failures WHERE state = 'open' GROUP BY ALL ORDER BY ALL") == [
        ("fx", 5), ("prices", 11)]


def test_a_run_with_nothing_but_a_manifest_folder_reports_the_files_its_manifest_does_not_list(tmp_path, cli, query):
    export = tmp_path / "export"
    shutil.copytree(PARTITIONED, export)
    stray = write(export / EXPORT_RUN / "part_0_0003.csv", HEADER, focus_row("9.00", "2025-06-01"))
    config = write_config(tmp_path, 'name = "azure"\npath = "export"', extra=NO_MARKETS)  # relative to config.toml
    result = cli("--config", str(config), "run")
    assert result.code == 0, result.out
    summary, steps = table_rows(result.out), table_rows(result.out, "step")
    assert [(r["kind"], r["rows"], r["status"]) for r in summary] == [
        ("billing", "5", "loaded"), ("billing", "0", "skipped"), ("events", "24", "loaded")]
    assert summary[1]["source"] == str(stray)
    assert [(r["step"], r["status"], r["reason"]) for r in steps] == [
        ("billing", "ok", ""), ("gcp", "skipped", "no gcp.billing_accounts configured"),
        ("prices", "skipped", "no tickers configured (market.tickers, providers.tickers, market.benchmarks)"),
        ("fx", "ok", ""), ("events", "ok", ""), ("eventstudy", "skipped", "no prices stored"), ("anomalies", "ok", ""),
        ("forecasts", "ok", ""), ("budgets", "skipped", "no [[budgets]] configured"),
        ("export", "skipped", "export.lake_dir is not set")]
    assert steps[0]["what"] == "2 sources: 1 loaded, 1 skipped; 5 rows written"
    assert steps[3]["what"] == "nothing to fetch: every currency is USD"
    assert f"warning: {stray}: not listed in manifest.json ({export / EXPORT_RUN})" in result.out.splitlines()
    assert result.out.splitlines()[-1].startswith("run succeeded: 5 steps ok, 0 failed, 5 skipped; published ")
    assert query("SELECT count(*) FROM load_log WHERE kind = 'billing'") == [(1,)]  # the skipped file: no row


def test_a_run_without_billing_sources_skips_that_step(tmp_path, cli):
    result = cli("--config", str(write_config(tmp_path, extra=NO_MARKETS)), "run")
    assert result.code == 0
    steps = table_rows(result.out, "step")
    assert (steps[0]["step"], steps[0]["status"], steps[0]["reason"]) == (
        "billing", "skipped", "no [[billing.sources]] in the configuration")


@pytest.mark.parametrize(("source", "message"), [
    ('path = "x"\nformat = "fokus"', "format 'fokus' is not one of aws, azure, focus, gcp, generic, oci"),
    ('path = "x"\ndataset = "amortised"', "dataset 'amortised' is not one of actual, amortized"),
    ('path = "x"\nreplace = "month"', "replace 'month' is not one of period, file"),
    ('path = "x"\nreplce = "file"', "unknown key(s) replce"),
    ('path = "x"\n[eventstudy]\nmodel = "capm"', ""),
])
def test_a_bad_billing_source_is_a_settings_error_and_nothing_is_done(tmp_path, cli, db_path, source, message):
    config = write_config(tmp_path, f'path = "{FOCUS}"', source)
    result = cli("--config", str(config), "run")
    assert result.code == 2
    expected = (f"{config}: setting 'billing.sources'[1]: {message}" if message
                else "setting eventstudy.model: ")  # a setting of a later step is checked before anything is done too
    assert result.err.startswith(f"configuration error: {expected}")
    assert not db_path.exists()


def test_a_run_refuses_at_once_while_another_writer_holds_the_lock(tmp_path, cli, db_path, monkeypatch):
    fake = FakeYahoo()
    monkeypatch.setattr(yahoo.yf, "download", fake)
    config = write_config(tmp_path, f'path = "{FOCUS}"')
    with Warehouse(db_path).write("billing load"):
        started = time.monotonic()
        result = cli("--config", str(config), "run")
        assert time.monotonic() - started < 5  # the lock timeout is 600 s: it did not queue
    assert result.code == 3
    assert fake.calls == []  # it saw the lock before downloading anything
    assert "another ETL run holds the writer lock (pid " in result.out and ": billing load); " in result.out


def test_a_run_whose_lock_is_taken_during_its_downloads_exits_3_without_writing(tmp_path, cli, db_path, query,
                                                                                monkeypatch):
    monkeypatch.setattr(Warehouse, "locked_by", lambda self: None)  # the probe said free; then another run came
    config = write_config(tmp_path, f'path = "{FOCUS}"', extra=NO_MARKETS)
    with Warehouse(db_path).write("billing load"):
        result = cli("--config", str(config), "run")
    assert result.code == 3 and "not waiting for it" in result.out
    assert query("SELECT count(*) FROM load_log") == [(0,)]  # the other session published; the run wrote nothing
    assert list(tmp_path.glob("warehouse.duckdb.work-*")) == []


# --- cron --------------------------------------------------------------------------------------------------------

def test_cron_prints_a_line_with_absolute_paths(tmp_path, cli, monkeypatch):
    import sys

    config = write_config(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = cli("--config", "config.toml", "cron", "--schedule", "0  5 * * 1-5", "--log", "logs/run%d.log")
    assert result.code == 0
    here = tmp_path.resolve()
    assert result.out.strip() == (
        f"0 5 * * 1-5 cd {here} && mkdir -p {here / 'logs'} && PYTHONPATH={Path(__file__).parent.parent} "
        f"{sys.executable} -m etl --config {config} --db {tmp_path / 'warehouse.duckdb'} run "
        f">> {here / 'logs' / 'run'}\\%d.log 2>&1")  # --db came from the command line; cron needs % escaped


@pytest.mark.parametrize("schedule", ["* * *", "every day", "@sometimes"])
def test_cron_rejects_a_schedule_that_is_not_crontab_fields(cli, schedule):
    result = cli("cron", "--schedule", schedule)
    assert result.code == 2 and "expected five crontab fields" in result.err


def test_a_run_whose_session_cannot_be_published_changes_nothing_and_says_so(tmp_path, cli, db_path, query,
                                                                            monkeypatch):
    import etl.warehouse

    cli("init")
    before = query("SELECT count(*) FROM load_log")

    def disk_full(path: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(etl.warehouse, "fsync", disk_full)
    result = cli("--config", str(write_config(tmp_path, f'path = "{FOCUS}"', extra=NO_MARKETS)), "run")
    assert result.code == 1
    assert (f"error: nothing was published, {db_path} is as it was: OSError: [Errno 28] No space left on device"
            in result.out.splitlines())
    assert result.out.splitlines()[-1].startswith("run failed: 4 steps ok, 0 failed, 6 skipped; not published (")
    assert query("SELECT count(*) FROM load_log") == before
    assert list(tmp_path.glob("warehouse.duckdb.work-*")) == []
