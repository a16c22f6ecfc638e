"""Ad-hoc SQL tests run against the dashboard tests' fixture warehouse (tests/dashboard/builders.py: spend of three
providers, EUR rates, prices), plus the demo's SYNTHETIC prices and rates where the fixture has none (as
`python -m etl demo` stores them), the shipped event catalog and its event studies; built once per test process."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from etl.config import load_config
from etl.demo.market import store_synthetic_market
from etl.pipelines import refresh_events, run_event_studies
from etl.warehouse import Warehouse


@pytest.fixture(scope="session")
def sql_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.dashboard import builders

    work = tmp_path_factory.mktemp("sql-template")
    path = builders.build(work / "template.duckdb", work)
    config = load_config(environ={})
    with Warehouse(path).write("test events") as session:
        store_synthetic_market(session, 7, "USD", 7)
        refresh_events(config, session)
        run_event_studies(config, session)
    return path


@pytest.fixture
def sql_db(sql_template: Path, db_path: Path) -> Path:
    """A private copy of the template at the test's ``db_path``."""
    shutil.copyfile(sql_template, db_path)
    return db_path
