"""Ad-hoc SQL tests run against the dashboard tests' fixture warehouse (tests/dashboard/builders.py: spend of three
providers, EUR rates, prices), plus the demo's SYNTHETIC prices and rates where the fixture has none (as
`python -m etl demo` stores them), the shipped event catalog and its event studies, one failed billing load (so
the failure views have a row), and a Google Cloud export of GPU, TPU and CPU usage at no cost (fully discounted: the
fixture's totals stay as built; the GPU hour's committed-use discount credit is 0 too) with its SKUs' catalog, so
the Cloud Billing and commitment views have rows, and the forecasts and budgets the ETL steps store (the fixture's
budgets); built once per test process."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from etl.billing.base import LoadOptions
from etl.billing.sources import expand_paths
from etl.config import load_config
from etl.demo.market import store_synthetic_market
from etl.gcp import catalog, listcost
from etl.pipelines import load_billing, refresh_events, run_event_studies
from etl.warehouse import Warehouse
from tests.conftest import FIXTURES
from tests.gcp.billing_api import catalog_fetch, sku


@pytest.fixture(scope="session")
def sql_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.dashboard import builders

    work = tmp_path_factory.mktemp("sql-template")
    path = builders.build(work / "template.duckdb", work)
    config = load_config(environ={})
    unknown = work / "not-a-billing-export.csv"
    unknown.write_text("colour,size\nred,3\n", encoding="utf-8")
    sources, _ = expand_paths([str(unknown)])
    google, _ = expand_paths([str(FIXTURES / "gcp" / "compute_export.json")])
    with Warehouse(path).write("test events") as session:
        assert [r.status for r in load_billing(config, session, sources, LoadOptions())] == ["failed"]
        assert [r.status for r in load_billing(config, session, google, LoadOptions())] == ["loaded"]
        catalog.store(session, catalog_fetch("6F81-5844-456A", "Compute Engine", [
            sku("6F81-5844-456A", "Compute Engine", "2E27-4F75-95CD", "Nvidia Tesla A100 GPU running in Americas",
                "Compute", "GPU", [(0, "2.933908")]),
            sku("6F81-5844-456A", "Compute Engine", "BB77-5FDA-69D9", "N2 Instance Core running in Americas",
                "Compute", "N2Standard", [(0, "0.031611")]),
            sku("6F81-5844-456A", "Compute Engine", "C1A5-7C62-9AC5", "TPU v5e", "Compute", "TPU", [(0, "1.2")])]))
        listcost.fill(session)
        store_synthetic_market(session, 7, "USD", 7, date(2025, 12, 31))
        refresh_events(config, session)
        run_event_studies(config, session)
    builders.add_forecasts(path, work / "forecasts")
    return path


@pytest.fixture
def sql_db(sql_template: Path, db_path: Path) -> Path:
    """A private copy of the template at the test's ``db_path``."""
    shutil.copyfile(sql_template, db_path)
    return db_path
