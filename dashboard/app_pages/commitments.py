"""Commitments: are the Savings Plans, reservations and committed-use discounts used, and how much of the
commitment-eligible compute spend do they cover (README, "Commitments").

A thin page over ``dashboard.queries.commitments`` (the views over the loader's monthly commitment rollup),
``dashboard.services.commitments`` (totals per billing currency) and the figures of ``dashboard.charts``. Amounts
stay in their billing currency; every chart and table has a CSV download of what it shows.
"""

import streamlit as st

from dashboard import charts
from dashboard.formats import money
from dashboard.queries import commitments
from dashboard.services import commitments as summary
from dashboard.ui.cache import figure
from dashboard.ui.guard import load, start_page
from dashboard.ui.tables import OWN_CURRENCY
from dashboard.ui.widgets import download_csv, synthetic_label, table

ctx, facts = start_page("Commitments", requires=("billing",))
headline = st.empty()  # the page's answer in one sentence, written once the figures are loaded
synthetic_label(facts)
months = load(commitments.months, ctx.reader)
if not months:
    st.info("No commitment and no commitment-eligible compute spend is loaded: the exports hold no Savings Plan, "
            "reservation or committed-use discount, and no on-demand compute usage.", icon=":material/handshake:")
    st.stop()

with st.sidebar:
    st.subheader("Filters")
    first, last = st.select_slider("Months", options=months, value=(months[max(len(months) - 12, 0)], months[-1]),
                                   format_func=lambda m: m.strftime("%b %Y"), key="cm_months")
used = load(commitments.utilization, ctx.reader, start=first, end=last)
covered = load(commitments.coverage, ctx.reader, start=first, end=last)
totals = summary.totals(used, covered)
headline.markdown(summary.headline(totals))

# --- per currency: unused commitment cost first --------------------------------------------------------------
for t in totals:
    cols = st.columns(3)
    cols[0].metric(f"Unused commitment cost ({t.currency})", money(t.unused, t.currency),
                   help="Effective cost of commitments not used in these months (Unused status rows).")
    cols[1].metric(f"Utilization ({t.currency})", "–" if t.utilization is None else f"{t.utilization:.1%}",
                   help="Used / (used + unused) commitment cost, of the commitments whose export reports unused.")
    cols[2].metric(f"Coverage ({t.currency})", "–" if t.coverage is None else f"{t.coverage:.1%}",
                   help="Covered / eligible compute spend (usage of ServiceCategory Compute priced on demand or "
                        "by a commitment), by effective cost.")

st.subheader("Utilization")
st.caption("Per commitment and month: the commitment cost that covered usage (*used*) and the part left unused, "
           "by effective cost in the billing currency; utilization = used / (used + unused). Google's billing "
           "export reports no unused commitment, so its committed-use discounts show the used cost only.")
if used.empty:
    st.info("No commitment was used or left unused in these months.", icon=":material/handshake:")
else:
    currencies = sorted(used["currency"].unique())
    default = ctx.currency if ctx.currency in currencies else currencies[0]  # the reporting currency first
    currency = currencies[0] if len(currencies) == 1 else st.segmented_control(
        "Billing currency", currencies, default=default, required=True, key="cm_currency",
        help="The cost chart shows one billing currency: amounts of different currencies are never added.")
    cost = figure(charts.commitment_cost, used[used["currency"] == currency], currency)
    st.plotly_chart(cost, key="commitment-cost")
    rates = figure(charts.commitment_utilization, used)
    st.plotly_chart(rates, key="commitment-utilization")
    table(used, "commitment-utilization-table", OWN_CURRENCY,
          first=("month", "provider", "commitment_name", "utilization", "currency", "unused_cost", "used_cost"),
          labels={"commitment_name": "Commitment", "billing_account_id": "Billing account",
                  "commitment_id": "Commitment ID"})
    download_csv(used, "commitment utilization")

st.subheader("Coverage")
st.caption("Per provider and month: the share of commitment-eligible compute spend (usage of ServiceCategory "
           "Compute priced on demand or by a commitment; not spot, not the unused commitment) that commitments "
           "covered, by effective cost in the billing currency.")
if covered.empty:
    st.info("No commitment-eligible compute spend in these months.", icon=":material/handshake:")
else:
    st.plotly_chart(figure(charts.commitment_coverage, covered), key="commitment-coverage")
    table(covered.sort_values(["month", "provider"], ascending=[False, True]), "commitment-coverage-table",
          OWN_CURRENCY,
          first=("month", "provider", "coverage", "currency", "covered_cost", "on_demand_cost", "eligible_cost"))
    download_csv(covered, "commitment coverage")
