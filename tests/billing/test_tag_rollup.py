"""The tag rollup behind ``daily_tag_spend``: reconciled with the cost rows' own Tags after loads, a replace and the
demo's removal, and backfilled by its migration on an older warehouse."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from decimal import Decimal

from etl.billing.base import LoadOptions
from etl.demo.generator import write_demo_exports
from tests.billing.test_loader import HEADER, focus_row, write
from tests.conftest import FIXTURES

BILLING = FIXTURES / "billing"
TAGGED = (BILLING / "focus" / "focus_1_2_two_providers.csv", BILLING / "gcp" / "gcp_billing_export_v1_standard.jsonl",
          BILLING / "azure" / "ea_2024-08-01_eur.csv", BILLING / "aws" / "cur_legacy_2025-03.csv")
GRAIN = ("date, provider, billing_account_id, sub_account_id, service_category, service_name, charge_category, "
         "currency, tag_key, tag_value")


def from_cost_rows(query) -> dict[tuple, list]:
    """Sums per (grain, tag key, value) computed in Python from every cost row's Tags: a row counts under each key
    with a non-null value, the value as text (a string as it is, anything else as its JSON)."""
    sums: dict[tuple, list] = defaultdict(lambda: [Decimal(0), Decimal(0), Decimal(0), 0])
    for *grain, tags, billed, effective, listed in query(
            "SELECT ChargePeriodStart::DATE, ServiceProviderName, BillingAccountId, SubAccountId, ServiceCategory, "
            "ServiceName, ChargeCategory, BillingCurrency, Tags, BilledCost, EffectiveCost, ListCost FROM cost"):
        parsed = json.loads(tags) if tags else {}
        for key, value in (parsed.items() if isinstance(parsed, dict) else ()):
            if value is not None:
                text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
                total = sums[(*grain, key, text)]
                total[0] += billed
                total[1] += effective
                total[2] += listed
                total[3] += 1
    return dict(sums)


def from_rollup(query) -> dict[tuple, list]:
    return {tuple(row[:10]): list(row[10:]) for row in query(
        f"SELECT {GRAIN}, billed_cost, effective_cost, list_cost, rows FROM daily_tag_spend ORDER BY ALL")}


def test_the_tag_rollup_reconciles_with_the_cost_rows_after_loads_a_replace_and_the_demos_removal(
        load_billing, query, tmp_path):
    load_billing(*write_demo_exports(tmp_path / "demo", rows=600, end=date(2024, 2, 29)),
                 options=LoadOptions(synthetic=True))
    demo = from_rollup(query)
    assert {key[8] for key in demo} >= {"team", "spendscope-demo"} and demo == from_cost_rows(query)

    records = load_billing(*TAGGED)  # real loads: the demo's rows go, with their days of both rollups
    assert all(r.status == "loaded" for r in records), [r.error for r in records]
    assert "removed the demo's SYNTHETIC billing rows" in records[0].message
    loaded = from_rollup(query)
    assert len({key[1] for key in loaded}) == 4 and not {key[8] for key in loaded} & {"spendscope-demo"}
    assert loaded == from_cost_rows(query)

    tagged = '"{""team"": ""ml"", ""env"": ""prod""}"'
    june = write(tmp_path / "june.csv", HEADER + ",Tags", focus_row("10.00", "2025-06-01") + "," + tagged,
                 focus_row("5.00", "2025-06-02") + "," + tagged)
    load_billing(june)
    restated = write(tmp_path / "june-v2.csv", HEADER + ",Tags",
                     focus_row("7.00", "2025-06-02") + ',"{""team"": ""research"", ""env"": null}"')
    load_billing(restated)  # the newer export of the same period replaces the first one's rows
    rollup = from_rollup(query)
    assert rollup == from_cost_rows(query)
    june_tags = sorted((key[0], key[8], key[9], values[1]) for key, values in rollup.items()
                       if key[1:3] == ("CoreWeave", "A1"))
    assert june_tags == [(date(2025, 6, 2), "team", "research", Decimal("7.00"))]


def test_the_migration_backfills_the_tag_rollup_of_an_older_warehouse(load_billing, query, upgrade_from_before):
    load_billing(*TAGGED)
    expected = from_rollup(query)
    assert expected
    upgrade_from_before("tag_rollup", "DROP VIEW daily_tag_spend; DROP TABLE daily_tag_rollup")
    assert from_rollup(query) == expected == from_cost_rows(query)
