"""Turning paths into load units: numbered parts and AWS manifests load as one export."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal

from etl.billing.sources import expand, expand_paths
from etl.pipelines import billing_sources
from tests.billing.test_azure import EXPORT_RUN, PARTITIONED
from tests.billing.test_loader import HEADER, focus_row, write


def test_numbered_parts_of_one_export_are_one_unit_and_replace_together(load_billing, query, tmp_path):
    first = write(tmp_path / "cur" / "report-00001.csv", HEADER, focus_row("1.00", "2025-06-01"))
    write(tmp_path / "cur" / "report-00002.csv", HEADER, focus_row("2.00", "2025-06-02"))
    [result] = load_billing(tmp_path / "cur")
    assert result.source == str(tmp_path / "cur" / "report-*.csv")
    assert result.rows == 2 and query("SELECT sum(BilledCost) FROM cost") == [(Decimal("3.00"),)]
    assert [f.name for f in expand_paths([str(first.parent)])[0][0].files] == ["report-00001.csv",
                                                                               "report-00002.csv"]
    write(tmp_path / "cur2" / "report-00001.csv", HEADER, focus_row("5.00", "2025-06-01"))
    write(tmp_path / "cur2" / "report-00002.csv", HEADER, focus_row("6.00", "2025-06-02"))
    load_billing(tmp_path / "cur2")  # a restated delivery in two parts replaces the month's two parts
    assert query("SELECT sum(BilledCost) FROM cost") == [(Decimal("11.00"),)]


def test_names_that_only_look_numbered_stay_separate_files(tmp_path):
    write(tmp_path / "june-10.csv", HEADER, focus_row("1.00", "2025-06-10"))
    write(tmp_path / "june-30.csv", HEADER, focus_row("1.00", "2025-06-30"))
    sources, _ = expand_paths([str(tmp_path)])
    assert [s.files[0].name for s in sources] == ["june-10.csv", "june-30.csv"]


def test_an_aws_cur_manifest_loads_every_listed_file(load_billing, query, tmp_path):
    folder = tmp_path / "cur" / "20250601-20250701"
    write(folder / "demo-1.csv", HEADER, focus_row("1.25", "2025-06-01"))
    write(folder / "demo-2.csv", HEADER, focus_row("2.75", "2025-06-02"))
    manifest = folder / "demo-Manifest.json"
    manifest.write_text(json.dumps({"reportKeys": ["prefix/demo/20250601-20250701/demo-1.csv",
                                                   "prefix/demo/20250601-20250701/demo-2.csv"]}))
    [result] = load_billing(tmp_path / "cur")
    assert (result.source, result.rows) == (str(manifest), 2)
    assert query("SELECT sum(BilledCost) FROM cost") == [(Decimal("4.00"),)]


def test_a_manifest_listing_a_missing_file_is_rejected_and_its_folder_not_loaded(tmp_path):
    folder = tmp_path / "cur"
    write(folder / "demo-1.csv", HEADER, focus_row("1.25", "2025-06-01"))
    (folder / "demo-Manifest.json").write_text(json.dumps({"reportKeys": ["p/demo-1.csv", "p/demo-2.csv"]}))
    sources, [(path, error)] = expand_paths([str(tmp_path)])
    assert path == str(folder / "demo-Manifest.json")
    assert sources == []
    assert error == (f"{folder / 'demo-Manifest.json'}: reportKeys[1] 'p/demo-2.csv' was not found next to the "
                     "manifest; download every file of the export before loading it")


def test_files_in_a_manifest_folder_that_it_does_not_list_are_reported_not_loaded(cli, query, tmp_path):
    export = tmp_path / "export"
    shutil.copytree(PARTITIONED, export)
    folder = export / EXPORT_RUN
    stray = write(folder / "part_0_0003.csv", HEADER, focus_row("9.00", "2025-06-01"))
    nested = write(folder / "old" / "copy.csv", HEADER, focus_row("9.00", "2025-06-01"))
    expansion = expand([str(export)])
    assert expansion.problems == [] and [len(s.files) for s in expansion.sources] == [2]
    assert expansion.unlisted == [(nested, folder / "manifest.json"), (stray, folder / "manifest.json")]

    result = cli("billing", "load", str(export))
    assert result.code == 0
    lines = {line.split()[0]: line for line in result.out.splitlines()[2:] if line.strip()}
    for file in (stray, nested):
        assert lines[str(file)].split()[1:5] == ["billing", "?", "0", "-"]
        assert "skipped  not listed in manifest.json (" in lines[str(file)]
    _, records = billing_sources([str(export)])
    assert [(r.source, r.status, r.message) for r in records] == [
        (str(file), "skipped", f"not listed in manifest.json ({folder})") for file in (nested, stray)]
    assert query("SELECT count(*) FROM cost") == [(5,)]
    assert query("SELECT source, status FROM load_log") == [(str(folder / "manifest.json"), "loaded")]
