"""Market data: daily prices and dividends from Yahoo Finance or CSV files, FX rates, trading calendars.

``yahoo`` is the only module that imports yfinance; ``calendars`` maps tickers to exchanges and checks
sessions; ``prices`` and ``fx`` plan fetches and write the ``prices`` and ``fx_rates`` tables; ``csv_import``
reads price files; ``cli`` adds the ``prices`` and ``fx`` commands.
"""
