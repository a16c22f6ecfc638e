"""SYNTHETIC data is defined once: the loads that recorded ``load_log.synthetic`` (views ``synthetic_loads`` and
``synthetic_data``), marked on older warehouses by migration 0004 from what the demo wrote then. (The demo's own
loads are checked in tests/test_demo.py.)"""

from __future__ import annotations

import duckdb

from etl.warehouse import Warehouse, connect_readonly, migrations


def test_migration_0004_marks_what_the_demo_wrote_before_it(db_path):
    con = duckdb.connect(str(db_path))
    for migration in migrations()[:3]:
        con.execute(migration.path.read_text())
        con.execute("INSERT INTO schema_migrations VALUES (?, ?, now()::TIMESTAMP)",
                    [migration.version, migration.name])
    log = ("INSERT INTO load_log (load_id, kind, source, files, format, status, started_at, finished_at) "
           "VALUES (?, ?, ?, [], ?, 'loaded', now()::TIMESTAMP, now()::TIMESTAMP)")
    for load_id, kind, source, fmt in [(1, "billing", "demo.jsonl", "gcp"), (2, "billing", "real.csv", "focus"),
                                       (3, "prices", "demo:GOOGL", "synthetic"), (4, "prices", "MSFT", "yahoo"),
                                       (5, "fx", "demo:EURUSD=X", "synthetic")]:
        con.execute(log, [load_id, kind, source, fmt])
    cost = ("INSERT INTO cost_line (BillingAccountId, BillingCurrency, BillingPeriodStart, BillingPeriodEnd, "
            "ChargePeriodStart, ChargePeriodEnd, ChargeCategory, BilledCost, EffectiveCost, ListCost, ContractedCost, "
            "ServiceProviderName, InvoiceIssuerName, ServiceName, ServiceCategory, Tags, x_SourceFormat, x_SourceFile, "
            "x_SourceLine, x_LoadId, x_Dataset, x_ReplaceKey, x_CategorySource) VALUES ('A', 'USD', '2025-06-01', "
            "'2025-07-01', '2025-06-02', '2025-06-03', 'Usage', 1, 1, 1, 1, ?, ?, 'S', 'Compute', ?, 'x', 'f', 2, ?, "
            "'cost', ?, 'map')")
    con.execute(cost, ["Google Cloud", "Google Cloud", '{"spendscope-demo": "synthetic"}', 1, "k1"])
    con.execute(cost, ["AWS", "AWS", '{"team": "ml"}', 2, "k2"])
    con.execute("INSERT INTO replace_unit VALUES ('k1', 1, NULL, now()::TIMESTAMP), ('k2', 2, NULL, now()::TIMESTAMP)")
    con.execute("INSERT INTO prices (ticker, date, close, currency, exchange, load_id, loaded_at) VALUES "
                "('GOOGL', '2025-06-10', 1, 'USD', 'XNAS', 3, now()::TIMESTAMP), "
                "('MSFT', '2025-06-10', 1, 'USD', 'XNAS', 4, now()::TIMESTAMP)")
    con.execute("INSERT INTO fx_rates VALUES ('2025-06-10', 'EUR', 'USD', 1.1, 'demo:synthetic', 5, now()::TIMESTAMP)")
    con.close()
    with Warehouse(db_path).write("upgrade"):
        pass
    reader = connect_readonly(db_path)
    try:
        marked = reader.execute("SELECT load_id FROM load_log WHERE synthetic ORDER BY 1").fetchall()
        assert marked == [(1,), (3,), (5,)]
        assert reader.execute("SELECT kind, subject, rows FROM synthetic_data ORDER BY ALL").fetchall() == [
            ("billing", "Google Cloud", 1), ("fx", "EUR", 1), ("prices", "GOOGL", 1)]
    finally:
        reader.close()
