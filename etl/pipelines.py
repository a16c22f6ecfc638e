"""The ETL's jobs as named stages, the way dlt names extract, normalize and load.

Each job that writes takes the settings and a write session (``Warehouse.write``) and returns what it did as
load-log records (``etl/loadlog.py``); the event-study job returns its stored run. The CLIs only parse arguments and
print; the demo, the benchmarks and a scheduled run call these same functions. Downloads are jobs of their own that
take no session, because they run before the writer lock is taken: a slow Yahoo never holds it.

Settings a job cannot use raise :class:`SettingsError` naming the setting (the CLIs exit 2 on it).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from etl.billing import registry
from etl.billing.base import LoadOptions
from etl.billing.loader import load_sources
from etl.billing.sources import Source, expand
from etl.config import Config
from etl.demo.isolation import real_market_subjects, refuse_real_billing
from etl.events.catalog import refresh_catalog
from etl.events.store import read_events
from etl.eventstudy.settings import StudySettings
from etl.eventstudy.store import store_study
from etl.eventstudy.warehouse import StudyTables, compute_event_studies
from etl.gcp import bigquery_export, bigquery_load, clients
from etl.gcp.bigquery_export import BigQuerySource, BigQuerySourceError, Fetched, invoice_months
from etl.lake.export import EVERYTHING, ExportReport, Selection
from etl.lake.export import export_lake as write_lake
from etl.loadlog import LoadRecord
from etl.market import fx, prices
from etl.market.fx import FxFetch
from etl.market.prices import PriceBatch, PriceFetch
from etl.market.tickers import (
    MarketSettingsError,
    configured_tickers,
    market_start,
    max_backoff_minutes,
    overlap_days,
    provider_tickers,
)
from etl.warehouse import Warehouse, WriteSession, connect_readonly

if TYPE_CHECKING:
    from etl.demo.real_market import RealMarket


class SettingsError(ValueError):
    """A setting has a value the job cannot use; the message names the setting."""


# --- billing -------------------------------------------------------------------------------------------------

DATASETS = ("actual", "amortized")
REPLACE_SCOPES = ("period", "file")


def billing_options(config: Config, *, format: str | None = None, dataset: str | None = None,
                    currency: str | None = None, replace: str | None = None, mapping: str | None = None,
                    where: str = "option") -> LoadOptions:
    """The options of one billing load (``billing load``'s flags, or a ``[[billing.sources]]`` table), checked, with
    the ``billing.mappings`` setting; a bad value raises :class:`SettingsError` naming ``where`` and the key."""
    checks = (("format", format, sorted(registry.adapters())), ("dataset", dataset, DATASETS),
              ("replace", replace, REPLACE_SCOPES))
    for key, value, allowed in checks:
        if value is not None and value not in allowed:
            raise SettingsError(f"{where}: {key} {value!r} is not one of {', '.join(allowed)}")
    return LoadOptions(format=format, dataset=dataset, currency=currency, replace=replace,  # type: ignore[arg-type]
                       mapping=mapping, mappings=tuple(config.get("billing.mappings")))


def billing_sources(paths: Sequence[str]) -> tuple[list[Source], list[LoadRecord]]:
    """The sources of ``paths`` and the summary records of what will not load: a path that is no source (failed)
    and a data file of a manifest's folder that the manifest does not list (skipped; not in ``load_log``)."""
    expansion = expand(list(paths))
    records = [LoadRecord("billing", path, error=error) for path, error in expansion.problems]
    records += [LoadRecord("billing", str(file), status="skipped",
                           message=f"not listed in {manifest.name} ({manifest.parent})")
                for file, manifest in expansion.unlisted]
    return expansion.sources, records


def load_billing(config: Config, session: WriteSession, sources: Sequence[Source],
                 options: LoadOptions) -> list[LoadRecord]:
    """Billing sources through their adapters, with the configured provider aliases (``etl/billing``)."""
    return load_sources(session, sources, options, config.get("providers.aliases"))


def bigquery_source(table_id: str, where: str, **options: object) -> BigQuerySource:
    """A BigQuery billing export source (``billing load --bigquery``, or a ``[[billing.sources]]`` table with
    ``bigquery_table``), checked; a bad value raises :class:`SettingsError` naming ``where`` and the key."""
    try:
        return BigQuerySource.parse(table_id, where, **options)  # type: ignore[arg-type]
    except BigQuerySourceError as exc:
        raise SettingsError(str(exc)) from None


def fetch_bigquery(config: Config, source: BigQuerySource, *, now: datetime) -> Fetched:
    """Query the export in BigQuery and spool the result (before the writer lock); the invoice months re-read
    follow the source's last successful load in the published warehouse. Writes nothing to the warehouse."""
    months = invoice_months(now, _last_billing_load(config.db_path, source.label), source.backfill_months)
    try:
        client = clients.bigquery_client(clients.GcpSettings.from_config(config), source.job_project,
                                         source.location)
    except clients.GcpCredentialsError as exc:
        return Fetched(source, months, error=str(exc))
    return bigquery_export.fetch(client, source, months, config.get("warehouse.memory_limit"),
                                 config.get("gcp.timeout_s"))


def load_bigquery(session: WriteSession, fetched: Sequence[Fetched], options: LoadOptions) -> list[LoadRecord]:
    """Fetched BigQuery exports through the gcp normalisation and replace units, one transaction each; their
    spools are removed."""
    try:
        return bigquery_load.load_all(session, list(fetched), options)
    finally:
        for one in fetched:
            one.discard()


def _last_billing_load(db_path: Path, source: str) -> datetime | None:
    """When ``source`` last loaded successfully, from the published warehouse (None: never, or no warehouse)."""
    if not db_path.exists():
        return None
    con = connect_readonly(db_path)
    try:
        [(last,)] = con.execute("SELECT max(started_at) FROM load_log WHERE kind = 'billing' AND source = ? "
                                "AND status <> 'failed'", [source]).fetchall()
    finally:
        con.close()
    return last.replace(tzinfo=UTC) if last else None


# --- prices --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Quick:
    """A download that must not keep anyone waiting (the demo's): ``timeout_s`` per request to Yahoo and no waiting
    out rate limits (``market.max_backoff_minutes`` is taken as 0)."""

    timeout_s: float


def fetch_prices(config: Config, tickers: Sequence[str] = (), *, now: datetime, full: bool = False,
                 sleep: Callable[[float], None] = time.sleep, quick: Quick | None = None) -> PriceFetch:
    """Download what each ticker needs from Yahoo (default: the configured tickers); writes nothing."""
    start, overlap, backoff = _market_settings(config, quick)
    wanted = [t.strip().upper() for t in tickers if t.strip()] or configured_tickers(config)
    if not wanted:
        raise SettingsError("no tickers to fetch (settings market.tickers, providers.tickers and market.benchmarks "
                            "are empty)")
    return prices.fetch(wanted, config.db_path, start=start, overlap_days=overlap, max_backoff_minutes=backoff,
                        now=now, full=full, sleep=sleep, timeout=quick.timeout_s if quick else None)


def store_prices(config: Config, session: WriteSession, batches: Sequence[PriceBatch],
                 failures: Sequence[LoadRecord], now: datetime) -> list[LoadRecord]:
    """Fetched or imported prices, one transaction per ticker, failures logged; table ``provider_ticker`` kept
    equal to the setting."""
    return prices.store_all(session, batches, failures, provider_tickers(config), now)


# --- FX ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FxPlan:
    """What an FX fetch asks for and records: the currencies, what the warehouse already holds of them (read once)
    and the reporting settings."""

    currencies: list[str]
    state: fx.FxState
    reporting_currency: str
    max_age_days: int


def plan_fx(config: Config, asked: Sequence[str] = ()) -> FxPlan:
    """The currencies to fetch (``asked``, else every billing currency, ``fx.currencies`` and the reporting
    currency), validated."""
    try:
        reporting = fx.check_currency(config.get("reporting_currency"), "reporting_currency")
        configured = [fx.check_currency(c, "fx.currencies") for c in config.get("fx.currencies")]
        chosen = [fx.check_currency(c, "CURRENCY") for c in asked]
    except fx.FxSettingsError as exc:
        raise SettingsError(str(exc)) from None
    max_age = config.get("fx.max_rate_age_days")
    if max_age < 0:
        raise SettingsError(f"setting fx.max_rate_age_days: expected 0 or more days, got {max_age}")
    state = fx.read_state(config.db_path)
    currencies = ([c for c in chosen if c != fx.QUOTE] if chosen
                  else fx.currencies_to_fetch(state, configured, reporting))
    return FxPlan(currencies, state, reporting, max_age)


def fetch_fx(config: Config, plan: FxPlan, *, now: datetime, sleep: Callable[[float], None] = time.sleep,
             quick: Quick | None = None) -> FxFetch:
    """Download the USD rates ``plan`` asks for; writes nothing."""
    start, overlap, backoff = _market_settings(config, quick)
    return fx.fetch(plan.currencies, plan.state, start=start, overlap_days=overlap,
                    max_backoff_minutes=backoff, now=now, sleep=sleep, timeout=quick.timeout_s if quick else None)


def store_fx(config: Config, session: WriteSession, plan: FxPlan, fetched: FxFetch,
             now: datetime) -> list[LoadRecord]:
    """Fetched rates, one transaction per pair, and the reporting currency and rate-age limit of the views."""
    records = fx.store_all(session, fetched, now)
    fx.record_reporting_settings(session, plan.reporting_currency, plan.max_age_days, now)
    return records


# --- events and event studies --------------------------------------------------------------------------------

def refresh_events(config: Config, session: WriteSession) -> list[LoadRecord]:
    """The shipped event catalog, loaded when this release's catalog is not in the warehouse yet."""
    record = refresh_catalog(session, config)
    return [record] if record else []


@dataclass(frozen=True)
class StudyRun:
    """A stored ``eventstudy run``: its id, the events it covered and the tables it stored."""

    run_id: int
    events: pd.DataFrame
    tables: StudyTables


def run_event_studies(config: Config, session: WriteSession, settings: StudySettings | None = None,
                      event_ids: Sequence[str] | None = None) -> StudyRun:
    """The event studies of the stored events (all, or ``event_ids``) on table ``prices``, stored as one run.
    ``settings`` default to the ``eventstudy.*`` settings."""
    started = datetime.now(UTC)
    settings = settings or StudySettings.from_config(config)
    events = read_events(session.con, list(event_ids) if event_ids is not None else None)
    tables = compute_event_studies(session.con, events, settings)
    run_id = store_study(session, tables, list(events["event_id"]), started)
    return StudyRun(run_id, events, tables)


# --- the demo ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DemoBuild:
    files: list[Path]
    billing: list[LoadRecord]
    market: list[LoadRecord]  # real (Yahoo) and synthetic market loads; LoadRecord.synthetic tells them apart
    studies: StudyRun | None
    catalog: list[LoadRecord] = field(default_factory=list)  # the SYNTHETIC Google Cloud pricing catalog's loads

    @property
    def synthetic_market(self) -> list[LoadRecord]:
        return [record for record in self.market if record.synthetic]


def build_demo(config: Config, session: WriteSession, out: Path, rows: int, seed: int, *, end: date | None = None,
               market: bool = True, real: RealMarket | None = None) -> DemoBuild:
    """The demo's SYNTHETIC exports from 2024-01-01 to ``end`` (default: the last full day, yesterday UTC) written
    to ``out`` and loaded through the normal adapters (recorded as synthetic), and a SYNTHETIC pricing catalog of
    their Google Cloud SKUs stored as ``gcp catalog`` stores one (so Google's compute is classified); then, unless
    ``market`` is false,
    the real prices and rates of ``real`` (downloaded before the session by ``fetch_real_market``; their failures
    are not recorded), SYNTHETIC prices and FX rates through ``end`` for every ticker and currency the warehouse
    then holds no real data of, and the catalog's event studies, so that every dashboard page has data offline.
    Raises :class:`~etl.demo.isolation.RealDataError` before writing anything when the warehouse holds real
    billing rows: demo spend never mixes with real spend."""
    from etl.demo.catalog import synthetic_catalog
    from etl.demo.generator import last_full_day, write_demo_exports
    from etl.demo.market import store_synthetic_market
    from etl.gcp import refresh

    refuse_real_billing(session.con)
    end = end or last_full_day()
    files = write_demo_exports(out, rows=rows, seed=seed, end=end)
    sources, unloaded = billing_sources([str(f) for f in files])
    billing = load_billing(config, session, sources, LoadOptions(synthetic=True)) + unloaded
    catalog = refresh.store(session, refresh.Download(catalog=synthetic_catalog())).records
    if not market:
        return DemoBuild(files, billing, [], None, catalog)
    now = datetime.now(UTC)
    records = []
    if real and real.prices:
        records += store_prices(config, session, real.prices.batches, [], now)
    if real and real.fx and real.fx_plan:
        records += store_fx(config, session, real.fx_plan, FxFetch(real.fx.batches, [], unreachable=False), now)
    records += store_synthetic_market(session, seed, config.get("reporting_currency"),
                                      config.get("fx.max_rate_age_days"), end, skip=real_market_subjects(session.con))
    refresh_events(config, session)
    return DemoBuild(files, billing, records, run_event_studies(config, session), catalog)


# --- the FOCUS lake ------------------------------------------------------------------------------------------

def export_lake(config: Config, warehouse: Warehouse, lake: Path | None = None, selection: Selection = EVERYTHING,
                *, force: bool = False) -> ExportReport:
    """Export the published warehouse's ``cost`` rows to ``lake`` (default: the setting export.lake_dir). It only
    reads the warehouse, so it takes no write session and no writer lock."""
    if lake is None and not config.get("export.lake_dir"):
        raise SettingsError("no lake folder: give --to DIR or set export.lake_dir")
    limits: dict[str, str | int | bool] = {"memory_limit": warehouse.memory_limit}
    if warehouse.threads:
        limits["threads"] = warehouse.threads
    return write_lake(warehouse.path, lake or Path(config.get("export.lake_dir")), selection, force=force,
                      duckdb_config=limits)


def _market_settings(config: Config, quick: Quick | None = None) -> tuple[date, int, float]:
    try:
        return market_start(config), overlap_days(config), 0.0 if quick else max_backoff_minutes(config)
    except MarketSettingsError as exc:
        raise SettingsError(str(exc)) from None
