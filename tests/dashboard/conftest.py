"""Dashboard tests run the real app under AppTest against a warehouse built in the test from fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO

APP = REPO / "dashboard" / "app.py"


@pytest.fixture
def app(db_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An AppTest of the whole app (the router), pointed at the test warehouse, opened at ``page``."""
    monkeypatch.setenv("SPENDSCOPE_DB", str(db_path))

    def open_page(page: str | None = None, **query_params: str) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=30)
        for key, value in query_params.items():
            at.query_params[key] = value
        at.run()
        if page:
            at.switch_page(f"pages/{page}.py").run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return open_page
