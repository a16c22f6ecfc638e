"""``python -m etl run``: everything configured, in order, as one job for cron.

The steps are billing (the ``[[billing.sources]]`` of config.toml), gcp (the Cloud Billing API, when
``gcp.billing_accounts`` is set), prices, FX, events and event studies, and after the publish the export of the
FOCUS lake (``export.lake_dir``; it reads the published file). What can be done without the warehouse's writer lock
is done first: the billing paths are expanded, the BigQuery billing sources are queried (their results spooled),
the Cloud Billing API is read and Yahoo is asked for prices and rates, so a slow download never holds the lock.
Then one write session (one copy of the warehouse, one
publish) runs every step's writes. A step that raises is recorded as failed with its reason and the next step still
runs; each step's writes are committed in their own transactions, so the session publishes what succeeded.

A run never queues behind another writer: when the lock is held it raises :class:`WarehouseLockedError` at once
(before downloading anything when it can tell; after the downloads when the other run took the lock meanwhile).
Settings the job cannot use raise :class:`pipelines.SettingsError` before anything is written.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb

from etl import pipelines
from etl.billing.base import LoadOptions
from etl.billing.sources import Source
from etl.config import Config
from etl.eventstudy.settings import StudySettings
from etl.finops import anomalies, budgets, forecast
from etl.finops.anomalies import AnomalySettings
from etl.gcp import refresh as gcp_refresh
from etl.gcp.api import BillingApiSettings, BillingApiSettingsError
from etl.gcp.bigquery_export import BigQuerySource, Fetched
from etl.loadlog import LoadRecord
from etl.market.fx import FxFetch
from etl.market.prices import PriceFetch
from etl.market.tickers import configured_tickers
from etl.warehouse import Warehouse, WarehouseLockedError, WriteSession

log = logging.getLogger(__name__)

STEPS = ("billing", "gcp", "prices", "fx", "events", "eventstudy", "anomalies", "forecasts", "budgets", "export")


@dataclass
class Step:
    """One step of a run as the summary shows it: ``ok``, ``failed`` or ``skipped``, what it did (counts), why it
    failed or was skipped, and the load records it produced."""

    name: str
    status: str = "ok"
    counts: str = ""
    reason: str = ""
    seconds: float = 0.0
    records: list[LoadRecord] = field(default_factory=list)

    def fail(self, reason: str) -> None:
        self.status, self.reason = "failed", reason

    def skip(self, reason: str) -> None:
        self.status, self.reason = "skipped", reason

    @contextlib.contextmanager
    def attempt(self) -> Iterator[None]:
        """Time a part of the step; an exception ends the step as failed with its reason and is not raised further,
        so the run goes on with the next step. Settings errors are raised: they stop the run before it writes."""
        started = time.monotonic()
        try:
            yield
        except pipelines.SettingsError:
            raise
        except Exception as exc:  # one step's failure must not stop the others
            log.exception("step %s failed", self.name)
            self.fail(f"{type(exc).__name__}: {exc}")
        finally:
            self.seconds += time.monotonic() - started

    @property
    def active(self) -> bool:
        """Whether the step still has work to do (not failed or skipped before the write session)."""
        return self.status == "ok"


@dataclass
class RunReport:
    """What a run did: its steps in order, and warnings that are no failure (e.g. files a manifest does not list)."""

    steps: list[Step]
    warnings: list[str] = field(default_factory=list)
    not_published: str | None = None  # why the write session could not be published (then nothing was changed)

    @property
    def records(self) -> list[LoadRecord]:
        return [record for step in self.steps for record in step.records]

    @property
    def failed(self) -> list[Step]:
        return [step for step in self.steps if step.status == "failed"]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed or self.not_published else 0


@dataclass(frozen=True)
class BillingSource:
    """One ``[[billing.sources]]`` table: its name for the output, its paths (or BigQuery table) and its load
    options."""

    name: str
    path: str
    options: LoadOptions
    bigquery: BigQuerySource | None = None


_FILE_KEYS = ("format", "dataset", "currency", "replace", "mapping")
_BIGQUERY_KEYS = ("location", "labels", "backfill_months", "max_bytes_billed", "billing_project")


def configured_billing(config: Config) -> list[BillingSource]:
    """The configured billing sources with their options checked (a bad value raises SettingsError naming the
    source and the key)."""
    configured = []
    for index, table in enumerate(config.get("billing.sources")):
        where = f"{config.sources['billing.sources']}: setting 'billing.sources'[{index}]"
        kind, foreign = ("bigquery_table", _FILE_KEYS) if "bigquery_table" in table else ("path", _BIGQUERY_KEYS)
        misplaced = [key for key in foreign if key in table]
        if misplaced:
            raise pipelines.SettingsError(f"{where}: key(s) {', '.join(misplaced)} do not apply to a source with "
                                          f"{kind}")
        if kind == "bigquery_table":
            bigquery = pipelines.bigquery_source(table["bigquery_table"], where, name=table.get("name", ""),
                                                 **{key: table[key] for key in _BIGQUERY_KEYS if key in table})
            configured.append(BillingSource(table.get("name", bigquery.label), bigquery.label, LoadOptions(),
                                            bigquery))
            continue
        options = pipelines.billing_options(
            config, format=table.get("format"), dataset=table.get("dataset"), currency=table.get("currency"),
            replace=table.get("replace"), mapping=table.get("mapping"), where=where)
        configured.append(BillingSource(table.get("name", table["path"]), table["path"], options))
    return configured


def run(config: Config, warehouse: Warehouse, *, now: datetime | None = None,
        sleep: Callable[[float], None] = time.sleep) -> RunReport:
    """Run every step (see the module docstring); returns the report, also when steps failed."""
    now = now or datetime.now(UTC)
    configured = configured_billing(config)
    fx_plan = pipelines.plan_fx(config)
    try:
        study_settings = StudySettings.from_config(config)
    except ValueError as exc:
        raise pipelines.SettingsError(str(exc)) from None
    try:
        anomaly_settings = AnomalySettings.from_config(config)
    except ValueError as exc:
        raise pipelines.SettingsError(str(exc)) from None
    try:
        gcp_settings = BillingApiSettings.from_config(config)
    except BillingApiSettingsError as exc:
        raise pipelines.SettingsError(str(exc)) from None
    forecast_settings = forecast.ForecastSettings.from_config(config)
    configured_budgets = budgets.configured_budgets(config)
    _refuse_if_locked(warehouse)
    steps = {name: Step(name) for name in STEPS}
    report = RunReport(list(steps.values()))

    expanded = _expand_billing(steps["billing"], config, configured, report, now)
    gcp_download = _download_gcp(steps["gcp"], config, gcp_settings, now)
    price_fetch = _download_prices(steps["prices"], config, now, sleep)
    fx_fetch = _download_fx(steps["fx"], config, fx_plan, now, sleep)

    try:
        with warehouse.write("run", wait=False) as session:
            log.info("writing %s: lock taken, working on a private copy", warehouse.path)
            writes: dict[str, Callable[[], None]] = {
                "billing": lambda: _store_billing(steps["billing"], config, session, configured, expanded),
                "gcp": lambda: _store_gcp(steps["gcp"], session, gcp_download),
                "prices": lambda: _store_prices(steps["prices"], config, session, price_fetch, now),
                "fx": lambda: _store_fx(steps["fx"], config, session, fx_plan, fx_fetch, now),
                "events": lambda: _events(steps["events"], config, session),
                "eventstudy": lambda: _event_studies(steps["eventstudy"], config, session, study_settings),
                "anomalies": lambda: _anomalies(steps["anomalies"], config, session, anomaly_settings),
                "forecasts": lambda: _forecasts(steps["forecasts"], config, session, forecast_settings),
                "budgets": lambda: _budgets(steps["budgets"], steps["forecasts"], session, configured_budgets,
                                            forecast_settings, report),
            }
            for name, write in writes.items():
                step = steps[name]
                if step.active:
                    with step.attempt():
                        write()
                _log_step(step)
    except (duckdb.Error, OSError) as exc:  # opening the copy or publishing it failed: the published file is as it was
        log.exception("the run's write session was not published")
        report.not_published = f"{type(exc).__name__}: {exc}"
        steps["export"].skip("nothing was published")
        return report
    log.info("published %s", warehouse.path)
    _export(steps["export"], config, warehouse)
    return report


def _refuse_if_locked(warehouse: Warehouse) -> None:
    holder = warehouse.locked_by()
    if holder:
        raise WarehouseLockedError(f"{warehouse.path}: another ETL run holds the writer lock ({holder}); "
                                   "`run` does not wait for it")


def _expand_billing(step: Step, config: Config, configured: list[BillingSource], report: RunReport,
                    now: datetime) -> list[tuple[list[Source], list[LoadRecord]] | Fetched]:
    """Each source's files, or a BigQuery source's result (queried and spooled here, before the writer lock)."""
    if not configured:
        step.skip("no [[billing.sources]] in the configuration")
        return []
    expanded: list[tuple[list[Source], list[LoadRecord]] | Fetched] = []
    with step.attempt():
        for source in configured:
            if source.bigquery is not None:
                expanded.append(pipelines.fetch_bigquery(config, source.bigquery, now=now))
                continue
            sources, unloaded = pipelines.billing_sources([source.path])
            log.info("billing source %s: %d to load, %d not loadable", source.name, len(sources), len(unloaded))
            if not sources and not unloaded:
                report.warnings.append(f"billing source {source.name}: no billing files in {source.path}")
            report.warnings += [f"{record.source}: {record.message}" for record in unloaded if record.ok]
            expanded.append((sources, unloaded))
    return expanded


def _download_gcp(step: Step, config: Config, settings: BillingApiSettings,
                  now: datetime) -> gcp_refresh.Download | None:
    if not settings.configured:
        step.skip("no gcp.billing_accounts configured")
        return None
    fetched = None
    with step.attempt():
        fetched = gcp_refresh.download(config, settings, now=now)
    return fetched


def _store_gcp(step: Step, session: WriteSession, fetched: gcp_refresh.Download | None) -> None:
    assert fetched is not None
    outcome = gcp_refresh.store(session, fetched)
    step.records = outcome.records
    step.counts = gcp_refresh.summary(fetched, outcome)
    if outcome.failed:
        step.fail(f"{len(outcome.failed)} of {len(outcome.records)} Cloud Billing API loads failed")


def _download_prices(step: Step, config: Config, now: datetime, sleep: Callable[[float], None]) -> PriceFetch | None:
    if not configured_tickers(config):
        step.skip("no tickers configured (market.tickers, providers.tickers, market.benchmarks)")
        return None
    fetched = None
    with step.attempt():
        fetched = pipelines.fetch_prices(config, now=now, sleep=sleep)
    return fetched


def _download_fx(step: Step, config: Config, plan: pipelines.FxPlan, now: datetime,
                 sleep: Callable[[float], None]) -> FxFetch | None:
    fetched = None
    with step.attempt():
        fetched = pipelines.fetch_fx(config, plan, now=now, sleep=sleep)
    return fetched


def _store_billing(step: Step, config: Config, session: WriteSession, configured: list[BillingSource],
                   expanded: list[tuple[list[Source], list[LoadRecord]] | Fetched]) -> None:
    for source, found in zip(configured, expanded, strict=True):
        if isinstance(found, Fetched):
            step.records += pipelines.load_bigquery(session, [found], source.options)
            continue
        sources, unloaded = found
        step.records += pipelines.load_billing(config, session, sources, source.options) + unloaded
    _judge(step, "sources")


def _store_prices(step: Step, config: Config, session: WriteSession, fetched: PriceFetch | None,
                  now: datetime) -> None:
    assert fetched is not None  # the step is still active only when the download answered
    step.records = pipelines.store_prices(config, session, fetched.batches, fetched.failures, now)
    _judge(step, "tickers")
    if fetched.unreachable:
        step.fail(f"{fetched.unreachable_reason} (all {len(fetched.failures)} tickers failed)")


def _store_fx(step: Step, config: Config, session: WriteSession, plan: pipelines.FxPlan, fetched: FxFetch | None,
              now: datetime) -> None:
    assert fetched is not None
    step.records = pipelines.store_fx(config, session, plan, fetched, now)
    _judge(step, "pairs")
    if fetched.unreachable:
        reason = next((f.error for f in fetched.failures if f.error and "yfinance said" not in f.error),
                      fetched.failures[0].error if fetched.failures else "")
        step.fail(f"{reason} (all {len(plan.currencies)} FX pairs failed)")
    if not plan.currencies:
        step.counts = f"nothing to fetch: every currency is {plan.reporting_currency}"


def _events(step: Step, config: Config, session: WriteSession) -> None:
    step.records = pipelines.refresh_events(config, session)
    step.counts = (step.records[0].message or "catalog loaded") if step.records else "catalog up to date"


def _event_studies(step: Step, config: Config, session: WriteSession, settings: StudySettings) -> None:
    [(events, prices)] = session.con.execute(
        "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM prices)").fetchall()
    if not events or not prices:
        step.skip("no events stored" if not events else "no prices stored")
        return
    study = pipelines.run_event_studies(config, session, settings)
    counts = Counter(study.tables.pairs["status"])
    step.counts = (f"run {study.run_id}: {len(study.events)} events, {counts['computed']} computed, "
                   f"{counts['excluded']} excluded, {counts['skipped']} skipped, {counts['failed']} failed")
    skipped = study.tables.pairs[study.tables.pairs["status"] == "skipped"]
    if len(skipped):  # no failure: the event predates (or postdates) the stored prices
        step.counts += " (skipped: " + "; ".join(f"{row.event_id} / {row.ticker}: {row.reason}"
                                                 for row in skipped.itertuples()) + ")"
    if counts["failed"]:
        failed = study.tables.pairs[study.tables.pairs["status"] == "failed"]
        first = "; ".join(f"{row.event_id} / {row.ticker}: {row.reason}" for row in failed.head(3).itertuples())
        step.fail(f"{counts['failed']} event/ticker pairs failed, e.g. {first}")


def _anomalies(step: Step, config: Config, session: WriteSession, settings: AnomalySettings) -> None:
    stored = anomalies.run(session, config.get("reporting_currency"), settings)
    step.counts = anomalies.summary(stored)


def _forecasts(step: Step, config: Config, session: WriteSession, settings: forecast.ForecastSettings) -> None:
    if not session.con.execute("SELECT count(*) FROM daily_spend_rollup").fetchall()[0][0]:
        step.skip("no billing data")
        return
    refit = forecast.refit(config, session, settings)
    if refit.totals.empty:
        step.skip(f"no series has {forecast.MIN_HISTORY_DAYS} complete days")
    else:
        step.counts = refit.counts()


def _budgets(step: Step, forecasts: Step, session: WriteSession, configured: list[budgets.Budget],
             settings: forecast.ForecastSettings, report: RunReport) -> None:
    """Every crossed threshold becomes a line of the summary (a warning: the run itself did not fail). Not after a
    failed refit: yesterday's forecasts would be judged against today's actuals."""
    if not configured:
        step.skip("no [[budgets]] configured")
        return
    if forecasts.status == "failed":
        step.skip("the forecasts step failed")
        return
    checked = budgets.check(session, configured, settings)
    report.warnings.extend(str(alert["message"]) for alert in checked.alerts)
    step.counts = checked.counts()
    if checked.skipped:
        step.fail("; ".join(checked.skipped))


def _export(step: Step, config: Config, warehouse: Warehouse) -> None:
    """The lake, from the file just published (read-only: the writer lock is already released)."""
    if not config.get("export.lake_dir"):
        step.skip("export.lake_dir is not set")
    else:
        with step.attempt():
            step.counts = pipelines.export_lake(config, warehouse).counts()
    _log_step(step)


def _judge(step: Step, unit: str) -> None:
    """Counts of a loading step from its records; the step fails when any of them failed."""
    statuses = Counter(record.status for record in step.records)
    rows = sum(record.rows for record in step.records if record.status == "loaded")  # not an unchanged load's
    parts = ", ".join(f"{count} {status}" for status, count in sorted(statuses.items()))
    counted = f"{len(step.records)} {unit if len(step.records) != 1 else unit.removesuffix('s')}"
    step.counts = f"{counted}: {parts or 'none'}; {rows:,} rows written"
    failed = [record for record in step.records if not record.ok]
    if failed:
        step.fail(f"{len(failed)} of {len(step.records)} {unit} failed")


def _log_step(step: Step) -> None:
    level = logging.ERROR if step.status == "failed" else logging.INFO
    log.log(level, "step %s %s in %.1f s: %s", step.name, step.status, step.seconds,
            "; ".join(part for part in (step.counts, step.reason) if part) or "-")
