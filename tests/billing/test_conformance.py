"""Conformance of every billing fixture, the project's own and the real ones in ../shared/fixtures/billing.

Each file that must load is loaded and checked against the raw file, through ``tests/billing/reference.py``
(plain Python, never DuckDB or project code): per-currency BilledCost, EffectiveCost, ListCost and ContractedCost
to the cent and within 1e-9, the row count, the FOCUS mandatory columns filled on every row, and a second load of
the same bytes reported ``unchanged`` without changing anything. Each broken file, the real broken ones and a
variant of each own fixture with one bad value at a known line, must fail with an error naming the file, and the
line and the column where the problem has them, and leave nothing in the warehouse. A fixture without an entry
here fails the coverage tests.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import shutil
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from etl.billing.base import LoadOptions
from etl.billing.sources import expand_paths
from tests.billing.reference import azure_name, file_totals, lower, manifest_files, reference
from tests.conftest import FIXTURES, REPO
from tests.helpers import Totals, by_measure, close, loaded_totals

OWN = FIXTURES / "billing"
MAPPING = REPO / "examples" / "mappings" / "coreweave_invoice.toml"
AZURE_EXPORT = "azure/partitioned/ea-daily/20240601-20240630/202407010615/6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b"

# FOCUS columns every row must fill: the columns FOCUS 1.2 makes mandatory and non-null that the `cost` view
# carries (README, "View cost"), ServiceCategory and ChargeCategory included, and the row's provenance.
MANDATORY = (
    "BillingAccountId", "BillingCurrency", "BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart",
    "ChargePeriodEnd", "ChargeCategory", "BilledCost", "EffectiveCost", "ListCost", "ContractedCost",
    "ServiceProviderName", "InvoiceIssuerName", "ServiceName", "ServiceCategory",
    "x_SourceFormat", "x_SourceFile", "x_SourceLine", "x_LoadId",
)
MEASURES = ("billed", "effective", "list_cost", "contracted")


@dataclass(frozen=True)
class Loads:
    """A fixture that loads: its format, whose reference computes the expected totals, and the options it needs."""

    format: str
    options: LoadOptions = field(default_factory=LoadOptions)


@dataclass(frozen=True)
class Broken:
    """A fixture broken in itself: loading it fails with an error that names it and contains ``message``."""

    message: str


NO_CURRENCY = 'missing required column(s) for the azure format: BillingCurrencyCode or BillingCurrency or Currency'
USD = LoadOptions(currency="USD")

# A key is "own/<file under tests/fixtures/billing>" or "shared/<file under ../shared/fixtures/billing>", followed
# by " --option value" for a variant loaded with that option.
CASES: dict[str, Loads | Broken] = {
    "own/aws/cur_legacy_2025-03.csv": Loads("aws"),
    "own/aws/cur_athena_2025-04.csv": Loads("aws"),
    "own/aws/cur2/BILLING_PERIOD=2025-05/spendscope-cur2-00001.csv.gz": Loads("aws"),
    "own/aws/cur2/BILLING_PERIOD=2025-05/spendscope-cur2-00001.snappy.parquet": Loads("aws"),
    "own/azure/c360_detail_202309.csv": Loads("azure"),
    "own/azure/ea_2019-10-01_no_currency.csv": Broken(NO_CURRENCY),
    "own/azure/ea_2019-10-01_no_currency.csv --currency USD": Loads("azure", USD),
    "own/azure/ea_2020-01-01_usd.csv": Loads("azure"),
    "own/azure/ea_2021-10-01_gbp.csv": Loads("azure"),
    "own/azure/ea_2024-08-01_eur.csv": Loads("azure"),
    "own/azure/mca_2019-10-01_pascal.csv": Loads("azure"),
    "own/azure/mca_camel_202408.csv": Loads("azure"),
    "own/azure/mpa_partner_202102.csv": Loads("azure"),
    "own/azure/pair/ea_actualcost_202407.csv": Loads("azure"),
    "own/azure/pair/ea_amortizedcost_202407.csv": Loads("azure"),
    f"own/{AZURE_EXPORT}/manifest.json": Loads("azure"),
    "own/azure/payg_2019-11-01.csv": Loads("azure"),
    "own/azure/payg_localised_de.csv": Loads("azure"),
    "own/focus/focus_1_0_commitments.csv": Loads("focus"),
    "own/focus/focus_1_2_two_providers.csv": Loads("focus"),
    "own/focus/focus_1_3_renames.csv": Loads("focus"),
    "own/gcp/gcp_billing_export_resource_v1_detailed.jsonl": Loads("gcp"),
    "own/gcp/gcp_billing_export_v1_standard.jsonl": Loads("gcp"),
    "own/gcp/gcp_flattened_detailed_json_lists.csv": Loads("gcp"),
    "own/gcp/gcp_flattened_python_literals.csv": Loads("gcp"),
    "own/generic/coreweave_invoice_2025-06.csv --mapping coreweave_invoice.toml": Loads(
        "generic", LoadOptions(format="generic", mapping=str(MAPPING))),
    "own/oci/reports_cost-csv_0001000000120001_older.csv": Loads("oci"),
    "own/oci/reports_cost-csv_0001000000123456.csv": Loads("oci"),
    "shared/focus-sample-data/focus_sample.csv": Loads("focus"),
    "shared/focus-spec-examples/virtual_currency_pricing_model_a2.csv": Loads("focus"),
    "shared/finops-toolkit/EA_ActualCost_Small.csv": Loads("azure"),
    "shared/finops-toolkit/EA_AmortizedCost_Small.csv": Loads("azure"),
    "shared/focus-converters/sample-anonymous-ea-export-dataset.csv": Loads("azure"),
    "shared/koku/camel_azure_version_2.csv": Loads("azure"),
    "shared/opencost/German.csv": Loads("azure"),
    "shared/opencost/BOM.csv": Broken('line 2, column "PreTaxCost": empty, but every row needs a value'),
    "shared/opencost/MissingBrackets.csv": Broken(NO_CURRENCY),
    "shared/opencost/MissingBrackets.csv --currency USD": Loads("azure", USD),
    "shared/koku/manifest.json": Broken(
        "blobs[0] 'cost/partitioned/20230101-20230131/202301041442/73746dc5-5dcc-4b83-b340-bb1bd2b1ca30/000001.csv'"
        " (490 rows) was not found next to the manifest; download every file of the export"),
    "shared/focus-converters/sample-anonymous-aws-export-dataset.csv": Loads("aws"),
    "shared/koku/2023-06-01.csv": Loads("aws"),
    "shared/koku/2022-07-01-alt-columns.csv": Loads("aws"),
    "shared/koku/evidence-2020-11-16.csv": Loads("gcp"),
    "shared/koku/2022-08-01_5.csv": Loads("gcp"),
    "shared/focus-converters/reports_cost-csv_0000000030000269.csv": Loads("oci"),
}
# Files of the own fixtures that are not billing data: the script that wrote the CUR 2.0 files.
NOT_DATA = {"aws/build_cur2.py"}

LOADS = sorted(key for key, case in CASES.items() if isinstance(case, Loads))
BROKEN = sorted(key for key, case in CASES.items() if isinstance(case, Broken))
OWN_LOADS = [key for key in LOADS if key.startswith("own/")]


def case_id(key: str) -> str:
    """A short test id (pytest numbers ids longer than 100 characters instead)."""
    return key.replace(AZURE_EXPORT, "azure/partitioned")


def case_path(key: str, request: pytest.FixtureRequest) -> Path:
    """The file of a case; a shared one skips (through the ``shared_billing`` fixture) when ../shared is absent."""
    root, _, rest = key.partition("/")
    folder = OWN if root == "own" else request.getfixturevalue("shared_billing")
    return folder / rest.split(" --")[0]


def expected_totals(key: str, path: Path) -> dict[str, Totals]:
    case = CASES[key]
    return file_totals(reference(case.format, case.options.currency, case.options.mapping), path)


def files_of(folder: Path, keys: list[str]) -> tuple[set[str], set[str]]:
    """(the files below ``folder``, the files the cases name, a manifest's data files included)."""
    present = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}
    named = {key.split(" --")[0] for key in keys}
    listed = {str(part.relative_to(folder)) for name in named if name.endswith("manifest.json")
              for part in manifest_files(folder / name) if part.exists()}
    return present, named | listed


