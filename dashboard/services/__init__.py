"""Computations over the query results: stock lines and CARs, events against our spend, event studies.

The layer between the pages (``dashboard/app_pages``, Streamlit) and the queries (``dashboard/queries``, SQL only):
no Streamlit and no SQL here. A service function takes what it reads from first (a
:class:`~dashboard.queries.reader.Reader`, or a ``Snapshot`` when its reads must agree) and hashable
parameters after it, so ``dashboard.ui.cache.cached`` caches it per warehouse version like a query function.
Settings arrive as parameters (:class:`~dashboard.services.settings.StudyConfig` for ``eventstudy.*``), so an
edited setting is a new cache entry.
"""
