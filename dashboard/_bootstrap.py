"""Imported first by every page: makes ``dashboard`` importable and sends a stray run through the router.

``streamlit run dashboard/app.py`` puts only ``dashboard/`` on ``sys.path`` (the router adds the repository
root). On the first run of a fresh server Streamlit still treats ``dashboard/pages/`` as a legacy pages
folder: a deep link such as ``/overview?ov_basis=billed`` then runs the page file directly, without the
router, so ``dashboard`` is not importable and ``st.navigation`` never runs (and the legacy listing of the
folder stays in the sidebar). :func:`through_router` detects that case and reruns the same URL through
``app.py``.
"""

import sys
from pathlib import Path

_REPO = str(Path(__file__).resolve().parent.parent)
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)


def through_router() -> None:
    """Rerun through the router when this page was run directly as a legacy ``pages/`` script."""
    import streamlit as st

    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a Streamlit without the legacy mode: nothing to do
        return
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False  # what st.navigation itself does on its first call
        st.rerun()
