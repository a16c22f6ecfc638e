"""The router's pages live in ``dashboard/app_pages/``, never in a ``pages/`` folder beside ``app.py``.

Streamlit (1.67) treats a ``pages/`` folder next to the entry point as a legacy multipage app until the first
``st.navigation`` call of the process: a fresh server's first request then routes by file name, so a deep link
such as ``/events`` (file ``event_study.py``) showed "Page not found", and AppTest, which resets that mode before
every run, would route the same way. Without that folder every request goes through the router
(``test_browser.py`` opens each page's address as a fresh server's first request in Chromium).
"""

import ast

from tests.conftest import REPO

DASHBOARD = REPO / "dashboard"


def _page_files() -> list[str]:
    """The file of every ``st.Page`` in dashboard/app.py."""
    tree = ast.parse((DASHBOARD / "app.py").read_text(encoding="utf-8"))
    return [call.args[0].value for call in ast.walk(tree)
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "Page"
            and call.args and isinstance(call.args[0], ast.Constant)]


def test_no_legacy_pages_folder_and_every_page_is_in_app_pages():
    assert not (DASHBOARD / "pages").exists(), "move new pages to dashboard/app_pages/ (see this module's docstring)"
    files = _page_files()
    assert len(files) >= 5 and all(f.startswith("app_pages/") and (DASHBOARD / f).is_file() for f in files), files
