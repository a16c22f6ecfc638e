"""The named jobs the CLIs, the demo and the benchmarks share: settings and a write session in, records out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from etl import pipelines
from etl.config import load_config


@pytest.fixture
def config(db_path):
    return load_config(None, environ={"SPENDSCOPE_DB": str(db_path)})


@pytest.mark.slow
def test_the_demo_job_records_every_load_as_synthetic(demo_billing, query):
    """The market half (synthetic prices, rates and event studies) runs through ``python -m etl demo`` in
    tests/test_demo.py; here the billing half (the fixture runs ``pipelines.build_demo``), whose records must say
    synthetic."""
    demo = demo_billing
    files = demo.files
    assert len(demo.billing) == len(files) and {r.status for r in demo.billing} == {"loaded"}
    assert all(r.synthetic and r.kind == "billing" for r in demo.billing)
    assert (demo.market, demo.studies) == ([], None)
    assert [(r.kind, r.synthetic) for r in demo.catalog] == [("gcp_catalog", True)] * 5  # its Google services
    assert query("SELECT bool_and(synthetic), count(*) FROM load_log") == [(True, len(files) + 5)]
    assert query("SELECT count(*) FROM synthetic_loads") == [(len(files) + 5,)]


def test_refreshing_events_loads_the_catalog_once(config, warehouse, query):
    with warehouse.write("first") as session:
        [record] = pipelines.refresh_events(config, session)
    assert (record.kind, record.status, record.rows) == ("events", "loaded", 24)
    with warehouse.write("second") as session:
        assert pipelines.refresh_events(config, session) == []
    assert query("SELECT count(*) FROM load_log WHERE kind = 'events'") == [(1,)]


def test_event_studies_without_prices_fail_per_pair_and_store_the_run(config, warehouse, query):
    with warehouse.write("studies") as session:
        pipelines.refresh_events(config, session)
        run = pipelines.run_event_studies(config, session, event_ids=["openai-google-cloud-2025"])
    assert list(run.events["event_id"]) == ["openai-google-cloud-2025"]
    assert set(run.tables.pairs["status"]) == {"failed"}
    assert query("SELECT run_id, status FROM event_study_runs") == [(run.run_id, "failed")]


@pytest.mark.parametrize(("environ", "message"), [
    ({"SPENDSCOPE_MARKET__START": "soon"}, r"setting market\.start: 'soon' is not a date"),
    ({"SPENDSCOPE_MARKET__TICKERS": "", "SPENDSCOPE_MARKET__BENCHMARKS": "",
      "SPENDSCOPE_PROVIDERS__TICKERS": "Google Cloud=,Microsoft=,AWS=,Oracle=,CoreWeave="}, "no tickers to fetch"),
])
def test_a_price_fetch_with_unusable_settings_raises_before_downloading(environ, message):
    with pytest.raises(pipelines.SettingsError, match=message):
        pipelines.fetch_prices(load_config(None, environ=environ), now=datetime.now(UTC))


def test_an_fx_plan_with_an_unknown_currency_names_the_setting():
    config = load_config(None, environ={"SPENDSCOPE_FX__CURRENCIES": "EUR,EURO"})
    with pytest.raises(pipelines.SettingsError, match=r"setting fx\.currencies: 'EURO' is not an ISO 4217"):
        pipelines.plan_fx(config)
    assert pipelines.plan_fx(load_config(None, environ={}), ["cad", "usd"]).currencies == ["CAD"]
