"""The Overview's "AI compute" section: the AI share of compute spend (GPU + TPU over all compute) for the page's
range and filters, per provider, and the class breakdown over time (``dashboard.queries.compute``,
``dashboard.charts.compute_classes``). The page calls :func:`section` once."""

from __future__ import annotations

import streamlit as st

from dashboard import charts
from dashboard.formats import money, money_short, percent
from dashboard.queries import compute
from dashboard.queries.spend import MEASURE_LABELS, SpendFilter
from dashboard.ui import widgets
from dashboard.ui.cache import figure
from dashboard.ui.context import AppContext
from dashboard.ui.guard import load

_HOW = ("Compute spend is the rows in service category Compute, and those a GPU or TPU rule recognises elsewhere "
        "(SageMaker's ml.p4d, Cloud TPU). Google Cloud's classes come from its pricing catalog "
        "(`python -m etl gcp catalog`: the SKU's resource group and description); the other providers' from the "
        "rules of `sql/views/62_compute_class.sql` (AWS P/G/Trn/Inf instances, Azure NC/ND/NG/NV VMs, OCI GPU "
        "shapes, CoreWeave GPU SKUs). Compute no rule recognises is *Unclassified*, never guessed, and counts in "
        "the denominator.")
_SYNTHETIC_CATALOG = (" On this demo warehouse Google Cloud's catalog is **synthetic**: made up by "
                      "`python -m etl demo` for its own SKUs, not Google's catalog; a real `gcp catalog` replaces it.")


def section(ctx: AppContext, flt: SpendFilter, grain: str) -> None:
    """The section: KPI tiles, the per-provider table, the small multiples, their CSVs."""
    st.subheader("AI compute")
    if flt.tagged:
        st.info("Compute classes have no tag breakdown: clear the tag filter to see the AI-compute share.",
                icon=":material/memory:")
        return
    shares = load(compute.share_by_provider, ctx.reader, flt=flt)
    if shares.empty:
        st.info("No compute spend in this range with these filters.", icon=":material/memory:")
        return
    total = shares.iloc[-1]
    currency = flt.currency
    tiles = st.columns(4)
    tiles[0].metric("AI share of compute", percent(total["ai_share"]), border=True,
                    help="GPU + TPU spend over all compute spend (Unclassified included) in the range.")
    tiles[1].metric("GPU", money_short(total["gpu"], currency), border=True,
                    help="GPUs and other AI accelerators (Trainium, Inferentia).")
    tiles[2].metric("TPU", money_short(total["tpu"], currency), border=True, help="Google Cloud TPUs.")
    tiles[3].metric("Unclassified", money_short(total["unclassified"], currency), border=True,
                    help="Compute spend no rule recognises (for Google Cloud: a SKU missing from the catalog).")
    basis = MEASURE_LABELS[flt.measure].lower()
    st.caption(f"Of {money(total['compute'], currency)} compute spend ({basis}): GPU {money(total['gpu'], currency)}, "
               f"TPU {money(total['tpu'], currency)}, CPU {money(total['cpu'], currency)}, other compute "
               f"{money(total['other_compute'], currency)}, unclassified {money(total['unclassified'], currency)}. "
               + _HOW + (_SYNTHETIC_CATALOG if load(compute.synthetic_catalog, ctx.reader) else ""))
    widgets.table(shares, "ov-ai-compute", formats={"ai_share": "percent"}, first=["provider", "ai_share"],
                  labels={"ai_share": "AI share", **_amount_labels(currency)})
    widgets.download_csv(shares, "compute spend per provider and class")
    over_time = load(compute.class_over_time, ctx.reader, flt=flt, grain=grain)
    by_provider = dict(zip(shares["provider"], shares["ai_share"], strict=True))
    st.plotly_chart(figure(charts.compute_classes, over_time, by_provider, grain, currency, flt.measure),
                    key="ov-ai-compute-chart", alt="Compute spend per class over time, one panel per provider")
    widgets.download_csv(over_time, f"compute spend per {grain}, provider and class")


def _amount_labels(currency: str) -> dict[str, str]:
    return {**{column: f"{name} ({currency})" for name, column in compute.CLASS_COLUMNS.items()},
            "compute": f"All compute ({currency})"}
