"""The demo, run as cron or `make run` runs it: synthetic exports in native formats, loaded by the normal adapters."""

from __future__ import annotations

import duckdb

from etl.demo.generator import ACCOUNTS, DEMO_TAG_KEYS, write_demo_exports
from tests.conftest import FIXTURES, run_process
from tests.helpers import table_rows


def test_demo_builds_a_labelled_synthetic_warehouse_offline_and_is_idempotent(tmp_path):
    env = {"SPENDSCOPE_DB": str(tmp_path / "w.duckdb"), "SPENDSCOPE_DEMO__ROWS": "1500",
           "SPENDSCOPE_CONFIG": str(tmp_path / "none.toml")}
    (tmp_path / "none.toml").write_text("")
    first = run_process(["demo", "--out", str(tmp_path / "exports")], env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "stored SYNTHETIC prices for 10 tickers and 1 FX rate series" in first.stdout
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
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
    con.close()

    status = run_process(["status"], env=env, cwd=tmp_path).stdout.splitlines()
    assert any(line.startswith("  SYNTHETIC rows: written by `python -m etl demo`") for line in status)
    billing = [line.split() for line in status if line.split()[:1] in (["AWS"], ["Microsoft"], ["Google"],
                                                                        ["Oracle"], ["CoreWeave"])][:5]
    assert len(billing) == 5 and all(fields[-1] == fields[-6] != "0" for fields in billing)  # every row the demo's
    assert any(line.startswith("MSFT ") and line.endswith("SYNTHETIC (demo)") for line in status)
    assert any(line.startswith("EUR ") and line.endswith("(SYNTHETIC demo rates)") for line in status)
    assert any(line.startswith("spend in USD") and "SYNTHETIC" in line for line in status)

    again = run_process(["demo", "--out", str(tmp_path / "exports")], env=env, cwd=tmp_path)
    assert again.returncode == 0
    status = [row["status"] for row in table_rows(again.stdout)]
    assert len(status) == 120 and set(status) == {"unchanged"}
    assert run_process(["status"], env=env, cwd=tmp_path).returncode == 0


def test_google_cloud_spend_shifts_up_from_june_2025(tmp_path, load_billing, query):
    load_billing(*write_demo_exports(tmp_path, rows=3000))
    share = dict(query(
        """
        SELECT date_trunc('month', date)::DATE::VARCHAR, sum(effective_cost) FILTER (provider = 'Google Cloud')
               / sum(effective_cost) FILTER (currency = 'USD')
        FROM daily_spend WHERE date BETWEEN '2025-05-01' AND '2025-06-30' GROUP BY 1
        """))
    assert share["2025-06-01"] > 1.5 * share["2025-05-01"]


def test_synthetic_prices_never_replace_real_ones(tmp_path, cli):
    csv = tmp_path / "MSFT.csv"
    csv.write_text("Date,Open,High,Low,Close,Adj Close,Volume\n2025-06-09,1,1,1,472.75,472.75,100\n"
                   "2025-06-10,1,1,1,470.92,470.92,100\n")
    assert cli("prices", "import", str(csv)).code == 0
    assert cli("demo", "--out", str(tmp_path / "exports"), "--rows", "600").code == 0
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    assert con.execute("SELECT date::VARCHAR, close FROM prices WHERE ticker = 'MSFT' ORDER BY 1").fetchall() == [
        ("2025-06-09", 472.75), ("2025-06-10", 470.92)]
    assert con.execute("SELECT count(*) > 700 FROM prices WHERE ticker = 'GOOGL'").fetchone()[0]
    con.close()
    # synthetic data is defined once (views synthetic_loads, synthetic_data); real data loaded over it is real
    assert cli("billing", "load", str(FIXTURES / "billing" / "focus" / "focus_1_2_two_providers.csv")).code == 0
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    kinds = {kind: {subject for k, subject in con.execute("SELECT kind, subject FROM synthetic_data").fetchall()
                    if k == kind} for kind in ("billing", "prices", "fx")}
    assert kinds["billing"] == {"Google Cloud", "Microsoft", "AWS", "Oracle", "CoreWeave"}
    assert "MSFT" not in kinds["prices"] and {"GOOGL", "SPY", "^N225"} <= kinds["prices"]
    assert kinds["fx"] == {"EUR"}
    [(demo_rows,)] = con.execute("SELECT sum(rows) FROM synthetic_data WHERE kind = 'billing'").fetchall()
    [(real,)] = con.execute("SELECT count(*) FROM cost WHERE x_LoadId NOT IN (SELECT load_id FROM synthetic_loads)"
                            ).fetchall()
    assert real == 5 and demo_rows + real == con.execute("SELECT count(*) FROM cost").fetchone()[0]
    assert con.execute("SELECT DISTINCT synthetic FROM load_log WHERE source LIKE '%focus_1_2%'").fetchall() == [
        (False,)]
    con.close()
