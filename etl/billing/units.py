"""Replace units: which load owns which rows, so that a newer export replaces what it restates.

A unit is a (provider, billing account, billing period, dataset) for exports that restate whole periods, or the
file name for incremental feeds (OCI cost reports, ``--replace file``); every cost row carries its unit's key in
``x_ReplaceKey`` and table ``replace_unit`` says which load owns each unit. A load's rows take over their units and
the rows of earlier loads in them are deleted, unless both exports carry an export time and the stored one is
newer: then the incoming unit is *superseded* and its own rows are dropped. The same bytes loaded again while
their rows are all still current are *unchanged*.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from etl.billing import rollup
from etl.billing.base import Plan, sql_string
from etl.billing.sources import Source
from etl.loadlog import naive_utc


def replace_key_sql(plan: Plan, source: Source) -> str:
    """The SQL expression of a row's ``x_ReplaceKey`` (over the FOCUS columns) for this plan and source."""
    if plan.replace_scope == "file":
        return sql_string("file|" + Path(source.label).name)
    return ("concat_ws('|', 'period', ServiceProviderName, BillingAccountId, "
            f"strftime(BillingPeriodStart, '%Y-%m-%dT%H:%M:%S'), {sql_string(plan.dataset)})")


def export_time_sql(source: Source) -> str:
    """``x_ExportTime``: the row's own export time, else the source's (an Azure manifest's run time)."""
    if source.export_time is None:
        return "n.x_ExportTime"
    return f"coalesce(n.x_ExportTime, TIMESTAMP '{naive_utc(source.export_time):%Y-%m-%d %H:%M:%S}')"


def claim(con: duckdb.DuckDBPyConnection, load_id: int) -> list[str]:
    """Make ``load_id`` own the units of its rows, deleting the rows it replaces, or its own rows where a newer
    export already owns the unit; marks the touched days for the rollup. Returns the superseded units (the
    billing period of a period key, the key itself otherwise)."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE new_units AS
        SELECT c.x_ReplaceKey AS replace_key, max(c.x_ExportTime) AS export_time,
               (r.export_time IS NOT NULL AND max(c.x_ExportTime) IS NOT NULL
                AND r.export_time > max(c.x_ExportTime)) AS superseded
        FROM cost_line c LEFT JOIN replace_unit r ON r.replace_key = c.x_ReplaceKey
        WHERE c.x_LoadId = ?
        GROUP BY c.x_ReplaceKey, r.export_time
        """,
        [load_id],
    )
    superseded = [row[0] for row in con.execute("SELECT replace_key FROM new_units WHERE superseded ORDER BY 1")
                  .fetchall()]
    rollup.mark_units(con, "new_units")
    con.execute(
        """
        DELETE FROM cost_line c USING new_units u
        WHERE c.x_ReplaceKey = u.replace_key
          AND ((u.superseded AND c.x_LoadId = $1) OR (NOT u.superseded AND c.x_LoadId <> $1))
        """,
        [load_id],
    )
    con.execute(
        "INSERT OR REPLACE INTO replace_unit SELECT replace_key, $1, export_time, now()::TIMESTAMP FROM new_units "
        "WHERE NOT superseded",
        [load_id],
    )
    return [key.split("|")[3] if key.startswith("period|") else key for key in superseded]


def unchanged_load(con: duckdb.DuckDBPyConnection, sha256: str, plan: Plan) -> int | None:
    """The load of the same bytes, format and dataset whose rows are all still in the warehouse, if any."""
    row = con.execute(
        """
        SELECT l.load_id FROM load_log l
        WHERE l.sha256 = ? AND l.format = ? AND l.dataset = ? AND l.status = 'loaded'
          AND l.rows = (SELECT count(*) FROM cost_line c WHERE c.x_LoadId = l.load_id)
        ORDER BY l.load_id DESC LIMIT 1
        """,
        [sha256, plan.format, plan.dataset],
    ).fetchone()
    return row[0] if row else None
