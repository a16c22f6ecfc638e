"""Replace units: a newer export replaces what it restates, an older one is superseded, file scope keeps files."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from etl.billing import units
from etl.billing.base import LoadOptions
from etl.billing.sources import Source
from tests.billing.test_compile import plan_for
from tests.billing.test_loader import HEADER, billed, focus_row, write


def test_the_replace_key_is_the_period_or_the_file_name(tmp_path):
    path = write(tmp_path / "june.csv", HEADER, focus_row("1", "2025-06-01"))
    source, _, plan = plan_for(path)
    assert units.replace_key_sql(plan, source).startswith("concat_ws('|', 'period', ServiceProviderName, ")
    _, _, by_file = plan_for(path, LoadOptions(replace="file"))
    assert units.replace_key_sql(by_file, source) == "'file|june.csv'"


def test_an_export_time_of_the_source_fills_rows_without_one():
    source = Source("m.json", (Path("x.csv"),), "csv")
    assert units.export_time_sql(source) == "n.x_ExportTime"
    timed = Source("m.json", (Path("x.csv"),), "csv", export_time=datetime(2025, 6, 20, 6, 0, tzinfo=UTC))
    assert units.export_time_sql(timed) == "coalesce(n.x_ExportTime, TIMESTAMP '2025-06-20 06:00:00')"


def test_newer_export_of_a_period_replaces_it_and_leaves_other_periods(load_billing, query, tmp_path):
    may = write(tmp_path / "may.csv", HEADER, focus_row("7.00", "2025-05-31", period="2025-05"))
    june_mtd = write(tmp_path / "june-mtd.csv", HEADER, focus_row("10.00", "2025-06-01"))
    june_full = write(tmp_path / "june-final.csv", HEADER, focus_row("11.00", "2025-06-01"),
                      focus_row("3.00", "2025-06-02"))
    load_billing(may, june_mtd)
    assert billed(query) == Decimal("17.00")
    [result] = load_billing(june_full)
    assert result.status == "loaded" and result.rows == 2
    assert billed(query, "BillingPeriodStart = '2025-06-01'") == Decimal("14.00")
    assert billed(query, "BillingPeriodStart = '2025-05-01'") == Decimal("7.00")
    assert query("SELECT DISTINCT x_SourceFile FROM cost WHERE BillingPeriodStart = '2025-06-01'") == [
        (str(june_full.resolve()),)]
    assert query("SELECT date, billed_cost FROM daily_spend ORDER BY date") == [
        (date(2025, 5, 31), Decimal("7.00")), (date(2025, 6, 1), Decimal("11.00")), (date(2025, 6, 2), Decimal("3.00"))]


def test_a_restatement_replaces_only_its_own_account(load_billing, query, tmp_path):
    both = write(tmp_path / "both.csv", HEADER, focus_row("1.00", "2025-06-01", account="A1"),
                 focus_row("2.00", "2025-06-01", account="A2"))
    restated = write(tmp_path / "a2.csv", HEADER, focus_row("5.00", "2025-06-01", account="A2"))
    load_billing(both, restated)
    assert dict(query("SELECT BillingAccountId, sum(BilledCost) FROM cost GROUP BY 1")) == {
        "A1": Decimal("1.00"), "A2": Decimal("5.00")}


def test_an_older_export_loaded_later_is_superseded(load_billing, query, tmp_path):
    def manifest_export(folder: str, submitted: str, cost: str) -> Path:
        data = write(tmp_path / folder / "part_0_0001.csv", HEADER, focus_row(cost, "2025-06-01"))
        manifest = tmp_path / folder / "manifest.json"
        manifest.write_text(json.dumps({
            "runInfo": {"submittedTime": submitted},
            "blobs": [{"blobName": f"exports/{folder}/{data.name}", "dataRowCount": 1}],
        }), encoding="utf-8")
        return manifest

    newer = manifest_export("run2", "2025-06-20T06:00:00Z", "20.00")
    older = manifest_export("run1", "2025-06-10T06:00:00Z", "10.00")
    first, second = load_billing(newer, older)
    assert first.status == "loaded"
    assert second.status == "superseded" and second.rows == 0
    assert "2025-06-01" in second.message
    assert billed(query) == Decimal("20.00")


def test_file_scope_keeps_every_incremental_file_of_a_period(load_billing, query, tmp_path):
    part1 = write(tmp_path / "cost_0001.csv", HEADER, focus_row("1.00", "2025-06-01"))
    part2 = write(tmp_path / "cost_0002.csv", HEADER, focus_row("2.00", "2025-06-02"))
    load_billing(part1, part2, options=LoadOptions(replace="file"))
    assert billed(query) == Decimal("3.00")
