"""Loading rules: idempotence, replacement of restated periods, and bad input rejected file by file."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

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
