"""What the Commitments page says about its rows: totals per billing currency, never across currencies.

No Streamlit and no SQL: it works on the frames of ``dashboard.queries.commitments``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pandas as pd

from dashboard.formats import money


@dataclass(frozen=True)
class CurrencyTotals:
    """One billing currency's commitments over the shown months: used and unused commitment cost (of the
    commitments whose export reports an unused part), their utilization, and eligible spend and its coverage."""

    currency: str
    used: Decimal
    unused: Decimal
    utilization: float | None
    eligible: Decimal
    covered: Decimal
    coverage: float | None


def totals(utilization: pd.DataFrame, coverage: pd.DataFrame) -> list[CurrencyTotals]:
    """Per billing currency, sorted: utilization = used / (used + unused) over the commitments that report an
    unused part, coverage = covered / eligible."""
    reported = utilization[utilization["unused_cost"].notna()]
    result = []
    for currency in sorted(set(utilization["currency"]) | set(coverage["currency"])):
        mine = reported[reported["currency"] == currency]
        used, unused = _sum(mine["used_cost"]), _sum(mine["unused_cost"])
        spend = coverage[coverage["currency"] == currency]
        eligible, covered = _sum(spend["eligible_cost"]), _sum(spend["covered_cost"])
        result.append(CurrencyTotals(currency, used, unused, _ratio(used, used + unused), eligible, covered,
                                     _ratio(covered, eligible)))
    return result


def headline(totals: list[CurrencyTotals]) -> str:
    """One sentence per currency: the unused commitment cost first (the money at stake), then the rates."""
    if not totals:
        return "No commitment or commitment-eligible compute spend in these months."
    parts = []
    for t in totals:
        cover = f"{t.coverage:.1%} of eligible compute covered" if t.coverage is not None else "no eligible compute"
        if t.utilization is None and not t.unused:  # nothing reported unused: no commitment, or only Google's
            parts.append(f"{t.currency}: no unused commitment reported; {cover}.")
            continue
        rate = f"{t.utilization:.1%} utilized" if t.utilization is not None else "utilization not reported"
        parts.append(f"**{money(t.unused, t.currency)} of commitments unused** ({rate}); {cover}.")
    return " ".join(parts)


def _sum(values: pd.Series) -> Decimal:
    return sum((Decimal(str(v)) for v in values.dropna()), Decimal(0))


def _ratio(part: Decimal, whole: Decimal) -> float | None:
    return float(part / whole) if whole else None
