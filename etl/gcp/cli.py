"""``python -m etl gcp accounts`` and ``python -m etl gcp catalog [--force]``: refresh what the Cloud Billing API
knows (billing accounts and their projects; the pricing catalog). Google is asked before the writer lock is taken;
everything is then written in one write session. Exit 1 when an account or service failed (the summary says
which), 2 for a settings or credentials problem."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from etl.context import Context
from etl.gcp import refresh
from etl.gcp.api import BillingApiSettings, BillingApiSettingsError
from etl.loadlog import summary_table


def register(commands: argparse._SubParsersAction) -> None:
    gcp = commands.add_parser("gcp", help="refresh Google Cloud billing accounts, projects and the SKU catalog",
                              description="The Cloud Billing API: billing accounts, their projects and the pricing "
                                          "catalog (settings gcp.*).")
    sub = gcp.add_subparsers(dest="gcp_command", metavar="SUBCOMMAND", required=True)
    accounts = sub.add_parser(
        "accounts", help="store the billing accounts and their projects; check each configured account",
        description="List the billing accounts the credentials see and the projects linked to each account of "
                    "gcp.billing_accounts (every listed one when empty). An account that is not visible is a failed "
                    "load naming it (status shows it until a later check succeeds). Exit 1 when one failed.")
    accounts.set_defaults(func=run_gcp, with_accounts=True, with_catalog=False, force=False)
    catalog = sub.add_parser(
        "catalog", help="refresh the SKU catalog (at most daily) and fill missing Google list costs",
        description="Fetch the SKUs and tiered list prices of gcp.catalog_services in gcp.catalog_currency, at most "
                    "once a day per service, then fill ListCost of Google Cloud rows whose export had none. "
                    "Exit 1 when a service failed.")
    catalog.add_argument("--force", action="store_true", help="refresh even services refreshed less than 24 h ago")
    catalog.set_defaults(func=run_gcp, with_accounts=False, with_catalog=True)


def run_gcp(args: argparse.Namespace, ctx: Context) -> int:
    from etl.gcp.clients import GcpCredentialsError

    try:
        settings = BillingApiSettings.from_config(ctx.config)
        got = refresh.download(ctx.config, settings, now=datetime.now(UTC), with_accounts=args.with_accounts,
                               with_catalog=args.with_catalog, force=args.force)
    except (BillingApiSettingsError, GcpCredentialsError) as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    with ctx.warehouse.write(f"gcp {args.gcp_command}") as session:
        outcome = refresh.store(session, got)
    if outcome.records:
        print(summary_table(outcome.records))
    print(refresh.summary(got, outcome))
    for record in outcome.failed:
        print(f"error: {record.source}: {record.error}", file=sys.stderr)
    return 1 if outcome.failed else 0
