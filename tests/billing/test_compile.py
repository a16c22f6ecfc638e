"""Compiling a plan into SQL: placeholders, mandatory columns, and the statement DuckDB runs."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.csv
import pyarrow.parquet as pq
import pytest

from etl.billing import compile as compiler
from etl.billing import registry
from etl.billing.base import LoadOptions
from etl.billing.sources import file_source, read_header
from tests.billing.test_loader import HEADER, focus_row, write


def plan_for(path: Path, options: LoadOptions | None = None):
    source = file_source(path)
    header = read_header(source)
    adapter = registry.choose(header.columns, source.kind, options or LoadOptions())
    return source, header, adapter.plan(header, options or LoadOptions(), source)


def test_a_derived_placeholder_becomes_its_expression_over_quoted_fields(tmp_path):
    _, _, plan = plan_for(write(tmp_path / "a.csv", "lineItem/intervalUsageStart,cost/myCost,lineItem/tenantId,"
                                "product/service,cost/currencyCode,lineItem/intervalUsageEnd,tags/team",
                                "2025-06-01T00:00Z,1,t,COMPUTE,USD,2025-06-01T01:00Z,ml"))
    assert plan.format == "oci" and "tags" in plan.derived
    expanded = compiler.expand("{tags}", plan)
    assert expanded.startswith("(CAST(nullif('{' || concat_ws(',', CASE WHEN \"tag_0\" <> ''")
    assert compiler.expand("{cost} + 1", plan) == '"cost" + 1'


def test_an_unknown_placeholder_is_a_programming_error_naming_the_adapter(tmp_path):
    _, _, plan = plan_for(write(tmp_path / "f.csv", HEADER, focus_row("1", "2025-06-01")))
    with pytest.raises(RuntimeError, match=r"adapter focus refers to \{nope\}"):
        compiler.expand("{nope}", plan)


def test_mandatory_columns_are_checked_row_by_row_and_unmapped_ones_are_null(tmp_path):
    _, _, plan = plan_for(write(tmp_path / "f.csv", HEADER, focus_row("1", "2025-06-01")))
    assert compiler.focus_expr("BilledCost", plan) == "ss_required(\"billed\", x_line, 'BilledCost')"
    assert compiler.focus_expr("x_PricingModel", plan) == "NULL"  # FOCUS files carry PricingCategory itself


def normalised(warehouse, path: Path, numbered: bool = True) -> list[tuple]:
    source, header, plan = plan_for(path)
    sql = compiler.normalised_select(source, header.columns, plan, numbered=numbered)
    with warehouse.write("test") as session:  # the macros live in the warehouse
        return session.con.execute(f"SELECT x_line, BilledCost, BillingCurrency, ServiceName FROM ({sql}) "
                                   "ORDER BY x_line").fetchall()


def test_the_normalised_select_parses_and_numbers_the_rows(warehouse, tmp_path):
    path = write(tmp_path / "f.csv", HEADER, focus_row("1.50", "2025-06-01"), focus_row("2.25", "2025-06-02"))
    assert normalised(warehouse, path) == [(2, Decimal("1.5"), "USD", "GPU Compute"),
                                           (3, Decimal("2.25"), "USD", "GPU Compute")]
    assert {row[0] for row in normalised(warehouse, path, numbered=False)} == {0}  # the cheap parallel read


def test_a_bad_value_raises_the_checked_macros_error_with_its_line(warehouse, tmp_path):
    path = write(tmp_path / "f.csv", HEADER, focus_row("1.50", "2025-06-01"), focus_row("one", "2025-06-02"))
    with pytest.raises(Exception, match=r'line 3, column "BilledCost": "one" is not a number'):
        normalised(warehouse, path)


def test_empty_text_in_a_parquet_file_reads_as_null_as_in_a_csv(warehouse, tmp_path):
    csv = write(tmp_path / "f.csv", HEADER, focus_row("1.50", "2025-06-01"))
    table = pa.csv.read_csv(csv, convert_options=pa.csv.ConvertOptions(column_types={
        name: pa.string() for name in HEADER.split(",")}))
    table = table.set_column(table.schema.get_field_index("ServiceCategory"), "ServiceCategory",
                             pa.array([""], pa.string()))
    parquet = tmp_path / "f.parquet"
    pq.write_table(table, parquet)
    source, header, plan = plan_for(parquet)
    sql = compiler.normalised_select(source, header.columns, plan, numbered=True)
    with warehouse.write("test") as session:
        assert session.con.execute(f"SELECT x_line, ServiceCategory FROM ({sql})").fetchall() == [(1, None)]
