"""``python -m etl export``: the lake read back by pyarrow (not SpendScope's code path) reconciles with the warehouse;
only changed partitions are rewritten; a failed export leaves the previous partition in place; ``run`` exports."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pytest

import etl.lake.export
from etl.lake.export import LOCK, MANIFEST
from tests.billing.test_loader import HEADER, focus_row, write
from tests.conftest import FIXTURES, run_process
from tests.helpers import read_csv_rows, table_rows
from tests.test_run import NO_MARKETS, raw_billed, write_config

BILLING = FIXTURES / "billing"
FOCUS = BILLING / "focus" / "focus_1_2_two_providers.csv"  # CoreWeave and Google Cloud, USD and EUR
GCP = BILLING / "gcp" / "gcp_billing_export_v1_standard.jsonl"  # Google Cloud, two invoice months
AZURE = BILLING / "azure" / "ea_2024-08-01_eur.csv"
AWS = BILLING / "aws" / "cur_athena_2025-04.csv"


def lake_rows(lake: Path) -> tuple[pa.Schema, list[dict]]:
    """Every row of the lake as pyarrow's Hive-partitioned dataset reads it (partition keys as columns)."""
    table = ds.dataset(lake, format="parquet", partitioning="hive").to_table()
    return table.schema, table.to_pylist()


def per_partition(rows: list[dict]) -> dict[tuple[str, date, str], tuple[int, Decimal, Decimal]]:
    """Rows, BilledCost and EffectiveCost per provider, billing period and currency, added up in Python."""
    totals: dict[tuple[str, date, str], tuple[int, Decimal, Decimal]] = {}
    for row in rows:
        key = (row["ServiceProviderName"], row["BillingPeriodStart"].date(), row["BillingCurrency"])
        count, billed, effective = totals.get(key, (0, Decimal(0), Decimal(0)))
        totals[key] = (count + 1, billed + row["BilledCost"], effective + row["EffectiveCost"])
    return totals


def warehouse_per_partition(query) -> dict[tuple[str, date, str], tuple[int, Decimal, Decimal]]:
    rows = query("SELECT ServiceProviderName, CAST(BillingPeriodStart AS DATE), BillingCurrency, count(*), "
                 "sum(BilledCost), sum(EffectiveCost) FROM cost GROUP BY ALL")
    return {(provider, period, currency): (count, billed, effective)
            for provider, period, currency, count, billed, effective in rows}


def files(lake: Path) -> dict[str, tuple[int, int]]:
    """Every Parquet file of the lake with its inode and modification time."""
    return {str(path.relative_to(lake)): (path.stat().st_ino, path.stat().st_mtime_ns)
            for path in lake.rglob("*.parquet")}


def test_the_lake_read_by_pyarrow_reconciles_with_the_warehouse_to_the_cent(load_billing, cli, query, tmp_path):
    assert all(record.status == "loaded" for record in load_billing(FOCUS, GCP, AZURE, AWS))
    lake = tmp_path / "lake"
    result = cli("export", "--to", str(lake))
    assert result.code == 0, result.out
    schema, rows = lake_rows(lake)

    # per provider, billing period and currency: the same rows and Decimal totals as the warehouse
    expected = warehouse_per_partition(query)
    assert per_partition(rows) == expected
    assert {provider for provider, _, _ in expected} == {"AWS", "CoreWeave", "Google Cloud", "Microsoft"}
    assert {currency for _, _, currency in expected} == {"USD", "EUR"}
    # and the FOCUS file's own totals, read with the csv module, survive the trip
    focus_rows = [row for row in rows if row["x_SourceFile"] == str(FOCUS.resolve())]
    for currency, billed in raw_billed(FOCUS).items():
        assert sum(r["BilledCost"] for r in focus_rows if r["BillingCurrency"] == currency) == billed

    # FOCUS names and types: every column of the cost view, costs DECIMAL(38,12), timestamps UTC, Tags JSON text
    columns = [name for name, *_ in query("DESCRIBE cost")]
    assert schema.names == [*columns, "provider", "billing_period"]
    for name in ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost"):
        assert schema.field(name).type == pa.decimal128(38, 12)
    assert schema.field("ChargePeriodStart").type == pa.timestamp("us", tz="UTC")
    assert schema.field("Tags").type == pa.string() and schema.field("x_LoadId").type == pa.int64()

    # every row, every column, as the warehouse holds it (timestamps compared as naive UTC)
    def as_stored(row: dict) -> tuple:
        return tuple(value.astimezone(UTC).replace(tzinfo=None) if isinstance(value, datetime) else value
                     for name, value in row.items() if name in columns)
    assert sorted(map(as_stored, rows), key=repr) == sorted(query("SELECT * FROM cost"), key=repr)

    # the partition keys: the provider's slug and the billing period's first day, encoded the same everywhere
    assert {(row["provider"], row["billing_period"]) for row in rows if row["ServiceProviderName"] == "Google Cloud"} \
        == {("google-cloud", "2025-03-01"), ("google-cloud", "2025-06-01")}
    assert all(row["billing_period"] == row["BillingPeriodStart"].date().isoformat() for row in rows)
    assert sorted(files(lake)) == [
        "provider=aws/billing_period=2025-04-01/part-0.parquet",
        "provider=coreweave/billing_period=2025-06-01/part-0.parquet",
        "provider=google-cloud/billing_period=2025-03-01/part-0.parquet",
        "provider=google-cloud/billing_period=2025-06-01/part-0.parquet",
        "provider=microsoft/billing_period=2024-07-01/part-0.parquet"]
    # beside the partitions only the manifest and the lock file, named so that engines skip them; no staging left
    assert sorted(p.name for p in lake.iterdir() if not p.name.startswith("provider=")) == sorted([LOCK, MANIFEST])

    # the manifest and the printed table carry the same totals
    manifest = json.loads((lake / MANIFEST).read_text())["partitions"]
    google = manifest["provider=google-cloud/billing_period=2025-06-01"]
    assert google["ServiceProviderName"] == "Google Cloud" and google["rows"] == expected[
        ("Google Cloud", date(2025, 6, 1), "USD")][0] + expected[("Google Cloud", date(2025, 6, 1), "EUR")][0]
    assert {t["currency"]: Decimal(t["billed"]) for t in google["totals"]} == {
        currency: expected[("Google Cloud", date(2025, 6, 1), currency)][1] for currency in ("USD", "EUR")}
    printed = {row["partition"]: row for row in table_rows(result.out, "partition")}
    assert {row["status"] for row in printed.values()} == {"written"}
    assert result.out.splitlines()[-1] == f"export: 5 partitions: 5 written, 0 unchanged; {len(rows)} rows written " \
                                          f"to {lake}"


