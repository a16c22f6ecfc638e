"""Typed settings: built-in defaults, then ``config.toml``, then ``SPENDSCOPE_*`` environment variables.

Every setting is declared once in :data:`SETTINGS` with its type, default and a one-line description;
the README's settings table documents each of them and ``tests/test_config.py`` fails when one is missing.

Environment names: a top-level key ``db`` is ``SPENDSCOPE_DB``; a key inside a TOML section uses a double
underscore, so ``[market] benchmarks`` is ``SPENDSCOPE_MARKET__BENCHMARKS``. Lists are comma-separated and
tables are ``key=value`` pairs separated by commas in the environment.
"""

from __future__ import annotations

import numbers
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENV_PREFIX = "SPENDSCOPE_"
CONFIG_ENV = "SPENDSCOPE_CONFIG"
DEFAULT_CONFIG_FILE = "config.toml"


@dataclass(frozen=True)
class Setting:
    """One documented setting. ``key`` is dotted: ``db`` or ``market.benchmarks``."""

    key: str
    kind: type  # str, int, float, bool, list or dict
    default: Any
    description: str
    # a list of tables (TOML ``[[key]]``): the keys each table may have and their types; None for other settings
    items: Mapping[str, type] | None = None
    required: tuple[str, ...] = ()  # keys every table of such a list must have
    one_of: tuple[str, ...] = ()  # keys of which every table of such a list must have exactly one
    paths: tuple[str, ...] = ()  # keys of such tables that are paths, relative to the configuration file's folder

    @property
    def env_name(self) -> str:
        return ENV_PREFIX + self.key.upper().replace(".", "__")

    @property
    def env_settable(self) -> bool:
        """A list of tables has no sensible one-line form: it is read from ``config.toml`` only."""
        return self.items is None