# ---- coverage ----------------------------------------------------------------------------------------------------


def test_every_own_billing_fixture_has_a_case():
    present, covered = files_of(OWN, [key.removeprefix("own/") for key in CASES if key.startswith("own/")])
    assert present - NOT_DATA == covered


def test_every_shared_billing_file_has_a_case(shared_billing):
    present, covered = files_of(shared_billing, [key.removeprefix("shared/") for key in CASES
                                                 if key.startswith("shared/")])
    assert present - {"SOURCES.md"} == covered


# Totals worked out by hand from the fixtures, so that a reference cannot drift along with the engine.
HAND_COUNTED = {
    ("own/aws/cur_legacy_2025-03.csv", "USD"): Totals(15, Decimal("747.550272"), Decimal("135.812072"),
                                                      Decimal("747.881872"), Decimal("747.550272")),
    ("own/aws/cur2/BILLING_PERIOD=2025-05/spendscope-cur2-00001.snappy.parquet", "USD"): Totals(
        8, Decimal("50.2037"), Decimal("8.7137"), Decimal("50.5485"), Decimal("50.2037")),
    # 4.2 + 0.9; list 1.75 x (3 + 1.5); contracted 1.4 x (3 + 1.5)
    ("own/azure/ea_2021-10-01_gbp.csv", "GBP"): Totals(2, Decimal("5.1"), Decimal("5.1"), Decimal("7.875"),
                                                      Decimal("6.3")),
    # 1234.56 + 12.34 - 100.00; list 1500.00 + 12.34 - 100.00
    ("own/focus/focus_1_2_two_providers.csv", "USD"): Totals(3, Decimal("1146.90"), Decimal("1146.90"),
                                                            Decimal("1412.34"), Decimal("1146.90")),
    # 250.10 + 0.005; effective 240.00 + 0.005; list 260.00 + 0.005
    ("own/focus/focus_1_2_two_providers.csv", "EUR"): Totals(2, Decimal("250.105"), Decimal("240.005"),
                                                            Decimal("260.005"), Decimal("250.105")),
    # (0.304 - 0.25 - 0.000005) + (1.5 - 1.0) + 0 + (0.1 - 0.1); no cost_at_list: list = 0.304 + 1.5 + 0.1
    ("own/gcp/gcp_flattened_python_literals.csv", "USD"): Totals(4, Decimal("0.553995"), Decimal("0.553995"),
                                                                Decimal("1.904"), Decimal("1.904")),
    # 0.05 + 0.024 + 0.0113 in every measure
    ("own/oci/reports_cost-csv_0001000000120001_older.csv", "USD"): Totals(
        3, Decimal("0.0853"), Decimal("0.0853"), Decimal("0.0853"), Decimal("0.0853")),
}


