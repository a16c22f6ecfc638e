"""The Cloud Billing API refresh as one job, for ``python -m etl gcp accounts|catalog`` and the ``gcp`` step of
``run``: :func:`download` talks to Google (before the writer lock), :func:`store` writes in a write session
(accounts and projects, the catalog and the compute classes it decides, then the ListCost of Google rows without
one, see :mod:`etl.gcp.listcost`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from etl.billing import compute_rollup
from etl.config import Config
from etl.gcp import accounts, catalog, listcost
from etl.gcp.api import BillingApiSettings, list_retry
from etl.loadlog import LoadRecord
from etl.warehouse import WarehouseMissingError, WriteSession, connect_readonly

if TYPE_CHECKING:
    from google.api_core.retry import Retry

log = logging.getLogger(__name__)


@dataclass
class Download:
    """What the API answered: the accounts and their checks, the catalog, or None for a part not asked for."""

    accounts: accounts.AccountsFetch | None = None
    catalog: catalog.CatalogFetch | None = None


@dataclass
class Outcome:
    records: list[LoadRecord] = field(default_factory=list)
    list_cost_rows: int = 0

    @property
    def failed(self) -> list[LoadRecord]:
        return [record for record in self.records if not record.ok]


def catalog_refreshed(db: Path) -> dict[str, datetime]:
    """When each catalog service last refreshed, read from the published warehouse (empty when there is none)."""
    try:
        con = connect_readonly(db)
    except WarehouseMissingError:
        return {}
    try:
        return catalog.last_refreshed(con)
    finally:
        con.close()


def download(config: Config, settings: BillingApiSettings, *, now: datetime, with_accounts: bool = True,
             with_catalog: bool = True, force: bool = False, retry: Retry | None = None) -> Download:
    """Ask the Cloud Billing API (clients from etl/gcp/clients.py); raises GcpCredentialsError without credentials."""
    from etl.gcp import clients

    gcp = clients.GcpSettings.from_config(config)
    retry = retry or list_retry()
    got = Download()
    if with_accounts:
        got.accounts = accounts.fetch(clients.billing_client(gcp), settings.accounts, retry)
    if with_catalog:
        got.catalog = catalog.fetch(clients.catalog_client(gcp), settings.services, settings.currency, retry,
                                    refreshed=catalog_refreshed(config.db_path), now=now, force=force)
    return got


def store(session: WriteSession, got: Download) -> Outcome:
    outcome = Outcome()
    if got.accounts is not None:
        outcome.records += accounts.store(session, got.accounts)
    if got.catalog is not None:
        stored = catalog.store(session, got.catalog)
        outcome.records += stored
        if any(record.ok for record in stored):  # a new catalog can change Google's compute classes
            compute_rollup.reclassify(session)
        outcome.list_cost_rows = listcost.fill(session)
    return outcome


def summary(got: Download, outcome: Outcome) -> str:
    """One line: accounts visible of checked, services refreshed and fresh, ListCost rows filled."""
    parts = []
    if got.accounts is not None:
        visible = sum(check.visible for check in got.accounts.checks)
        parts.append(f"{visible} of {len(got.accounts.checks)} billing accounts visible")
    if got.catalog is not None:
        fetched = got.catalog.fetched
        skus = sum(len(s.skus) for s in fetched if s.error is None)
        parts.append(f"catalog: {len(fetched)} services refreshed ({skus:,} SKUs)")
        if got.catalog.fresh:
            parts.append(f"{len(got.catalog.fresh)} refreshed less than 24 h ago (--force refreshes them)")
        if got.catalog.missing:
            parts.append(f"not in the catalog: {', '.join(got.catalog.missing)} (gcp.catalog_services)")
        parts.append(f"ListCost from list prices on {outcome.list_cost_rows:,} rows")
    return "; ".join(parts)
