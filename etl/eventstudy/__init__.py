"""Event-study engine: abnormal returns around events and their significance tests.

``engine`` holds the pure maths (numpy/pandas/scipy only), ``statistics`` the test statistics,
``windows`` the window specifications and the overlap flags, ``filemode`` and ``cli`` the
``python -m etl eventstudy file`` command. The method contract is docs/eventstudy.md.
"""
