"""dashboard.queries.spend against the fixture warehouse, checked with totals computed independently in Python."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from dashboard.queries import spend
from dashboard.queries.reader import Reader
from dashboard.queries.spend import SpendFilter
from tests.dashboard.builders import FIRST, LAST, expected

AI_COMPUTE = ("AI and Machine Learning", "Compute")


@pytest.fixture
def reader(spend_db) -> Reader:
    return Reader(spend_db)


@pytest.fixture
def everything() -> SpendFilter:
    return SpendFilter(FIRST, LAST, currency="USD")


def test_filter_options_come_from_the_rollup(reader):
    options = spend.filter_options(reader)
    assert (options.first_day, options.last_day) == (FIRST, LAST)
    assert options.providers == ("CoreWeave", "Google Cloud", "Microsoft")
    assert options.categories == ("AI and Machine Learning", "Compute", "Networking", "Storage")
    assert options.accounts == (("C-1", "CoreWeave: Acme (CoreWeave) (C-1)"),
                                ("G-1", "Google Cloud: Acme (Google Cloud) (G-1)"),
                                ("M-1", "Microsoft: Acme (Azure) (M-1)"))


def test_kpis_equal_independent_totals(reader, everything):
    k = spend.kpis(reader, everything)
    assert k.as_of == LAST
    assert (k.this_month_start, k.last_month_start) == (date(2025, 6, 1), date(2025, 5, 1))
    assert k.this_month == expected(date(2025, 6, 1), LAST)
    assert k.last_month == expected(date(2025, 5, 1), date(2025, 5, 31))
    assert k.last_month_same_days == expected(date(2025, 5, 1), date(2025, 5, 30))
    assert k.total == expected(FIRST, LAST) == Decimal("34672.5")
    assert k.top_provider == "Google Cloud"
    assert k.top_provider_amount == expected(FIRST, LAST, providers=("Google Cloud",))
    assert k.ai_compute == expected(FIRST, LAST, categories=AI_COMPUTE)
    assert k.month_over_month == pytest.approx(float(k.this_month / k.last_month_same_days - 1))
    assert k.top_provider_share == pytest.approx(float(k.top_provider_amount / k.total))


def test_kpis_of_a_range_ending_mid_month_compare_the_same_days(reader, everything):
    k = spend.kpis(reader, replace(everything, start=date(2025, 4, 1), end=date(2025, 6, 15)))
    assert k.as_of == date(2025, 6, 15)
    assert k.this_month == expected(date(2025, 6, 1), date(2025, 6, 15))
    assert k.last_month == expected(date(2025, 5, 1), date(2025, 5, 31))
    assert k.last_month_same_days == expected(date(2025, 5, 1), date(2025, 5, 15))
    assert k.total == expected(date(2025, 4, 1), date(2025, 6, 15))  # the range, not the months


def test_the_cost_basis_and_the_filters_change_the_totals(reader, everything):
    for measure in ("billed", "list"):
        assert spend.kpis(reader, replace(everything, measure=measure)).total == expected(FIRST, LAST, measure)
    only = replace(everything, providers=("CoreWeave", "Microsoft"), categories=("Compute",))
    assert spend.kpis(reader, only).total == expected(FIRST, LAST, providers=("CoreWeave", "Microsoft"),
                                                      categories=("Compute",))
    assert spend.kpis(reader, replace(everything, accounts=("G-1",))).total == expected(
        FIRST, LAST, providers=("Google Cloud",))


def test_amounts_without_a_rate_are_listed_apart_and_never_in_the_totals(reader, everything):
    missing = spend.unconverted(reader, everything)
    assert missing[["currency", "rows", "amount"]].values.tolist() == [["EUR", 9, 405.0]]  # 9 days x 50 x 0.9
    assert [d.date() for d in (missing["first_day"][0], missing["last_day"][0])] == [FIRST, date(2025, 3, 9)]
    assert missing["fx_issue"][0] == "no EUR/USD rate on or before 2025-03-09"
    total = spend.kpis(reader, everything).total
    assert total == expected(FIRST, LAST) != expected(FIRST, LAST, converted_only=False)
    assert spend.unconverted(reader, replace(everything, start=date(2025, 4, 1))).empty


def test_another_reporting_currency_follows_the_setting(reader, everything):
    eur = replace(everything, currency="EUR")
    # every USD cost converts with 1 / 1.10 from 2025-03-10; before that there is no EUR rate at all, so the
    # USD rows of 9 days x 4 services cannot be shown in EUR
    assert spend.unconverted(reader, eur)[["currency", "rows"]].values.tolist() == [["USD", 36]]
    k = spend.kpis(reader, replace(eur, start=date(2025, 3, 10)))
    usd_rows = expected(date(2025, 3, 10), LAST) - expected(date(2025, 3, 10), LAST, providers=("Microsoft",))
    eur_rows = expected(date(2025, 3, 10), LAST, providers=("Microsoft",)) / Decimal("1.10")
    assert float(k.total) == pytest.approx(float(usd_rows / Decimal("1.10") + eur_rows), abs=1e-6)


def test_spend_over_time_per_month_and_provider(reader, everything):
    frame = spend.spend_over_time(reader, everything, grain="month", by="provider")
    assert list(frame.columns) == ["period", "provider", "amount"]
    got = {(p.date(), name): amount for p, name, amount in frame.itertuples(index=False)}
    for month in (3, 4, 5, 6):
        first = date(2025, month, 1)
        last = date(2025, month + 1, 1).replace(day=1) if month < 12 else None
        last = date.fromordinal(last.toordinal() - 1)
        for provider in ("CoreWeave", "Google Cloud", "Microsoft"):
            assert got[(first, provider)] == pytest.approx(float(expected(first, last, providers=(provider,))))
    assert sum(got.values()) == pytest.approx(float(expected(FIRST, LAST)))


def test_small_groups_are_one_row_all_other(reader, everything):
    frame = spend.spend_by(reader, everything, by="service", top=2)
    assert frame["service"].tolist() == ["Cloud TPU (Google Cloud)", "GPU Compute (CoreWeave)", "All other"]
    assert frame["amount"].sum() == pytest.approx(float(expected(FIRST, LAST)))
    assert frame["share"].sum() == pytest.approx(1.0)
    by_week = spend.spend_over_time(reader, everything, grain="week", by="service", top=1)
    assert set(by_week["service"]) == {"Cloud TPU (Google Cloud)", "All other"}
    assert by_week["period"].min().date() == date(2025, 2, 24)  # weeks start on Monday


def test_spend_by_service_category(reader, everything):
    frame = spend.spend_by(reader, everything, by="service_category")
    got = dict(zip(frame["service_category"], frame["amount"], strict=True))
    assert got == pytest.approx({c: float(expected(FIRST, LAST, categories=(c,))) for c in
                                 ("AI and Machine Learning", "Compute", "Networking", "Storage")})
    assert list(got) == sorted(got, key=got.get, reverse=True)


def test_top_movers_last_full_month_against_the_one_before(reader, everything):
    current, previous = (date(2025, 6, 1), LAST), (date(2025, 5, 1), date(2025, 5, 31))
    movers = spend.top_movers(reader, everything, current, previous)
    assert list(movers.columns) == ["provider", "service_name", "service_category", "previous", "current", "change",
                                    "change_pct"]
    first = movers.iloc[0]
    assert (first.provider, first.service_name) == ("CoreWeave", "GPU Compute")
    assert (first.previous, first.current) == pytest.approx((80 * 31 * 0.9, 120 * 30 * 0.9))
    assert first.change_pct == pytest.approx((120 * 30 / (80 * 31) - 1) * 100)
    assert movers["change"].abs().is_monotonic_decreasing
    # every service runs 30 days in June and 31 in May, so all of them moved
    assert len(movers) == 5


def test_tag_keys_values_and_the_tag_filter(reader, everything):
    assert spend.tag_keys(reader, FIRST, LAST) == ("cost/center", "env", "team")
    values = spend.tag_values(reader, "team", FIRST, LAST)
    assert values.values.tolist() == [["research", 244], ["platform", 122], ["training", 122]]
    research = replace(everything, tag_key="team", tag_value="research")
    k = spend.kpis(reader, research)
    assert k.total == expected(FIRST, LAST, team="research")
    assert k.top_provider == "Google Cloud"
    assert spend.unconverted(reader, research)[["currency", "rows", "amount"]].values.tolist() == [["EUR", 9, 405.0]]
    by_provider = spend.spend_by(reader, research, by="provider")
    assert by_provider["provider"].tolist() == ["Google Cloud", "Microsoft"]
    # a key with a slash: matched exactly (JSON pointer), not as a path
    ml = replace(everything, tag_key="cost/center", tag_value="ml")
    assert spend.kpis(reader, ml).total == expected(FIRST, LAST, providers=("CoreWeave",), categories=("Compute",))


def test_the_tagged_path_converts_like_the_rollup(reader, everything):
    """A tag shared by every row of a provider gives the same converted amounts as the untagged rollup."""
    tagged = spend.spend_over_time(reader, replace(everything, tag_key="team", tag_value="training"), "day",
                                   "provider")
    plain = spend.spend_over_time(reader, replace(everything, categories=("Compute",), providers=("CoreWeave",)),
                                  "day", "provider")
    assert tagged.values.tolist() == plain.values.tolist()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"measure": "net"}, "unknown cost basis"),
    ({"start": date(2025, 7, 1)}, "starts (2025-07-01) after it ends"),
    ({"tag_key": "team"}, "needs both a key and a value"),
])
def test_a_bad_filter_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        SpendFilter(**({"start": FIRST, "end": LAST} | kwargs))