def test_a_reexport_rewrites_only_the_reloaded_period_and_keeps_a_vanished_one(load_billing, cli, query,
                                                                                warehouse, tmp_path):
    june = write(tmp_path / "june.csv", HEADER, focus_row("10.00", "2025-06-01"), focus_row("2.50", "2025-06-02"))
    july = write(tmp_path / "july.csv", HEADER, focus_row("7.00", "2025-07-03", period="2025-07"))
    load_billing(june, july, GCP)
    lake = tmp_path / "lake"
    assert cli("export", "--to", str(lake)).code == 0
    before = files(lake)
    assert len(before) == 4

    # nothing changed: nothing is rewritten
    again = cli("export", "--to", str(lake))
    assert again.out.splitlines()[-1] == f"export: 4 partitions: 0 written, 4 unchanged; 0 rows written to {lake}"
    assert files(lake) == before

    # a restated June (a newer export of the same account and period) replaces June's partition only
    restated = write(tmp_path / "june-restated.csv", HEADER, focus_row("11.25", "2025-06-01"),
                     focus_row("2.50", "2025-06-02"))  # as many rows as before
    assert [r.status for r in load_billing(restated)] == ["loaded"]
    result = cli("export", "--to", str(lake))
    assert result.code == 0
    statuses = {row["partition"]: row["status"] for row in table_rows(result.out, "partition")}
    june_path = "provider=coreweave/billing_period=2025-06-01"
    assert statuses.pop(june_path) == "written" and set(statuses.values()) == {"unchanged"}
    after = files(lake)
    assert after.keys() == before.keys()
    assert [name for name in after if after[name] != before[name]] == [f"{june_path}/part-0.parquet"]
    _, rows = lake_rows(lake)
    assert per_partition(rows) == warehouse_per_partition(query)
    june_rows = [row for row in rows if row["billing_period"] == "2025-06-01" and row["provider"] == "coreweave"]
    assert sorted(row["BilledCost"] for row in june_rows) == [Decimal("2.50"), Decimal("11.25")]

    # July's rows leave the warehouse: its partition is kept as it was, and reported
    with warehouse.write("test") as session, session.transaction() as con:
        con.execute("DELETE FROM cost_line WHERE BillingPeriodStart = '2025-07-01'")
    result = cli("export", "--to", str(lake))
    assert result.code == 0
    july_path = "provider=coreweave/billing_period=2025-07-01"
    assert {row["partition"]: row["status"] for row in table_rows(result.out, "partition")}[july_path] == \
        "kept: no longer in the warehouse"
    assert "1 kept (no longer in the warehouse)" in result.out.splitlines()[-1]
    assert files(lake) == after
    # deleting the kept folder is how a person drops it: the next export forgets it
    shutil.rmtree(lake / july_path)
    result = cli("export", "--to", str(lake))
    assert result.out.splitlines()[-1] == f"export: 3 partitions: 0 written, 3 unchanged; 0 rows written to {lake}"
    assert july_path not in json.loads((lake / MANIFEST).read_text())["partitions"]


