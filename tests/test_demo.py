"""The demo, run as cron or `make run` runs it: synthetic exports in native formats, loaded by the normal adapters."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone

import duckdb
import numpy as np
import pandas as pd
import pytest

from etl.billing.base import LoadOptions
from etl.demo.generator import ACCOUNTS, DEMO_TAG_KEYS, last_full_day, write_day, write_demo_exports
from etl.demo.market import synthetic_prices, synthetic_rates
from etl.loadlog import LoadRecord
from etl.market import fx
from etl.warehouse import Warehouse
from tests.conftest import FIXTURES, run_process
from tests.helpers import table_rows

pytestmark = pytest.mark.slow  # a demo build or real processes each: run first (tests/conftest.py)


def test_demo_builds_a_labelled_synthetic_warehouse_offline_and_is_idempotent(tmp_path):
    env = {"SPENDSCOPE_DB": str(tmp_path / "w.duckdb"), "SPENDSCOPE_DEMO__ROWS": "1500",
           "SPENDSCOPE_CONFIG": str(tmp_path / "none.toml")}
    (tmp_path / "none.toml").write_text("")
    demo = ["demo", "--offline", "--end", "2025-12-31", "--out", str(tmp_path / "exports")]
    first = run_process(demo, env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert ("--offline: SYNTHETIC prices for SPY, ^N225, QQQ, GOOGL, MSFT, AMZN, ORCL, NVDA, CRWV, 9984.T and FX "
            "rates for EUR (load_log format 'synthetic')") in first.stdout
    assert ("SYNTHETIC Google Cloud pricing catalog: 5 SKUs of Cloud TPU, Compute Engine, Cloud Storage, BigQuery, "
            "Networking (load_log kind gcp_catalog; a real `python -m etl gcp catalog` replaces it)") in first.stdout
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    # the synthetic catalog classifies the demo's Google compute (tests/test_demo_catalog.py reconciles it)
    assert con.execute("SELECT DISTINCT compute_class FROM daily_compute_class WHERE provider = 'Google Cloud' "
                       "ORDER BY 1").fetchall() == [("GPU",), ("TPU",)]
    formats = dict(con.execute("SELECT ServiceProviderName, any_value(x_SourceFormat) FROM cost GROUP BY 1").fetchall())
    assert formats == {"Google Cloud": "gcp", "Microsoft": "azure", "AWS": "aws", "Oracle": "oci",
                       "CoreWeave": "focus"}
    accounts = dict(con.execute("SELECT DISTINCT BillingAccountId, BillingAccountName FROM cost").fetchall())
    assert set(accounts) == {account for account, _ in ACCOUNTS.values()}
    # Google's and Oracle's exports carry no billing account name; every name present marks the data as a demo
    assert {name for name in accounts.values() if name} == {ACCOUNTS[p][1] for p in ("Microsoft", "AWS",
                                                                                      "CoreWeave")}
    assert con.execute(f"SELECT count(*) FROM cost WHERE Tags->>'{DEMO_TAG_KEYS[0]}' = 'synthetic' "
                       f"OR Tags->>'{DEMO_TAG_KEYS[1]}' = 'synthetic'").fetchone()[0] == \
        con.execute("SELECT count(*) FROM cost").fetchone()[0]
    assert con.execute("SELECT min(ChargePeriodStart)::DATE::VARCHAR, max(ChargePeriodStart)::DATE::VARCHAR "
                       "FROM cost").fetchone() == ("2024-01-01", "2025-12-31")
    assert con.execute("SELECT DISTINCT format FROM load_log WHERE kind IN ('prices', 'fx')").fetchall() == [
        ("synthetic",)]
    assert con.execute("SELECT count(DISTINCT event_id) FROM event_study_results").fetchone()[0] >= 20
    # the synthetic stocks follow their benchmark as real ones do: the market model finds β ≈ 1.1 (GOOGL's)
    [(beta, r2)] = con.execute("SELECT beta, r2 FROM event_study_results WHERE event_id = 'openai-google-cloud-2025' "
                               "AND ticker = 'GOOGL' AND benchmark = 'SPY' AND \"window\" = '[-1,+1]'").fetchall()
    assert 0.8 < beta < 1.4 and 0.2 < r2 < 0.8
    assert 1.0 <= con.execute("SELECT min(rate) FROM fx_rates").fetchone()[0] < \
        con.execute("SELECT max(rate) FROM fx_rates").fetchone()[0] <= 1.25
    con.close()

    status = run_process(["status"], env=env, cwd=tmp_path).stdout.splitlines()
    assert any(line.startswith("  SYNTHETIC rows: written by `python -m etl demo`") for line in status)
    billing = [line.split() for line in status if line.split()[:1] in (["AWS"], ["Microsoft"], ["Google"],
                                                                        ["Oracle"], ["CoreWeave"])][:5]
    assert len(billing) == 5 and all(fields[-1] == fields[-6] != "0" for fields in billing)  # every row the demo's
    assert any(line.startswith("MSFT ") and line.endswith("SYNTHETIC (demo)") for line in status)
    assert any(line.startswith("EUR ") and line.endswith("(SYNTHETIC demo rates)") for line in status)
    assert any(line.startswith("spend in USD") and "SYNTHETIC" in line for line in status)

    again = run_process(demo, env=env, cwd=tmp_path)
    assert again.returncode == 0
    status = [row["status"] for row in table_rows(again.stdout)]
    assert len(status) == 120 and set(status) == {"unchanged"}
    assert run_process(["status"], env=env, cwd=tmp_path).returncode == 0


def test_google_cloud_spend_shifts_up_from_june_2025(tmp_path, load_billing, query):
    load_billing(*write_demo_exports(tmp_path, rows=3000, end=date(2025, 12, 31)))
    share = dict(query(
        """
        SELECT date_trunc('month', date)::DATE::VARCHAR, sum(effective_cost) FILTER (provider = 'Google Cloud')
               / sum(effective_cost) FILTER (currency = 'USD')
        FROM daily_spend WHERE date BETWEEN '2025-05-01' AND '2025-06-30' GROUP BY 1
        """))
    assert share["2025-06-01"] > 1.5 * share["2025-05-01"]


def _msft_csv(tmp_path):
    csv = tmp_path / "MSFT.csv"
    csv.write_text("Date,Open,High,Low,Close,Adj Close,Volume\n2025-06-09,1,1,1,472.75,472.75,100\n"
                   "2025-06-10,1,1,1,470.92,470.92,100\n")
    return csv


def test_the_demo_refuses_a_warehouse_with_real_billing_data_and_writes_nothing(tmp_path, cli, db_path):
    assert cli("billing", "load", str(FIXTURES / "billing" / "focus" / "focus_1_2_two_providers.csv")).code == 0
    published = db_path.stat().st_mtime_ns
    refused = cli("demo", "--offline", "--out", str(tmp_path / "exports"), "--rows", "600")
    assert refused.code == 1
    assert "demo refused: the warehouse holds real data (billing rows: CoreWeave (USD) 3 rows, " in refused.err
    assert db_path.stat().st_mtime_ns == published and not (tmp_path / "exports").exists()
    # what `make run` does: a warehouse with real billing data is served as it is
    served = cli("demo", "--unless-real", "--out", str(tmp_path / "exports"), "--rows", "600")
    assert (served.code, served.out) == (0, f"{db_path} holds real data: served as it is, demo not run\n")
    assert db_path.stat().st_mtime_ns == published and not (tmp_path / "exports").exists()


def test_the_demo_keeps_real_prices_and_makes_up_only_the_others(tmp_path, cli, query):
    assert cli("prices", "import", str(_msft_csv(tmp_path))).code == 0
    demo = cli("demo", "--offline", "--end", "2025-12-31", "--out", str(tmp_path / "exports"), "--rows", "600")
    assert demo.code == 0, demo.err
    assert "--offline: SYNTHETIC prices for SPY, ^N225, QQQ, GOOGL, AMZN, ORCL, NVDA, CRWV, 9984.T and" in demo.out
    assert query("SELECT subject, rows FROM real_data") == [("MSFT", 2)]
    assert query("SELECT close FROM prices WHERE ticker = 'MSFT' ORDER BY date") == [(472.75,), (470.92,)]
    assert len(query("SELECT subject FROM synthetic_data WHERE kind = 'prices'")) == 9


def test_real_loads_remove_the_demo_data_of_their_kind_and_say_so(offline_demo, tmp_path, cli, query, db_path):
    [(demo_prices,)] = query("SELECT count(*) FROM prices")
    assert query("SELECT DISTINCT kind FROM synthetic_data ORDER BY 1") == [("billing",), ("fx",), ("gcp_catalog",),
                                                                         ("prices",)]
    [(demo_loads, first, last)] = query("SELECT count(*), min(load_id), max(load_id) FROM synthetic_loads "
                                        "WHERE kind = 'billing'")
    assert last - first + 1 == demo_loads  # the demo's billing loads come first, one after the other

    billing = cli("billing", "load", str(FIXTURES / "billing" / "focus" / "focus_1_2_two_providers.csv"))
    [row] = table_rows(billing.out)
    assert billing.code == 0 and "removed the demo's SYNTHETIC billing rows: AWS (USD)" in row["detail"]
    assert f"({demo_loads} demo loads, ids {first}-{last}), replaced by real data" in billing.err  # one short log line
    # every demo cost row, replace unit and rollup day is gone; the real rows and their rollup remain
    assert query("SELECT count(*), count(DISTINCT x_LoadId) FROM cost") == [(5, 1)]
    assert query("SELECT sum(rows) FROM daily_spend") == [(5,)]
    assert query("SELECT count(*) FROM replace_unit WHERE load_id NOT IN (SELECT max(load_id) FROM load_log "
                 "WHERE kind = 'billing')") == [(0,)]
    assert query("SELECT DISTINCT kind FROM synthetic_data ORDER BY 1") == [("fx",), ("prices",)]
    assert query("SELECT count(*) FROM prices") == [(demo_prices,)]  # prices are another kind: still the demo's

    imported = cli("prices", "import", str(_msft_csv(tmp_path)))
    assert imported.code == 0 and "removed the demo's SYNTHETIC prices: 9984.T" in imported.out + imported.err
    assert query("SELECT ticker, count(*) FROM prices GROUP BY 1") == [("MSFT", 2)]
    assert query("SELECT kind, subject FROM synthetic_data") == [("fx", "EUR")]
    assert query("SELECT count(*) FROM load_log WHERE message LIKE '%removed the demo''s SYNTHETIC prices%'"
                 ) == [(1,)]
    with Warehouse(db_path).write("real rates") as session:
        rates = fx.store(session, fx.FxBatch(LoadRecord("fx", "EURUSD=X", format="yahoo", subject="EUR"), "EUR",
                                             pd.DataFrame({"date": pd.to_datetime(["2025-06-10"]), "rate": [1.14]})),
                         datetime.now(UTC))
    assert rates.message == "0 new, 1 revised rate(s); removed the demo's SYNTHETIC FX rates: EUR 781 rows"
    assert query("SELECT count(*) FROM fx_rates") == [(1,)] and query("SELECT * FROM synthetic_data") == []


def test_the_demo_ends_on_its_end_date_and_is_the_same_for_the_same_seed_and_end(tmp_path):
    end = date(2026, 2, 17)  # a Tuesday; Monday 16 was a NYSE holiday (Presidents' Day)
    first = write_demo_exports(tmp_path / "a", rows=600, seed=7, end=end)
    again = write_demo_exports(tmp_path / "b", rows=600, seed=7, end=end)
    assert [f.relative_to(tmp_path / "a") for f in first] == [f.relative_to(tmp_path / "b") for f in again]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(first, again, strict=True))
    assert len(first) == 5 * 26  # 2024-01 .. 2026-02 for each provider
    coreweave = [f for f in first if f.parent.name == "coreweave"]
    assert (coreweave[0].name, coreweave[-1].name) == ("coreweave_focus_202401.csv", "coreweave_focus_202602.csv")
    con = duckdb.connect()
    assert con.execute(f"SELECT min(ChargePeriodStart)::DATE, max(ChargePeriodStart)::DATE, "
                       f"count(DISTINCT ChargePeriodStart::DATE) FROM '{coreweave[-1]}'").fetchone() == (
        date(2026, 2, 1), end, 17)  # the last month is partial, up to the end date
    aws = {f.parent.name: f for f in first if f.parent.parent.name == "aws"}
    invoices = con.execute(f"SELECT DISTINCT bill_invoice_id FROM '{aws['BILLING_PERIOD=2026-02']}' UNION ALL "
                           f"SELECT DISTINCT bill_invoice_id FROM '{aws['BILLING_PERIOD=2026-01']}'").fetchall()
    assert invoices == [("",), ("EUINDE2601",)]  # the open last month has no invoice yet
    con.close()

    prices = synthetic_prices(np.random.default_rng(7), end)
    assert prices["SPY"]["date"].iloc[[0, -1]].dt.date.tolist() == [date(2023, 1, 3), end]  # a year of estimation
    assert prices["9984.T"]["date"].iloc[-1].date() == end  # Tokyo traded that day too
    assert date(2026, 2, 16) not in set(prices["SPY"]["date"].dt.date)  # NYSE sessions only
    again_prices = synthetic_prices(np.random.default_rng(7), end)
    assert all(prices[t].equals(again_prices[t]) for t in prices)
    assert synthetic_rates(np.random.default_rng(7), end)["EUR"]["date"].iloc[-1].date() == end


def test_the_default_end_is_the_last_full_day_in_utc():
    assert last_full_day(datetime(2026, 3, 1, 0, 30, tzinfo=UTC)) == date(2026, 2, 28)
    assert last_full_day(datetime(2026, 3, 1, 23, 30, tzinfo=timezone(timedelta(hours=-5)))) == date(2026, 3, 1)


def test_a_demo_built_today_is_fresh(tmp_path, cli):
    """With the default end (yesterday UTC) every billing feed is within its lag and every price series within a
    session of its exchange's last close, so `status` reports no stale feed."""
    assert cli("demo", "--offline", "--rows", "600", "--out", str(tmp_path / "exports")).code == 0
    status = cli("status", "--json")
    health = json.loads(status.out)
    assert (status.code, health["ok"], health["stale_feeds"]) == (0, True, 0)
    assert {row["data_until"][:10] for row in health["freshness"]["billing"]} == {
        (last_full_day() + timedelta(days=1)).isoformat()}  # charges up to the end of yesterday
    assert max(row["sessions_behind"] for row in health["freshness"]["prices"]) <= 1