@pytest.mark.parametrize(("key", "currency"), sorted(HAND_COUNTED), ids=case_id)
def test_the_references_match_totals_counted_by_hand(key, currency, request):
    assert expected_totals(key, case_path(key, request))[currency] == HAND_COUNTED[key, currency]


# ---- files that load ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", LOADS, ids=case_id)
def test_a_fixture_loads_reconciles_and_reloads_unchanged(key, request, load_billing, query):
    case = CASES[key]
    path = case_path(key, request)
    expected = expected_totals(key, path)

    [result] = load_billing(path, options=case.options)
    assert (result.status, result.format) == ("loaded", case.format), result.error
    records = sum(total.rows for total in expected.values())
    assert result.rows == records == query("SELECT count(*) FROM cost")[0][0]

    reported = {total.currency: total for total in result.totals}  # what the load says, billed and effective
    for got, measures in ((loaded_totals(query), MEASURES), (reported, MEASURES[:2])):
        assert by_measure(got, "rows") == by_measure(expected, "rows")
        for measure in measures:
            assert close(by_measure(got, measure), by_measure(expected, measure)), (
                f"{measure}: {by_measure(got, measure)}, reference {by_measure(expected, measure)}")

    nulls = query("SELECT " + ", ".join(f"count(*) - count({name})" for name in MANDATORY) + " FROM cost")[0]
    assert {name: n for name, n in zip(MANDATORY, nulls, strict=True) if n} == {}

    snapshot = [query(f"SELECT * FROM {view} ORDER BY ALL") for view in ("cost", "daily_spend")]
    [again] = load_billing(path, options=case.options)
    assert (again.status, again.rows, again.message) == (
        "unchanged", result.rows, f"same content as load {result.load_id}, still current")
    assert [query(f"SELECT * FROM {view} ORDER BY ALL") for view in ("cost", "daily_spend")] == snapshot


# ---- broken files ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", BROKEN, ids=case_id)
def test_a_broken_fixture_is_rejected_naming_it_and_keeps_nothing(key, request, load_billing, query):
    case = CASES[key]
    path = case_path(key, request)
    sources, problems = expand_paths([str(path)])
    if problems:  # a manifest whose data files are missing is refused before loading: nothing of it can be stored
        assert sources == [] and [where for where, _ in problems] == [str(path)]
        [(_, error)] = problems
    else:
        [result] = load_billing(path)
        assert result.status == "failed"
        error = result.error
        assert query("SELECT count(*) FROM cost") == [(0,)]
    assert error.startswith(str(path)) and case.message in error, error


