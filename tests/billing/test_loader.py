"""Loading rules: idempotence, replacement of restated periods, and bad input rejected file by file."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from etl.billing.base import LoadOptions

HEADER = ("BilledCost,EffectiveCost,ListCost,ContractedCost,BillingAccountId,BillingAccountName,BillingCurrency,"
          "BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ProviderName,"
          "InvoiceIssuerName,ServiceName,ServiceCategory")


def focus_row(cost: str, day: str, account: str = "A1", currency: str = "USD", period: str = "2025-06",
              service: str = "GPU Compute") -> str:
    start = f"{period}-01T00:00:00Z"
    year, month = map(int, period.split("-"))
    end = f"{year + month // 12}-{month % 12 + 1:02d}-01T00:00:00Z"
    return (f"{cost},{cost},{cost},{cost},{account},Acme,{currency},{start},{end},{day}T00:00:00Z,"
            f"{day}T01:00:00Z,Usage,CoreWeave,CoreWeave,{service},Compute")


def write(path: Path, *lines: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path



def billed(query, where: str = "true") -> Decimal:
    return query(f"SELECT coalesce(sum(BilledCost), 0) FROM cost WHERE {where}")[0][0]


def test_loading_the_same_file_twice_changes_nothing(load_billing, query, tmp_path):
    path = write(tmp_path / "june.csv", HEADER, focus_row("10.50", "2025-06-01"), focus_row("2.25", "2025-06-02"))
    [first] = load_billing(path)
    before = query("SELECT * FROM cost ORDER BY x_SourceLine")
    rollup = query("SELECT * FROM daily_spend ORDER BY ALL")
    [second] = load_billing(path)
    assert (first.status, second.status) == ("loaded", "unchanged")
    assert second.rows == 2 and second.message == f"same content as load {first.load_id}, still current"
    assert second.load_id != first.load_id  # its own load_log row
    assert query("SELECT * FROM cost ORDER BY x_SourceLine") == before
    assert query("SELECT * FROM daily_spend ORDER BY ALL") == rollup
    assert query("SELECT status FROM load_log ORDER BY load_id") == [("loaded",), ("unchanged",)]


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


def test_currencies_are_totalled_separately(load_billing, query, tmp_path):
    path = write(tmp_path / "mixed.csv", HEADER, focus_row("100.00", "2025-06-01", currency="USD"),
                 focus_row("50.00", "2025-06-01", account="A2", currency="NOK"))
    [result] = load_billing(path)
    assert {t.currency: t.billed for t in result.totals} == {"NOK": Decimal("50.00"), "USD": Decimal("100.00")}
    assert result.scope == [("CoreWeave", "A1"), ("CoreWeave", "A2")]
    assert query("SELECT [t.currency FOR t IN totals], [s.account FOR s IN scope] FROM load_log") == [
        (["NOK", "USD"], ["A1", "A2"])]


BAD_INPUTS = {
    "missing_column": (
        [HEADER.replace(",BillingCurrency", ""), "1,1,1,1,A1,Acme,2025-06-01,2025-07-01,2025-06-01,2025-06-02,Usage,"
         "CoreWeave,CoreWeave,GPU,Compute"],
        "missing required column(s) for the focus format: billingcurrency",
    ),
    "bad_number": (
        [HEADER, focus_row("1.00", "2025-06-01"), focus_row('"1,5"', "2025-06-02")],
        'line 3, column "BilledCost": "1,5" is not a number',
    ),
    "bad_date": (
        [HEADER, focus_row("1.00", "2025-06-01"), focus_row("1.00", "2025-06-31")],
        'line 3, column "ChargePeriodStart": "2025-06-31T00:00:00Z" is not a date/time',
    ),
    "ragged_row": (
        [HEADER, focus_row("1.00", "2025-06-01"), focus_row("1.00", "2025-06-02") + ",extra"],
        "line 3: expected 16 fields as in the header, found 17 (ragged row)",
    ),
    "unknown_currency": (
        [HEADER, focus_row("1.00", "2025-06-01", currency="USX")],
        'line 2, column "BillingCurrency": "USX" is not an ISO 4217 currency code',
    ),
    "header_only": ([HEADER], "no data rows after the header"),
    "no_known_format": (["Date,Amount,Account", "2025-06-01,5.00,A1"],
                        "no known billing format recognises this csv header (Date, Amount, Account)"),
    "missing_value": (
        [HEADER, focus_row("1.00", "2025-06-01").replace(",A1,", ",,")],
        'line 2, column "BillingAccountId": empty, but every row needs a value',
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_rejected_with_a_clear_error_and_other_files_still_load(case, load_billing, query, tmp_path):
    lines, expected = BAD_INPUTS[case]
    good_before = write(tmp_path / "a_good.csv", HEADER, focus_row("4.00", "2025-06-01", account="G1"))
    bad = write(tmp_path / f"b_{case}.csv", *lines)
    good_after = write(tmp_path / "c_good.csv", HEADER, focus_row("6.00", "2025-06-01", account="G2"))
    results = load_billing(good_before, bad, good_after)
    assert [r.status for r in results] == ["loaded", "failed", "loaded"]
    assert results[1].error.startswith(str(bad)), results[1].error
    assert expected in results[1].error
    assert query("SELECT count(*) FROM cost WHERE x_SourceFile = ?", [str(bad.resolve())]) == [(0,)]
    assert billed(query) == Decimal("10.00")
    assert query("SELECT status, error FROM load_log WHERE source = ?", [str(bad)]) == [("failed", results[1].error)]


def test_an_empty_file_is_rejected(load_billing, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    [result] = load_billing(empty)
    assert result.status == "failed"
    assert result.error == f"{empty}: the file is empty (0 bytes); expected a header line and data rows"


def test_a_failed_file_does_not_disturb_what_was_loaded_before(load_billing, query, tmp_path):
    june = write(tmp_path / "june.csv", HEADER, focus_row("10.00", "2025-06-01"))
    load_billing(june)
    broken_restatement = write(tmp_path / "june-v2.csv", HEADER, focus_row("99.00", "2025-06-01"),
                               focus_row("oops", "2025-06-02"))
    [result] = load_billing(broken_restatement)
    assert result.status == "failed"
    assert billed(query) == Decimal("10.00")
    assert query("SELECT count(*) FROM replace_unit") == [(1,)]


def test_line_numbers_follow_each_file_of_a_multi_file_export(load_billing, query, tmp_path):
    rows_a = [focus_row(f"{i}.00", "2025-06-01") for i in range(1, 4)]
    rows_b = [focus_row(f"{i}.50", "2025-06-02") for i in range(1, 3)]
    part_a = write(tmp_path / "export" / "part_0.csv", HEADER, *rows_a)
    part_b = write(tmp_path / "export" / "part_1.csv", HEADER, *rows_b)
    manifest = tmp_path / "export" / "manifest.json"
    manifest.write_text(json.dumps({"blobs": [{"blobName": "x/part_0.csv", "dataRowCount": 3},
                                              {"blobName": "x/part_1.csv", "dataRowCount": 2}]}))
    [result] = load_billing(manifest)
    assert result.status == "loaded" and result.rows == 5
    got = query("SELECT x_SourceFile, x_SourceLine, BilledCost FROM cost ORDER BY x_SourceFile, x_SourceLine")
    assert got == [(str(part_a.resolve()), 2, Decimal("1.00")), (str(part_a.resolve()), 3, Decimal("2.00")),
                   (str(part_a.resolve()), 4, Decimal("3.00")), (str(part_b.resolve()), 2, Decimal("1.50")),
                   (str(part_b.resolve()), 3, Decimal("2.50"))]


def test_a_bad_value_in_a_large_file_is_reported_at_its_exact_line(load_billing, tmp_path):
    rows = [focus_row("1.00", "2025-06-01")] * 5000
    rows[4321] = focus_row("1.00", "2025-06-01").replace(",USD,", ",US$,")  # caught when resolving currencies
    rows[2999] = focus_row("1.0O", "2025-06-01")  # caught while parsing, which then re-reads the file numbered
    [result] = load_billing(write(tmp_path / "big.csv", HEADER, *rows))
    assert 'line 3001, column "BilledCost": "1.0O" is not a number' in result.error
    rows[2999] = focus_row("1.00", "2025-06-01")
    [result] = load_billing(write(tmp_path / "big2.csv", HEADER, *rows))
    assert 'line 4323, column "BillingCurrency": "US$" is not an ISO 4217 currency code' in result.error


def test_mixed_line_endings_load_and_a_ragged_row_among_them_is_still_caught(load_billing, query, tmp_path):
    good = tmp_path / "mixed.csv"
    good.write_bytes(("\r\n".join([HEADER, focus_row("1.00", "2025-06-01"), focus_row("2.00", "2025-06-02")])
                      + "\n").encode())
    ragged = tmp_path / "mixed_ragged.csv"
    ragged.write_bytes(("\r\n".join([HEADER, focus_row("1.00", "2025-06-01"), focus_row("2.00", "2025-06-02")
                                     + ",extra"]) + "\n").encode())
    first, second = load_billing(good, ragged)
    assert first.status == "loaded" and first.rows == 2
    assert query("SELECT x_SourceLine, BilledCost FROM cost ORDER BY 1") == [(2, Decimal("1.00")),
                                                                          (3, Decimal("2.00"))]
    assert second.status == "failed"
    assert "line 3: expected 16 fields as in the header, found 17 (ragged row)" in second.error


def test_a_service_without_a_category_mapping_is_other_and_named(load_billing, query, cli, tmp_path):
    header = HEADER.replace(",ServiceCategory", "")
    path = write(tmp_path / "unmapped.csv", header, focus_row("1.00", "2025-06-01", service="Quantum Annealer")
                 .rsplit(",", 1)[0], focus_row("2.00", "2025-06-01", service="GPU Compute").rsplit(",", 1)[0])
    [result] = load_billing(path)
    assert query("SELECT ServiceName, ServiceCategory FROM cost ORDER BY 1") == [("GPU Compute", "Compute"),
                                                                               ("Quantum Annealer", "Other")]
    assert ("1 service(s) without a category mapping, counted as Other (CoreWeave Quantum Annealer)"
            in result.message)
    status = cli("status")
    assert "1 service(s) without a category mapping" in status.out and "Quantum Annealer" in status.out