SETTINGS: tuple[Setting, ...] = (
    Setting("db", str, "data/warehouse.duckdb",
            "Path of the DuckDB warehouse file (relative to the working directory)."),
    Setting("log_level", str, "INFO",
            "Logging level of the ETL commands and the dashboard: DEBUG, INFO, WARNING or ERROR."),
    Setting("reporting_currency", str, "USD", "ISO 4217 currency in which converted totals are reported."),
    Setting("demo.output_dir", str, "data/demo", "Folder where `python -m etl demo` writes its synthetic exports."),
    Setting("demo.rows", int, 20_000, "Approximate number of cost rows the demo generator writes in total."),
    Setting("demo.seed", int, 20250610, "Random seed of the demo generator (same seed, same files)."),
    Setting("demo.market_timeout_s", float, 10.0,
            "Seconds the demo waits for Yahoo's real prices and FX rates before it uses synthetic ones."),
    Setting("warehouse.lock_timeout_s", float, 600.0,
            "Seconds a write waits for another ETL run to release the writer lock before giving up."),
    Setting("warehouse.memory_limit", str, "850MB",
            "DuckDB memory limit of the ETL's writing connection; larger loads spill to disk. Below about 800MB "
            "DuckDB inserts a load's rows on one thread (see README, Ingest performance)."),
    Setting("warehouse.threads", int, 0, "DuckDB threads of the ETL's writing connection (0 = DuckDB's default)."),
    Setting("billing.mappings", list, [],
            "Generic-CSV mapping files (TOML) tried during format detection, for providers without a "
            "standard export."),
    Setting("billing.sources", list, [],
            "Billing exports `python -m etl run` loads: `[[billing.sources]]` tables with either `path` (file, "
            "folder or glob; relative to the configuration file's folder) and optional `name`, `format`, "
            "`dataset`, `currency`, `replace`, `mapping` (as the options of `billing load`), or "
            "`bigquery_table` (a Google Cloud billing export table) and optional `name`, `location`, `labels`, "
            "`backfill_months`, `max_bytes_billed`, `billing_project`. config.toml only.",
            items={"path": str, "name": str, "format": str, "dataset": str, "currency": str, "replace": str,
                   "mapping": str, "bigquery_table": str, "location": str, "labels": bool, "backfill_months": int,
                   "max_bytes_billed": int, "billing_project": str},
            one_of=("path", "bigquery_table"), paths=("path", "mapping")),
    Setting("gcp.credentials", str, "",
            "Google Cloud credentials: empty for Application Default Credentials, the path of a service-account "
            "key file, or `anonymous` (a local stand-in or emulator). Never logged or stored."),
    Setting("gcp.bigquery_endpoint", str, "",
            "BigQuery API endpoint instead of Google's (Private Service Connect, or a local stand-in)."),
    Setting("gcp.timeout_s", float, 300.0,
            "Seconds a BigQuery billing export source waits for BigQuery: each request's timeout, the deadline "
            "of its retries and the longest wait for the query to finish (the client's default is 600 s per "
            "request)."),
    Setting("gcp.billing_endpoint", str, "",
            "Cloud Billing API endpoint (accounts, projects, SKU catalog) instead of Google's."),
    Setting("gcp.billing_accounts", list, [],
            "Google Cloud billing account IDs (012345-6789AB-CDEF01) whose visibility `status` reports and whose "
            "projects are stored; `run` refreshes the Cloud Billing API (accounts, SKU catalog) only when set."),
    Setting("gcp.catalog_services", list, ["Compute Engine", "Vertex AI", "Cloud TPU", "Kubernetes Engine"],
            "Services of the Cloud Billing catalog whose SKUs and list prices are fetched (display names or "
            "service IDs; `*` for all of Google's thousands of services)."),
    Setting("gcp.catalog_currency", str, "USD",
            "Currency of the catalog's list prices; they fill ListCost only of rows billed in this currency."),
    Setting("freshness.billing_lag_days", float, 2.0,
            "Days a billing feed's data (its latest ChargePeriodEnd) may lag behind now before `status` and the "
            "dashboard call it stale: providers deliver a day or two late."),
    Setting("freshness.billing_lag_by_provider", dict, {},
            "Expected delivery lag in days per ServiceProviderName, over freshness.billing_lag_days."),
    Setting("freshness.prices_sessions", int, 1,
            "Closed sessions of its exchange a ticker's latest stored session may lag before its prices are stale."),
    Setting("freshness.fx_lag_days", float, 4.0,
            "Days after the end (24:00 UTC) of an FX pair's latest rate date before it is stale; 4 covers weekends."),
    Setting("export.lake_dir", str, "",
            "Folder of the FOCUS Parquet lake `python -m etl run` exports to after publishing (the default of "
            "`export --to`); empty: `run` does not export."),
    Setting("dashboard.benchmark", str, "SPY",
            "Benchmark ticker of the dashboard's cumulative abnormal returns and event CARs (Spend vs market)."),
    Setting("providers.aliases", dict, {},
            "Extra ServiceProviderName aliases, e.g. `{\"Lambda Labs\" = \"Lambda\"}`; merged over the "
            "built-in aliases."),
    Setting("providers.tickers", dict,
            {"Google Cloud": "GOOGL", "Microsoft": "MSFT", "AWS": "AMZN", "Oracle": "ORCL", "CoreWeave": "CRWV"},
            "Ticker of each provider's listed parent, by ServiceProviderName; merged over the defaults (map a "
            "provider to \"\" to drop it). Used by the dashboard and the event studies."),
    Setting("market.tickers", list, ["GOOGL", "MSFT", "AMZN", "ORCL", "NVDA", "CRWV", "9984.T"],
            "Yahoo Finance tickers whose daily prices `prices fetch` keeps (the providers' tickers are added)."),
    Setting("market.benchmarks", list, ["SPY", "QQQ", "^GSPC", "^N225"],
            "Benchmark tickers fetched with the others: US ETFs and indices, and the Nikkei 225 for 9984.T."),
    Setting("market.start", str, "2018-01-01",
            "First date (YYYY-MM-DD) fetched for a ticker or FX pair that has no prices yet."),
    Setting("market.overlap_days", int, 10,
            "Calendar days before the last stored date that each fetch re-reads to catch revisions, new "
            "dividends and splits."),
    Setting("market.max_backoff_minutes", float, 15.0,
            "Total minutes a fetch may wait out Yahoo rate limits (waits of 1, 2, 4, ... minutes) before the "
            "rate-limited tickers count as failed."),
    Setting("fx.currencies", list, ["CAD", "EUR", "GBP", "NOK", "JPY"],
            "Currencies whose USD rates `fx fetch` keeps, besides every billing currency in the warehouse."),
    Setting("fx.max_rate_age_days", int, 7,
            "Oldest FX rate, in days before a charge date, that may convert it; an older one flags the row."),
    Setting("eventstudy.benchmarks", dict, {"XNYS": "SPY", "XNAS": "SPY", "XTKS": "^N225"},
            "Benchmark of the event studies per listing calendar (ISO MIC): a ticker is compared with the "
            "benchmark of its own exchange calendar; merged over the defaults (map a calendar to \"\" to drop it)."),
    Setting("eventstudy.model", str, "market",
            "Normal-return model of `eventstudy run`: market, market_adjusted or constant_mean."),
    Setting("eventstudy.returns", str, "simple", "Returns of the event studies, from adj_close: simple or log."),
    Setting("eventstudy.estimation", str, "-250:-11",
            "Estimation window: session offsets from day 0 (START:END) or dates (YYYY-MM-DD:YYYY-MM-DD)."),
    Setting("eventstudy.windows", list, ["0:0", "-1:1", "0:1", "-5:5"],
            "Event windows as session offsets from day 0 (START:END)."),
    Setting("eventstudy.min_obs", int, 60,
            "Fewest estimation-window sessions with both returns for a ticker to be tested (at least 5)."),
    Setting("anomalies.measure", str, "effective_cost",
            "Amount the anomaly detection scores: effective_cost, billed_cost or list_cost."),
    Setting("anomalies.z", list, [3.0, 5.0, 8.0],
            "Robust z-scores from which a day is a low, medium and high anomaly; a day is an anomaly from the "
            "first (the interval shown is expected ± first z x robust scale)."),
    Setting("anomalies.min_history_days", int, 28,
            "Fewest days with a value a series needs to be scored; shorter series are skipped and counted."),
    Setting("anomalies.recent_days", int, 90,
            "Days (up to the latest loaded day) whose anomalies a run flags and replaces; older ones are kept."),
    Setting("anomalies.min_excess", float, 50.0,
            "Smallest excess over the interval, in the series' currency, for a day to be an anomaly."),
    Setting("anomalies.min_excess_pct", float, 10.0,
            "Smallest difference from the expected value, in % of it, for a day to be an anomaly."),
    Setting("forecast.measure", str, "effective_cost",
            "Cost measure the forecasts and budgets use: effective_cost, billed_cost or list_cost."),
    Setting("forecast.history_days", int, 365,
            "Days of history (up to the as-of date) each forecast model is fitted to; at least 56."),
    Setting("forecast.backtest_months", int, 6,
            "Months of the rolling-origin backtest: the last N complete months, each forecast from the data "
            "before it (0: no backtest)."),
    Setting("budgets", list, [],
            "Budgets `python -m etl run` checks after the forecasts: `[[budgets]]` tables with `name`, `scope` "
            "(total, provider, service_category or billing_account), `value` (the provider, category or account "
            "id; not for total), `period` (monthly or quarterly), `amount`, optional `currency` (default "
            "reporting_currency) and `thresholds` (% of the amount, default [80, 100]). config.toml only.",
            items={"name": str, "scope": str, "value": str, "period": str, "amount": numbers.Real,
                   "currency": str, "thresholds": list},
            required=("name", "scope", "period", "amount")),
    Setting("access.allow", list, [],
            "With sign-in configured: the e-mail addresses (`ana@example.com`) and domains (`example.com`) "
            "allowed into the dashboard; empty admits no one."),
    Setting("access.sql_allow", list, [],
            "With sign-in configured: the addresses and domains, also on access.allow, that get the SQL page; "
            "empty hides it from everyone."),
    Setting("sql.time_limit_s", float, 5.0,
            "Seconds an ad-hoc query (`python -m etl sql`, the SQL page's console) may run before it is stopped."),
    Setting("sql.max_rows", int, 10_000,
            "Rows an ad-hoc query returns at most; a longer result is cut there and marked truncated."),
    Setting("sql.memory_limit", str, "1GB",
            "DuckDB memory limit of an ad-hoc query; a query needing more fails (it never spills to disk)."),
    Setting("sql.threads", int, 2, "DuckDB threads of an ad-hoc query."),
)