BAD_NUMBER = "12,5"
# Per format, the columns BilledCost comes from (lower case; Azure's by their English name): the first one present.
COST_COLUMNS = {
    "focus": ("billedcost",), "azure": ("costinbillingcurrency", "pretaxcost", "cost"),
    "aws": ("lineitem/unblendedcost", "line_item_unblended_cost"), "gcp": ("cost",), "oci": ("cost/mycost",),
    "generic": ("amount",),
}


@dataclass(frozen=True)
class BadValue:
    """Where a variant of a fixture holds its one bad value."""

    path: Path  # what is loaded
    data_file: Path  # the file holding the bad value (a data file of a manifest, else ``path``)
    line: int  # its line in a CSV (header = line 1), else its record number
    column: str  # as written in the file


def cost_column(fmt: str, header: list[str]) -> str:
    """The header, as written, of the column a format takes BilledCost from."""
    canonical = azure_name if fmt == "azure" else lower
    return next(name for wanted in COST_COLUMNS[fmt] for name in header if canonical(name) == wanted)


def break_csv(path: Path, target: Path, fmt: str) -> BadValue:
    """Write ``path`` (CSV or CSV.GZ) to ``target`` with the last record's cost a non-number, every other byte kept.
    The fixtures have no multi-line cells, so record N is line N + 1."""
    raw = path.read_bytes()
    gzipped = path.name.endswith(".gz")
    lines = (gzip.decompress(raw) if gzipped else raw).decode("utf-8").splitlines(keepends=True)
    header = next(csv.reader([lines[0].lstrip("\ufeff")]))
    column = cost_column(fmt, header)
    last = max(i for i, line in enumerate(lines) if line.strip())
    cells = next(csv.reader([lines[last]]))
    cells[header.index(column)] = BAD_NUMBER
    out = io.StringIO()
    csv.writer(out, lineterminator=lines[last][len(lines[last].rstrip("\r\n")):]).writerow(cells)
    data = "".join([*lines[:last], out.getvalue(), *lines[last + 1:]]).encode("utf-8")
    target.write_bytes(gzip.compress(data, mtime=0) if gzipped else data)
    return BadValue(target, target, last + 1, column)


def break_ndjson(path: Path, target: Path) -> BadValue:
    """Write ``path`` to ``target`` with the last record's cost a non-number string."""
    lines = path.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[-1])
    record["cost"] = BAD_NUMBER
    target.write_text("\n".join([*lines[:-1], json.dumps(record)]) + "\n", encoding="utf-8")
    return BadValue(target, target, len(lines), "cost")


def break_parquet(path: Path, target: Path, fmt: str) -> BadValue:
    """Write ``path`` to ``target`` with the cost column as text (as CUR 2.0 writes its rates), the last row's value
    a non-number."""
    table = pq.read_table(path)
    column = cost_column(fmt, table.column_names)
    values = [None if value is None else repr(value) for value in table.column(column).to_pylist()]
    values[-1] = BAD_NUMBER
    index = table.schema.get_field_index(column)
    pq.write_table(table.set_column(index, column, pa.array(values, pa.string())), target)
    return BadValue(target, target, len(values), column)


def bad_variant(source: Path, fmt: str, folder: Path) -> BadValue:
    """A copy of a fixture in ``folder`` with one bad value in its last record (a manifest's: in its last file)."""
    if source.name == "manifest.json":
        export = shutil.copytree(source.parent, folder / "export")
        variant = break_csv(manifest_files(source)[-1], export / manifest_files(source)[-1].name, fmt)
        return BadValue(export / source.name, variant.data_file, variant.line, variant.column)
    if source.name.endswith(".parquet"):
        return break_parquet(source, folder / source.name, fmt)
    if source.name.endswith(".jsonl"):
        return break_ndjson(source, folder / source.name)
    return break_csv(source, folder / source.name, fmt)


@pytest.mark.parametrize("key", OWN_LOADS, ids=case_id)
def test_one_bad_value_is_reported_at_its_file_line_and_column(key, request, load_billing, query, tmp_path):
    case = CASES[key]
    bad = bad_variant(case_path(key, request), case.format, tmp_path)
    [result] = load_billing(bad.path, options=case.options)
    assert result.status == "failed"
    assert f'line {bad.line}, column "{bad.column}": "{BAD_NUMBER}" is not a number' in result.error, result.error
    assert query("SELECT count(*) FROM cost") == [(0,)]
    assert result.error.startswith(str(bad.path)) and bad.data_file.name in result.error, result.error
