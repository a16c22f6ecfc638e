"""Billing accounts and their projects from the Cloud Billing API, and the check that each account is visible.

:func:`fetch` talks to Google (no warehouse, so it runs before the writer lock); :func:`store` writes what it got in
a write session: the listed accounts (table ``gcp_billing_accounts``, whose names fill ``BillingAccountName``
where an export lacks it), the projects linked to each checked account (``gcp_projects``: the API gives the
project ID only) and the check itself (``gcp_account_checks``). The checked accounts are ``gcp.billing_accounts``,
else every listed account. Each check is one load: a ``load_log`` row of kind ``gcp_account`` with source
``billingAccounts/<ID>``, so an account the credentials cannot see is an open failure in ``status`` (naming the
account) until a later check of it succeeds; the other accounts are still checked and stored.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import duckdb

from etl.gcp.api import PAGE_SIZE, describe, is_not_visible
from etl.loadlog import LoadRecord, naive_utc
from etl.loadlog import write as write_load
from etl.warehouse import WriteSession

if TYPE_CHECKING:
    from google.api_core.retry import Retry
    from google.cloud.billing_v1 import CloudBillingClient

log = logging.getLogger(__name__)

LIST_SOURCE = "billingAccounts"


@dataclass(frozen=True)
class Account:
    account_id: str
    display_name: str
    open: bool
    master_account: str | None


@dataclass
class AccountCheck:
    """One checked account: its linked projects (ID, billing enabled), or why it is not visible."""

    account_id: str
    projects: list[tuple[str, bool]] = field(default_factory=list)
    error: str | None = None
    started: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def visible(self) -> bool:
        return self.error is None


@dataclass
class AccountsFetch:
    listed: list[Account]
    checks: list[AccountCheck]
    list_error: str | None = None
    started: datetime = field(default_factory=lambda: datetime.now(UTC))


def fetch(client: CloudBillingClient, wanted: Sequence[str], retry: Retry) -> AccountsFetch:
    """List the visible billing accounts, then the projects of each wanted one (every listed one when none)."""
    started = datetime.now(UTC)
    listed: list[Account] = []
    list_error = None
    try:
        for account in client.list_billing_accounts(request={"page_size": PAGE_SIZE}, retry=retry):
            listed.append(Account(_bare(account.name), account.display_name, account.open,
                                  _bare(account.master_billing_account) or None))
        log.info("Cloud Billing API: %d billing accounts visible", len(listed))
    except Exception as exc:  # the checks below still say which configured accounts are visible
        list_error = f"listing the billing accounts failed: {describe(exc)}"
        log.error("%s", list_error)
    checks = [_check(client, account, retry) for account in (wanted or [a.account_id for a in listed])]
    return AccountsFetch(listed, checks, list_error, started)


def _check(client: CloudBillingClient, account: str, retry: Retry) -> AccountCheck:
    check = AccountCheck(account)
    try:
        pages = client.list_project_billing_info(request={"name": f"billingAccounts/{account}",
                                                          "page_size": PAGE_SIZE}, retry=retry)
        check.projects = [(info.project_id, info.billing_enabled) for info in pages]
        log.info("billing account %s: visible, %d projects", account, len(check.projects))
    except Exception as exc:
        if is_not_visible(exc):
            check.error = (f"billing account {account} is not visible with the configured credentials "
                           f"({describe(exc)}); grant them Billing Account Viewer (roles/billing.viewer) on it, "
                           "or remove it from gcp.billing_accounts")
        else:
            check.error = f"billing account {account}: listing its projects failed ({describe(exc)})"
        log.error("%s", check.error)
    return check


def store(session: WriteSession, fetched: AccountsFetch) -> list[LoadRecord]:
    """Write the fetch (see the module docstring): one transaction and one load_log row per account check, and one
    for the account list."""
    now = naive_utc(datetime.now(UTC))
    listing = LoadRecord("gcp_accounts", LIST_SOURCE, format="cloudbilling", started=fetched.started)
    with session.transaction() as con:
        if fetched.list_error:
            listing.error = fetched.list_error
        else:
            con.execute("DELETE FROM gcp_billing_accounts")
            _insert(con, "gcp_billing_accounts",
                    [(a.account_id, a.display_name, a.open, a.master_account, now) for a in fetched.listed])
            listing.status, listing.rows = "loaded", len(fetched.listed)
            listing.message = f"{len(fetched.listed)} billing accounts visible"
        write_load(con, listing)
    records = [listing]
    names = {a.account_id: a.display_name for a in fetched.listed}
    for check in fetched.checks:
        records.append(_store_check(session, check, names.get(check.account_id), now))
    return records


def _store_check(session: WriteSession, check: AccountCheck, name: str | None, now: datetime | None) -> LoadRecord:
    record = LoadRecord("gcp_account", f"{LIST_SOURCE}/{check.account_id}", format="cloudbilling",
                        started=check.started, scope=[("Google Cloud", check.account_id)])
    with session.transaction() as con:
        con.execute("DELETE FROM gcp_account_checks WHERE billing_account_id = ?", [check.account_id])
        con.execute("INSERT INTO gcp_account_checks VALUES (?, ?, ?, ?, ?)",
                    [check.account_id, check.visible, len(check.projects) if check.visible else None, check.error,
                     now])
        if check.visible:
            # a project moved from another account belongs to this one now
            con.execute("DELETE FROM gcp_projects WHERE billing_account_id = ? OR list_contains(?, project_id)",
                        [check.account_id, [project for project, _ in check.projects]])
            _insert(con, "gcp_projects",
                    [(project, check.account_id, enabled, now) for project, enabled in check.projects])
            record.status, record.rows = "loaded", len(check.projects)
            record.message = f"{name or check.account_id}: {len(check.projects)} projects"
        else:
            record.error = check.error
        write_load(con, record)
    return record


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple]) -> None:
    if rows:
        con.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)


def _bare(name: str) -> str:
    """``012345-6789AB-CDEF01`` from the resource name ``billingAccounts/012345-6789AB-CDEF01``."""
    return name.removeprefix(f"{LIST_SOURCE}/")


def account_status(con: duckdb.DuckDBPyConnection, configured: Sequence[str]) -> list[dict[str, object]]:
    """What ``status`` reports per account: the last check of each configured (or checked) account: account,
    name, visible (None: never checked), projects, error, checked_at. ``status`` reads what the last refresh stored
    (it never calls Google, so it stays fast and cron-friendly)."""
    rows = con.execute(
        """
        WITH wanted AS (SELECT unnest(?::VARCHAR[]) AS billing_account_id
                        UNION SELECT billing_account_id FROM gcp_account_checks)
        SELECT w.billing_account_id, a.display_name, c.visible, c.projects, c.error, c.checked_at
        FROM wanted w
        LEFT JOIN gcp_account_checks c USING (billing_account_id)
        LEFT JOIN gcp_billing_accounts a USING (billing_account_id)
        ORDER BY 1
        """, [list(configured)]).fetchall()
    never = "never checked: run `python -m etl gcp accounts`"
    return [{"account": account, "name": name, "visible": visible, "projects": projects,
             "error": error if visible is not None else never, "checked_at": checked}
            for account, name, visible, projects, error, checked in rows]