_BY_KEY = {s.key: s for s in SETTINGS}


def default(key: str) -> Any:
    """The built-in default of a setting, for code that needs it without a resolved :class:`Config`."""
    return _BY_KEY[key].default


class ConfigError(ValueError):
    """A configuration value could not be read; the message names the source and the key."""


@dataclass(frozen=True)
class Config:
    """Resolved settings. Use :meth:`get` with a dotted key; :attr:`sources` says where each value came from."""

    values: Mapping[str, Any]
    sources: Mapping[str, str]

    def get(self, key: str) -> Any:
        if key not in _BY_KEY:
            raise KeyError(f"unknown setting {key!r}")
        return self.values[key]

    @property
    def db_path(self) -> Path:
        return Path(self.get("db"))

    def with_overrides(self, **overrides: Any) -> Config:
        """Return a copy with command-line overrides (keys with dots given as ``__``) applied."""
        values = dict(self.values)
        sources = dict(self.sources)
        for name, value in overrides.items():
            if value is None:
                continue
            key = name.replace("__", ".")
            values[key] = _coerce(_BY_KEY[key], value, "command line")
            sources[key] = "command line"
        return Config(values, sources)


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Resolve every setting: defaults < TOML file < environment.

    ``path`` defaults to ``$SPENDSCOPE_CONFIG`` or ``./config.toml``; a missing default file is fine,
    a missing explicitly named one is an error.
    """
    environ = os.environ if environ is None else environ
    explicit = path is not None or CONFIG_ENV in environ
    config_path = Path(path or environ.get(CONFIG_ENV) or DEFAULT_CONFIG_FILE)
    file_values: dict[str, Any] = {}
    if config_path.exists():
        try:
            file_values = _flatten(tomllib.loads(config_path.read_text(encoding="utf-8")))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{config_path}: not valid TOML: {exc}") from exc
    elif explicit:
        raise ConfigError(f"configuration file {config_path} does not exist")

    unknown = sorted(set(file_values) - set(_BY_KEY))
    if unknown:
        raise ConfigError(f"{config_path}: unknown setting(s) {', '.join(unknown)}; see README 'Settings'")

    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for setting in SETTINGS:
        value, source = setting.default, "default"
        if setting.key in file_values:
            value, source = _coerce(setting, file_values[setting.key], str(config_path)), str(config_path)
            if setting.items is not None:
                value = _resolve_paths(setting, value, config_path.parent)
        if setting.env_name in environ and not setting.env_settable:
            raise ConfigError(f"{setting.env_name}: setting {setting.key!r} cannot be set from the environment; "
                              "list it in config.toml")
        if setting.env_name in environ:
            value = _coerce(setting, environ[setting.env_name], setting.env_name)
            source = setting.env_name
        values[setting.key] = value
        sources[setting.key] = source
    return Config(values, sources)


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten nested TOML tables to dotted keys, except for settings that are tables themselves."""
    flat: dict[str, Any] = {}
    for name, value in table.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict) and not (key in _BY_KEY and _BY_KEY[key].kind is dict):
            flat.update(_flatten(value, key + "."))
        else:
            flat[key] = value
    return flat


