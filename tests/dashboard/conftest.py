"""Dashboard tests run the real app under AppTest against a warehouse built in the test from fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO

APP = REPO / "dashboard" / "app.py"


@pytest.fixture
def server_address():
    """Sets Streamlit's ``server.address`` as ``--server.address`` would (``None``: unset, every interface); the
    value before the test is restored after it."""
    from streamlit import config

    before, where = config.get_option("server.address"), config.get_where_defined("server.address")

    def set_address(address: str | None) -> None:
        config.set_option("server.address", address, "test")

    yield set_address
    config.set_option("server.address", before, where)


@pytest.fixture
def app(db_path: Path, monkeypatch: pytest.MonkeyPatch, server_address):
    """An AppTest of the whole app (the router), pointed at the test warehouse, opened at ``page``. The server
    counts as bound to localhost (a test sets ``server_address`` to change that); without ``secrets`` (an
    ``[auth]`` table) sign-in is not configured, and ``user`` is what ``st.user`` returns."""
    monkeypatch.setenv("SPENDSCOPE_DB", str(db_path))
    server_address("localhost")

    def open_page(page: str | None = None, *, secrets: dict | None = None, user: dict | None = None,
                  **query_params: str) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=30)
        at.secrets = secrets or {}
        if user is not None:
            at.user = user
        for key, value in query_params.items():
            at.query_params[key] = value
        at.run()
        if page:
            at.switch_page(f"app_pages/{page}.py").run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return open_page


@pytest.fixture(scope="session")
def spend_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture warehouse of tests/dashboard/builders.py, built once per test process."""
    from tests.dashboard import builders

    work = tmp_path_factory.mktemp("spend-template")
    return builders.build(work / "template.duckdb", work)


@pytest.fixture
def spend_db(spend_template: Path, db_path: Path) -> Path:
    """A private copy of the fixture warehouse at the test's ``db_path``."""
    from tests.dashboard import builders

    return builders.copy(spend_template, db_path)


@pytest.fixture
def csvs(monkeypatch: pytest.MonkeyPatch) -> dict:
    """Every CSV download a page offers during the test: file name -> the DataFrame it writes."""
    import pandas as pd

    from dashboard.ui import widgets

    offered: dict[str, pd.DataFrame] = {}
    original = widgets.download_csv

    def record(frame: pd.DataFrame, name: str, label: str = "Download CSV") -> None:
        offered[name] = frame.copy()
        original(frame, name, label)

    monkeypatch.setattr(widgets, "download_csv", record)
    return offered


@pytest.fixture
def study():
    """The ``eventstudy.*`` settings as the services take them: the defaults (tests read no config file), or
    what the test sets in the environment before asking for this fixture."""
    from dashboard.services.settings import StudyConfig
    from etl.config import load_config

    return StudyConfig.from_config(load_config())
