"""Settings: every one documented, and resolved defaults < config.toml < environment < command line."""

from __future__ import annotations

import re
import tomllib

import pytest

from etl.config import SETTINGS, ConfigError, load_config
from tests.conftest import REPO


def test_every_setting_is_documented_in_the_readme():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `([a-z_.]+)` \| `(SPENDSCOPE_[A-Z_]+)` \|", readme,
                                                           re.MULTILINE)}
    assert rows == {s.key: s.env_name for s in SETTINGS}


def test_the_example_config_sets_every_setting_and_loads(tmp_path):
    example = REPO / "config.example.toml"
    config = load_config(example, environ={})
    assert set(config.values) == {s.key for s in SETTINGS}
    assert all(source == str(example) for source in config.sources.values())
    flat = tomllib.loads(example.read_text())
    assert config.get("warehouse.memory_limit") == flat["warehouse"]["memory_limit"]


def test_defaults_file_environment_and_command_line_in_that_order(tmp_path):
    file = tmp_path / "config.toml"
    file.write_text('db = "from-file.duckdb"\n[warehouse]\nthreads = 3\nlock_timeout_s = 5\n')
    env = {"SPENDSCOPE_WAREHOUSE__THREADS": "4", "SPENDSCOPE_PROVIDERS__ALIASES": "Lambda Labs=Lambda, cw=CoreWeave",
           "SPENDSCOPE_BILLING__MAPPINGS": "a.toml, b.toml"}
    config = load_config(file, environ=env)
    assert config.get("db") == "from-file.duckdb"
    assert config.get("warehouse.threads") == 4
    assert config.sources["warehouse.threads"] == "SPENDSCOPE_WAREHOUSE__THREADS"
    assert config.get("warehouse.lock_timeout_s") == 5.0
    assert config.get("reporting_currency") == "USD" and config.sources["reporting_currency"] == "default"
    assert config.get("providers.aliases") == {"Lambda Labs": "Lambda", "cw": "CoreWeave"}
    assert config.get("billing.mappings") == ["a.toml", "b.toml"]
    assert config.with_overrides(db="cli.duckdb").get("db") == "cli.duckdb"


def test_spendscope_db_sets_the_warehouse_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = load_config(None, environ={"SPENDSCOPE_DB": "/x/w.duckdb"})
    assert str(config.db_path) == "/x/w.duckdb" and config.sources["db"] == "SPENDSCOPE_DB"
    assert str(load_config(None, environ={}).db_path) == "data/warehouse.duckdb"


@pytest.mark.parametrize(("text", "env", "message"), [
    ("dbb = 'x'\n", {}, "unknown setting(s) dbb"),
    ("[warehouse]\nthreads = 'four'\n", {}, "config.toml: setting 'warehouse.threads': expected a number, got 'four'"),
    ("db = [\n", {}, "not valid TOML"),
    ("", {"SPENDSCOPE_WAREHOUSE__THREADS": "many"}, "SPENDSCOPE_WAREHOUSE__THREADS: setting 'warehouse.threads': "
                                                    "expected a number, got 'many'"),
    ("", {"SPENDSCOPE_PROVIDERS__ALIASES": "nokey"}, "expected key=value pairs"),
])
def test_bad_settings_are_reported_with_their_source(tmp_path, text, env, message):
    file = tmp_path / "config.toml"
    file.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(file, environ=env)


def test_an_explicitly_named_missing_config_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(None, environ={"SPENDSCOPE_CONFIG": str(tmp_path / "missing.toml")})


def test_billing_sources_are_tables_whose_relative_paths_start_at_the_config_file(tmp_path):
    folder = tmp_path / "etc"
    folder.mkdir()
    file = folder / "config.toml"
    file.write_text('[[billing.sources]]\npath = "exports/*.csv"\nformat = "focus"\n'
                    '[[billing.sources]]\nname = "azure"\npath = "/srv/azure"\nmapping = "m.toml"\n'
                    'replace = "file"\n')
    assert load_config(file, environ={}).get("billing.sources") == [
        {"path": str(folder / "exports" / "*.csv"), "format": "focus"},
        {"name": "azure", "path": "/srv/azure", "mapping": str(folder / "m.toml"), "replace": "file"}]
    assert load_config(None, environ={}).get("billing.sources") == []


@pytest.mark.parametrize(("text", "message"), [
    ('[[billing.sources]]\npath = "a"\n[[billing.sources]]\npath = "b"\nformt = "focus"\n',
     "setting 'billing.sources'[1]: unknown key(s) formt; expected path, name, format"),
    ('[[billing.sources]]\nformat = "focus"\n',
     "setting 'billing.sources'[0]: expected exactly one of the keys path or bigquery_table, got neither"),
    ('[[billing.sources]]\npath = "a"\nbigquery_table = "p.d.t"\n',
     "setting 'billing.sources'[0]: expected exactly one of the keys path or bigquery_table, got path and "
     "bigquery_table"),
    ('[[billing.sources]]\nbigquery_table = "p.d.t"\nbackfill_months = true\n',
     "setting 'billing.sources'[0]: key 'backfill_months': expected a non-empty int, got True"),
    ('[[billing.sources]]\npath = 3\n', "setting 'billing.sources'[0]: key 'path': expected a non-empty str, got 3"),
    ('[billing]\nsources = ["a.csv"]\n', "setting 'billing.sources'[0]: expected a table ([[billing.sources]])"),
])
def test_a_bad_billing_source_names_the_file_the_source_and_the_key(tmp_path, text, message):
    file = tmp_path / "config.toml"
    file.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(f"{file}: {message}")):
        load_config(file, environ={})


def test_billing_sources_cannot_come_from_the_environment(tmp_path):
    with pytest.raises(ConfigError, match=re.escape("SPENDSCOPE_BILLING__SOURCES: setting 'billing.sources' cannot "
                                                    "be set from the environment; list it in config.toml")):
        load_config(None, environ={"SPENDSCOPE_BILLING__SOURCES": "a.csv"})