def test_a_failed_rename_leaves_the_previous_partition_in_place(load_billing, cli, query, tmp_path, monkeypatch):
    june = write(tmp_path / "june.csv", HEADER, focus_row("10.00", "2025-06-01"))
    load_billing(june, GCP)
    lake = tmp_path / "lake"
    assert cli("export", "--to", str(lake)).code == 0
    before, manifest = files(lake), (lake / MANIFEST).read_text()
    load_billing(write(tmp_path / "june-restated.csv", HEADER, focus_row("99.00", "2025-06-01")))

    rename = etl.lake.export.os.rename

    def failing_rename(source, target) -> None:
        if "/data/" in str(source):  # moving the new partition in, after the old one was moved away
            raise OSError(28, "No space left on device")
        rename(source, target)

    monkeypatch.setattr(etl.lake.export.os, "rename", failing_rename)
    result = cli("export", "--to", str(lake))
    assert result.code == 1
    assert "error: export failed, the lake's partitions are as they were: [Errno 28] No space left on device" \
        in result.out
    assert files(lake) == before  # the old folder was renamed back: same files, same inodes
    assert (lake / MANIFEST).read_text() == manifest
    assert not list(lake.glob("_staging-*"))
    _, rows = lake_rows(lake)
    assert [r["BilledCost"] for r in rows if r["provider"] == "coreweave"] == [Decimal("10.00")]

    monkeypatch.setattr(etl.lake.export.os, "rename", rename)
    result = cli("export", "--to", str(lake))  # the next export writes what the failed one could not
    assert "export: 3 partitions: 1 written, 2 unchanged; 1 rows written" in result.out
    _, rows = lake_rows(lake)
    assert per_partition(rows) == warehouse_per_partition(query)


def test_export_filters_by_provider_and_period_and_refuses_what_matches_nothing(load_billing, cli, tmp_path):
    load_billing(FOCUS, GCP)
    lake = tmp_path / "lake"
    result = cli("export", "--to", str(lake), "--provider", "Google Cloud", "--period", "2025-06")
    assert result.code == 0
    assert sorted(files(lake)) == ["provider=google-cloud/billing_period=2025-06-01/part-0.parquet"]
    nothing = cli("export", "--to", str(lake), "--provider", "Google", "--since", "2025-01")
    assert nothing.code == 1
    assert nothing.out.strip() == "error: no cost rows match --provider/--period/--since; nothing was exported"
    with pytest.raises(SystemExit) as usage:
        cli("export", "--to", str(lake), "--period", "2025-6-1")
    assert usage.value.code == 2


def test_run_exports_the_published_warehouse_to_the_configured_lake(tmp_path):
    sources = [BILLING / "focus" / "focus_1_3_renames.csv", BILLING / "oci"]  # USD only: no FX needed
    lake = tmp_path / "lake"
    config = write_config(tmp_path, *(f'path = "{p}"' for p in sources),
                          extra=f'db = "{tmp_path / "warehouse.duckdb"}"\n[export]\nlake_dir = "{lake}"\n'
                                f'{NO_MARKETS}')
    first = run_process(["--config", str(config), "run"], cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    steps = {row["step"]: row for row in table_rows(first.stdout, "step")}
    assert steps["export"]["status"] == "ok"
    expected_rows = sum(len(read_csv_rows(f)) for f in [sources[0], *sorted(sources[1].glob("*.csv"))])
    assert steps["export"]["what"].endswith(f"; {expected_rows} rows written to {lake}")
    assert " INFO etl.run: step export ok in " in first.stderr
    _, rows = lake_rows(lake)
    assert len(rows) == expected_rows
    assert {row["provider"] for row in rows} == {"coreweave", "oracle"}

    second = run_process(["--config", str(config), "run"], cwd=tmp_path)
    assert second.returncode == 0, second.stdout + second.stderr
    what = {row["step"]: row for row in table_rows(second.stdout, "step")}["export"]["what"]
    partitions = len({(row["provider"], row["billing_period"]) for row in rows})
    assert what == f"{partitions} partitions: 0 written, {partitions} unchanged; 0 rows written to {lake}"


def test_two_provider_names_with_one_slug_are_refused_before_anything_is_written(load_billing, cli, tmp_path):
    rows = [focus_row("1.00", "2025-06-01").replace(",CoreWeave,CoreWeave,", ",Core Weave,Core Weave,"),
            focus_row("2.00", "2025-06-01", account="A2").replace(",CoreWeave,CoreWeave,", ",core-weave,core-weave,")]
    load_billing(write(tmp_path / "weave.csv", HEADER, *rows))
    lake = tmp_path / "lake"
    result = cli("export", "--to", str(lake))
    assert result.code == 1
    assert ("error: export failed, the lake's partitions are as they were: providers 'Core Weave' and 'core-weave' "
            "would share the lake folder provider=core-weave; rename one with the providers.aliases setting"
            in result.out)
    assert files(lake) == {} and not (lake / MANIFEST).exists()