def _coerce(setting: Setting, value: Any, source: str) -> Any:
    """Convert a TOML or environment value to the setting's type, or raise a ConfigError naming it."""
    kind = setting.kind
    where = f"{source}: setting {setting.key!r}"
    if isinstance(value, str) and kind is not str:
        value = _parse_env_text(setting, value, where)
    if kind is bool and isinstance(value, bool):
        return value
    if kind in (int, float) and isinstance(value, int | float) and not isinstance(value, bool):
        if kind is int and float(value) != int(value):
            raise ConfigError(f"{where}: expected a whole number, got {value!r}")
        return kind(value)
    if kind is str and isinstance(value, str):
        return value
    if setting.items is not None and isinstance(value, list):
        return [_coerce_table(setting, item, f"{where}[{index}]") for index, item in enumerate(value)]
    if kind is list and isinstance(value, list):
        return [str(v) for v in value]
    if kind is dict and isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    raise ConfigError(f"{where}: expected {kind.__name__}, got {value!r}")


def _coerce_table(setting: Setting, item: Any, where: str) -> dict[str, Any]:
    """One table of a list-of-tables setting, checked against its declared keys and types."""
    assert setting.items is not None
    if not isinstance(item, dict):
        raise ConfigError(f"{where}: expected a table ([[{setting.key}]]), got {item!r}")
    unknown = sorted(set(item) - set(setting.items))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; expected {', '.join(setting.items)}")
    missing = [key for key in setting.required if key not in item]
    if missing:
        raise ConfigError(f"{where}: missing key(s) {', '.join(missing)}")
    given = [key for key in setting.one_of if key in item]
    if setting.one_of and len(given) != 1:
        raise ConfigError(f"{where}: expected exactly one of the keys {' or '.join(setting.one_of)}, "
                          f"got {' and '.join(given) if given else 'neither'}")
    for key, value in item.items():
        kind = setting.items[key]
        if (not isinstance(value, kind) or (kind is int and isinstance(value, bool))
                or (isinstance(value, str) and not value.strip())):
            raise ConfigError(f"{where}: key {key!r}: expected a non-empty {kind.__name__}, "
                              f"got {value!r}")
    return dict(item)


def _resolve_paths(setting: Setting, tables: list[dict[str, Any]], base: Path) -> list[dict[str, Any]]:
    """Relative paths (and globs) of a list of tables, taken from the configuration file's folder, so a config
    file means the same files whatever the working directory of the command (cron's is the home folder)."""
    return [{key: str(base.resolve() / Path(value).expanduser()) if key in setting.paths else value
             for key, value in table.items()} for table in tables]


def _parse_env_text(setting: Setting, text: str, where: str) -> Any:
    kind = setting.kind
    text = text.strip()
    if kind is bool:
        if text.lower() in {"1", "true", "yes", "on"}:
            return True
        if text.lower() in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{where}: expected true or false, got {text!r}")
    if kind in (int, float):
        try:
            return float(text) if kind is float else int(text)
        except ValueError:
            raise ConfigError(f"{where}: expected a number, got {text!r}") from None
    if kind is list:
        return [part.strip() for part in text.split(",") if part.strip()]
    if kind is dict:
        pairs = [part for part in text.split(",") if part.strip()]
        if any("=" not in part for part in pairs):
            raise ConfigError(f"{where}: expected key=value pairs separated by commas, got {text!r}")
        return dict(tuple(p.strip() for p in part.split("=", 1)) for part in pairs)
    return text
