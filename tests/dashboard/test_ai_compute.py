"""The Overview's AI-compute section: its queries against the fixture warehouse (tests/dashboard/builders.py, where
CoreWeave's GPU Compute is GPU and Microsoft's Virtual Machines CPU; Google's Cloud TPU has no catalog, so it is not
compute), and the section under AppTest showing those values."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
import pytest

from dashboard.formats import money_short
from dashboard.queries import compute
from dashboard.queries.reader import Reader
from dashboard.queries.spend import SpendFilter
from tests.dashboard.apptest import figures, values
from tests.dashboard.builders import FIRST, LAST, expected


def _gpu(first: date = FIRST, last: date = LAST) -> Decimal:
    return expected(first, last, providers=("CoreWeave",), categories=("Compute",))


def _cpu(first: date = FIRST, last: date = LAST) -> Decimal:
    return expected(first, last, providers=("Microsoft",))  # converted from EUR, the days without a rate left out


def test_the_share_per_provider_equals_the_fixture_spend(spend_db):
    shares = compute.share_by_provider(Reader(spend_db), SpendFilter(FIRST, LAST, currency="USD"))
    gpu, cpu = float(_gpu()), float(_cpu())
    assert gpu == 0.9 * (80 * 92 + 120 * 30) and round(cpu, 6) == round(0.9 * 50 * 1.10 * (122 - 9), 6)
    assert shares["provider"].tolist() == ["CoreWeave", "Microsoft", "All providers"]
    assert shares.drop(columns="provider").values.ravel().tolist() == pytest.approx([
        gpu, 0, 0, 0, 0, gpu, 1.0,
        0, 0, cpu, 0, 0, cpu, 0.0,  # no accelerators: a share of 0, not missing
        gpu, 0, cpu, 0, 0, gpu + cpu, gpu / (gpu + cpu)])


def test_the_filters_and_the_cost_basis_apply(spend_db):
    reader = Reader(spend_db)
    june = SpendFilter(date(2025, 6, 1), LAST, currency="USD", measure="billed", providers=("CoreWeave",))
    assert compute.share_by_provider(reader, june)[["provider", "gpu", "compute"]].values.tolist() == [
        ["CoreWeave", 3600.0, 3600.0], ["All providers", 3600.0, 3600.0]]
    storage = SpendFilter(FIRST, LAST, categories=("Storage",))
    assert compute.share_by_provider(reader, storage).empty
    with pytest.raises(ValueError, match="no tag breakdown"):
        compute.share_by_provider(reader, SpendFilter(FIRST, LAST, tag_key="team", tag_value="research"))


def test_the_classes_over_time(spend_db):
    frame = compute.class_over_time(Reader(spend_db), SpendFilter(FIRST, LAST, currency="USD"), "month")
    assert frame.columns.tolist() == ["period", "provider", "compute_class", "amount"]
    months = [(date(2025, m, 1), date(2025, m + 1, 1) - pd.Timedelta(days=1)) for m in (3, 4, 5)] + [
        (date(2025, 6, 1), LAST)]
    want = []
    for first, last in months:
        want += [(pd.Timestamp(first), "CoreWeave", "GPU", float(_gpu(first, last))),
                 (pd.Timestamp(first), "Microsoft", "CPU", float(_cpu(first, last)))]
    got = [tuple(row) for row in frame.itertuples(index=False)]
    assert [row[:3] for row in got] == [row[:3] for row in want]
    assert [row[3] for row in got] == pytest.approx([row[3] for row in want])


def test_the_overview_shows_the_section(app, spend_db, csvs):
    at = app()
    gpu, cpu = _gpu(), _cpu()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["AI share of compute"] == f"{gpu / (gpu + cpu):.1%}"
    assert metrics["GPU"] == money_short(gpu, "USD") and metrics["TPU"] == "USD 0"
    assert metrics["Unclassified"] == "USD 0"
    shown = next(d.value for d in at.dataframe if "ai_share" in d.value.columns)
    assert shown["provider"].tolist() == ["CoreWeave", "Microsoft", "All providers"]
    pd.testing.assert_frame_equal(shown, csvs["compute spend per provider and class"])
    chart = figures(at)[3]
    assert chart["layout"]["title"]["text"] == "Monthly compute effective cost per class and provider (USD)"
    assert [a["text"] for a in chart["layout"]["annotations"]] == ["CoreWeave: AI share 100.0%",
                                                                    "Microsoft: AI share 0.0%"]
    drawn = {(t.get("meta"), t["name"]): values(t["y"]) for t in chart["data"] if t.get("meta")}
    over_time = csvs["compute spend per month, provider and class"]
    assert drawn == {(p, c): rows["amount"].tolist() for (p, c), rows in over_time.groupby(
        ["provider", "compute_class"])}
    assert [t["name"] for t in chart["data"] if not t.get("meta")] == list(compute.CLASS_COLUMNS)  # the legend


def test_a_tag_filter_is_declined_not_ignored(app, spend_db):
    at = app(ov_tag_key="team", ov_tag_value="research")
    assert "AI share of compute" not in {m.label for m in at.metric}
    assert any("no tag breakdown" in i.value for i in at.info)
