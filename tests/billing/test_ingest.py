"""Reading rows fast (staged in parallel) while still naming the exact line of a bad value."""

from __future__ import annotations

import json
from decimal import Decimal

import duckdb

from etl.billing.base import LoadOptions
from etl.billing.loader import load_sources
from etl.billing.sources import expand_paths
from tests.billing.test_loader import HEADER, focus_row, write


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


def test_no_staged_rows_are_left_behind(warehouse, tmp_path):
    sources, _ = expand_paths([str(write(tmp_path / "a_ok.csv", HEADER, focus_row("1.00", "2025-06-01"))),
                               str(write(tmp_path / "b_bad.csv", HEADER, focus_row("x", "2025-06-01")))])
    with warehouse.write("test") as session:
        assert [r.status for r in load_sources(session, sources, LoadOptions())] == ["loaded", "failed"]
        assert session.con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'staged_rows'"
                                   ).fetchone() == (0,)


def test_line_numbers_follow_a_file_read_in_parallel_chunks(load_billing, query, tmp_path):
    # ~36 MB: DuckDB's CSV reader splits it into several chunks read by different threads, and each row's line
    # comes from the row id its row took in the one parallel insert; the cost of every row encodes its line
    rows = [focus_row(f"{line}.00", "2025-06-01") for line in range(2, 200_002)]
    [result] = load_billing(write(tmp_path / "large.csv", HEADER, *rows))
    assert result.status == "loaded" and result.rows == 200_000
    assert query("SELECT count(*), count(*) FILTER (WHERE BilledCost = x_SourceLine), min(x_SourceLine), "
                 "max(x_SourceLine) FROM cost") == [(200_000, 200_000, 2, 200_001)]


def test_a_parquet_file_inserted_out_of_order_keeps_every_line(load_billing, query, tmp_path):
    # a Parquet load does not keep insertion order (its lines come from file_row_number): with many row groups read
    # by several threads each row must still carry its own line; the cost of every row encodes its line
    rows = [focus_row(f"{line}.00", "2025-06-01") for line in range(1, 200_001)]
    csv = write(tmp_path / "large.csv", HEADER, *rows)
    parquet = tmp_path / "large.parquet"
    duckdb.sql(f"COPY (SELECT * FROM read_csv('{csv}', all_varchar = true)) TO '{parquet}' "
               "(FORMAT parquet, ROW_GROUP_SIZE 10000)")
    [result] = load_billing(parquet)
    assert result.status == "loaded" and result.rows == 200_000
    assert query("SELECT count(*), count(*) FILTER (WHERE BilledCost = x_SourceLine), min(x_SourceLine), "
                 "max(x_SourceLine) FROM cost") == [(200_000, 200_000, 1, 200_000)]


def test_the_default_writer_memory_lets_duckdb_insert_a_load_on_two_threads(warehouse):
    """DuckDB's ordered (batch) insert budgets 4 MiB per column of the target table per thread, and adds a thread
    only when a quarter of ``memory_limit`` covers it: measured with the 47-column ``cost_line``, one thread at
    768MB, two at 800MB. A migration that widens ``cost_line`` past what the default allows would silently put
    every CSV and JSON load back on one core (as the three commitment columns did at 768MB), so it must raise
    the default with it (README, "Ingest performance")."""
    with warehouse.write("test") as session:
        columns = len(session.con.execute("DESCRIBE cost_line").fetchall())
        default = session.con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    limit_mib = float(default.split()[0]) * {"MiB": 1, "GiB": 1024}[default.split()[1]]
    assert limit_mib / 4 >= 4 * columns, f"{default} is too little for {columns} columns on two threads"