def test_one_file_per_provider_is_the_monthly_files_appended_chunk_by_chunk(tmp_path):
    """The generator builds one provider-month at a time; a single file per provider holds exactly the monthly
    files' lines in the same order (header once), numbered as one data set."""
    end = date(2024, 3, 10)
    monthly = write_demo_exports(tmp_path / "m", rows=900, seed=5, end=end, providers=("AWS", "Oracle"))
    single = write_demo_exports(tmp_path / "s", rows=900, seed=5, end=end, providers=("AWS", "Oracle"),
                                monthly_files=False)
    assert [f.relative_to(tmp_path / "s").as_posix() for f in single] == [
        "aws/BILLING_PERIOD=2024-2024/demo-cur2-00001.snappy.parquet", "oracle/reports_cost-csv_2024-2024.csv"]
    oracle_months = [f.read_text().splitlines() for f in monthly if f.parent.name == "oracle"]
    assert len(oracle_months) == 3 and all(lines[0] == oracle_months[0][0] for lines in oracle_months)
    assert single[1].read_text().splitlines() == oracle_months[0] + oracle_months[1][1:] + oracle_months[2][1:]
    con = duckdb.connect()
    aws_months = [f for f in monthly if f.parent.parent.name == "aws"]
    in_months = con.execute(f"SELECT * FROM read_parquet({[str(f) for f in aws_months]}, hive_partitioning = false)"
                          ).fetchall()
    assert con.execute(f"SELECT * FROM read_parquet('{single[0]}', hive_partitioning = false)").fetchall() == in_months
    # line ids run over the whole data set: AWS (first by name) has ids 1..n, one per line, in file order
    ids = con.execute(f"SELECT identity_line_item_id FROM '{single[0]}'").fetchall()
    assert ids == con.execute(f"SELECT md5(i::VARCHAR) FROM range(1, {len(ids) + 1}) t(i)").fetchall()
    assert len(ids) == 70 * 4 * 2  # 70 days x 4 services x round(450 rows / 280) resources
    con.close()


def test_a_nightly_file_is_one_day_of_oracle_lines_and_loads_as_its_own_unit(tmp_path, load_billing, query):
    first = write_day(tmp_path, date(2026, 12, 1), rows=300)
    second = write_day(tmp_path, date(2026, 12, 2), rows=300)
    assert first.name == "reports_cost-csv_20261201.csv" and len(first.read_text().splitlines()) == 1 + 300
    assert [r.status for r in load_billing(first, options=LoadOptions(synthetic=True))] == ["loaded"]
    assert [r.status for r in load_billing(second, options=LoadOptions(synthetic=True))] == ["loaded"]
    assert query("SELECT ChargePeriodStart::DATE::VARCHAR, count(*) FROM cost GROUP BY 1 ORDER BY 1") == [
        ("2026-12-01", 300), ("2026-12-02", 300)]
