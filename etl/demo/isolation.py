"""Demo data never mixes with real data.

What is demo data is defined once, by the views ``synthetic_loads`` and ``real_data`` (sql/views/50_synthetic.sql).
``python -m etl demo`` refuses a warehouse that holds real billing rows (:func:`refuse_real_billing`); a real load of
one kind removes every synthetic row of that kind in its own transaction (:func:`remove_synthetic`, called by the
billing loader, the market store and the Cloud Billing catalog store), so a warehouse holds either the demo's billing
data or real billing data; the demo's SYNTHETIC Google Cloud pricing catalog goes with its billing rows, or when a
real catalog is stored.
Real prices and rates are market data, true whatever the spend beside them: the demo fetches them itself when Yahoo
answers and keeps those already stored, and stores synthetic ones only for the tickers and currencies that have
none (:func:`real_market_subjects`), so each ticker's and each currency's series is either all real or all
synthetic.
"""

from __future__ import annotations

import logging

import duckdb

from etl.billing import rollup

log = logging.getLogger(__name__)

WHAT = {"billing": "billing rows", "prices": "prices", "fx": "FX rates", "gcp_catalog": "Google Cloud pricing catalog"}


class RealDataError(RuntimeError):
    """The warehouse holds real data, so the demo must not write into it; the message names what was found."""


def describe(con: duckdb.DuckDBPyConnection, view: str, kinds: tuple[str, ...] = tuple(WHAT)) -> str:
    """What ``view`` (``real_data`` or ``synthetic_data``) holds of ``kinds``, per kind and subject:
    ``billing rows: AWS (USD) 1,234 rows; prices: MSFT 250 rows``; empty when nothing."""
    found = con.execute(f"SELECT kind, subject, currency, rows FROM {view} WHERE list_contains($kinds, kind) "
                        "ORDER BY kind, subject", {"kinds": list(kinds)}).fetchall()
    parts = []
    for kind in kinds:
        subjects = [f"{subject} ({currency}) {rows:,} rows" if kind == "billing" else f"{subject} {rows:,} rows"
                    for k, subject, currency, rows in found if k == kind]
        if subjects:
            parts.append(f"{WHAT[kind]}: {', '.join(subjects)}")
    return "; ".join(parts)


def refuse_real_billing(con: duckdb.DuckDBPyConnection) -> None:
    """Raise :class:`RealDataError` naming the real billing rows the warehouse holds."""
    found = describe(con, "real_data", ("billing",))
    if found:
        raise RealDataError(f"the warehouse holds real data ({found}); the demo only writes into a warehouse without "
                            "real billing rows: use another --db")


def real_market_subjects(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The tickers and currencies the warehouse holds real prices or FX rates of."""
    return {subject for (subject,) in con.execute(
        "SELECT DISTINCT subject FROM real_data WHERE kind IN ('prices', 'fx')").fetchall()}


def remove_synthetic(con: duckdb.DuckDBPyConnection, kind: str) -> str | None:
    """Delete every synthetic row of ``kind`` (billing: the demo's cost rows, their replace units, and their days
    marked for the rollup refresh, and the demo's pricing catalog; prices; fx; gcp_catalog: the demo's SKUs and
    their tiers), inside the caller's transaction. Returns what was removed, for the load's message, or None when
    there was nothing."""
    loads = [load_id for (load_id,) in con.execute("SELECT load_id FROM synthetic_loads WHERE kind = ?",
                                                   [kind]).fetchall()]
    if not loads:
        return None
    removed = f"removed the demo's SYNTHETIC {describe(con, 'synthetic_data', (kind,))}"
    if kind == "billing":
        rollup.mark_touched(con, "SELECT DISTINCT ServiceProviderName, BillingAccountId, "
                                 "CAST(ChargePeriodStart AS DATE) FROM cost_line WHERE list_contains(?, x_LoadId)",
                            [loads])
        con.execute("DELETE FROM cost_line WHERE list_contains(?, x_LoadId)", [loads])
        con.execute("DELETE FROM replace_unit WHERE list_contains(?, load_id)", [loads])
        removed = "; ".join(filter(None, [removed, remove_synthetic(con, "gcp_catalog")]))
    elif kind == "gcp_catalog":  # the demo's services: their IDs are the load sources' services/<ID>
        services = "SELECT substr(source, 10) FROM load_log WHERE list_contains(?, load_id)"
        con.execute(f"DELETE FROM gcp_sku_tiers WHERE sku_id IN (SELECT sku_id FROM gcp_sku_catalog "
                    f"WHERE service_id IN ({services}))", [loads])
        con.execute(f"DELETE FROM gcp_sku_catalog WHERE service_id IN ({services})", [loads])
    else:
        con.execute(f"DELETE FROM {'prices' if kind == 'prices' else 'fx_rates'} WHERE list_contains(?, load_id)",
                    [loads])
    log.info("%s (%d demo load%s, %s), replaced by real data", removed, len(loads), "" if len(loads) == 1 else "s",
             _id_ranges(loads))
    return removed


def _id_ranges(ids: list[int]) -> str:
    """Load ids as compact ranges (``ids 1-120, 140``), so a cron mail line stays short."""
    runs: list[list[int]] = []
    for load_id in sorted(ids):
        if runs and load_id == runs[-1][-1] + 1:
            runs[-1].append(load_id)
        else:
            runs.append([load_id])
    return "ids " + ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)
