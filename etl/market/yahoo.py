"""Yahoo Finance through yfinance: the only module of SpendScope that imports yfinance.

yfinance 1.x never raises for a ticker that fails: ``download()`` logs the error and hands back an empty
or all-NaN block (a total failure is a ``(0, N)`` frame). So this adapter

* pins the call: raw *and* adjusted closes, dividends and splits (``auto_adjust=False, actions=True``),
  MultiIndex ``('Price', 'Ticker')`` columns, tz-naive exchange-local dates, no threads, no progress bar;
* turns the answer into long form at once (one row per symbol and date) and treats a missing, empty or
  all-NaN block as a failure of that symbol, with the reason yfinance logged when it logged one;
* backs off when Yahoo rate-limits (HTTP 429, ``YFRateLimitError``): it waits 1, 2, 4, ... minutes while
  the total stays within ``max_backoff_minutes``, retrying only the rate-limited symbols; after that they
  fail. The ``sleep`` function is injectable so tests do not wait;
* says when Yahoo could not be reached at all (``Download.unreachable``), so callers can report it and
  change nothing.
"""

from __future__ import annotations

import logging
import re
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

import pandas as pd
import yfinance as yf
from yfinance.exceptions import YFRateLimitError

log = logging.getLogger(__name__)

PRICE_COLUMNS = ("ticker", "date", "open", "high", "low", "close", "adj_close", "volume", "dividends",
                 "stock_splits")
FX_COLUMNS = ("date", "currency", "quote_currency", "rate", "symbol")

# yfinance column -> our column. "Capital Gains" (funds) is not kept.
_FIELDS = {"Open": "open", "High": "high", "Low": "low", "Close": "close", "Adj Close": "adj_close",
           "Volume": "volume", "Dividends": "dividends", "Stock Splits": "stock_splits"}

_RATE_LIMIT = re.compile(r"YFRateLimitError|Too Many Requests|Rate limited|\b429\b", re.IGNORECASE)
_NETWORK = re.compile(r"ConnectionError|Failed to connect|Could not connect|Could not resolve|Connection refused|"
                      r"Connection reset|Network is unreachable|timed out|Timeout|curl: \(\d+\)|SSL",
                      re.IGNORECASE)
_AMBIGUOUS = re.compile(r"possibly delisted|no timezone found|no price data found|Yahoo returned no",
                        re.IGNORECASE)
# yfinance's end-of-download summary: "['MSFT', 'GOOGL']: ConnectionError('...')"
_SUMMARY_LINE = re.compile(r"^\[(?P<symbols>[^\]]*)\]: (?P<reason>.+)$", re.DOTALL)
_CURL_DETAIL = re.compile(r"curl: \(\d+\) (?P<detail>.+?)(?:\. See https?://\S+.*)?['\"]?\)?$", re.DOTALL)

UNREACHABLE = "could not reach Yahoo Finance"
TIMEOUT_S = 30.0  # seconds per HTTP request to Yahoo

Sleep = Callable[[float], None]


class YahooFormatError(ValueError):
    """yfinance answered with a frame not shaped as expected (a yfinance or Yahoo format change)."""


@dataclass
class Download:
    """What one logical download produced: the rows of the symbols that worked and why the others failed."""

    frame: pd.DataFrame
    failures: dict[str, str] = field(default_factory=dict)  # symbol -> reason
    unreachable: bool = False  # nothing came back and every failure was a network failure
    waited_minutes: float = 0.0  # time spent waiting out rate limits


def daily_prices(tickers: Sequence[str], start: date, end: date, *, max_backoff_minutes: float = 15.0,
                 sleep: Sleep = time.sleep, timeout: float = TIMEOUT_S) -> Download:
    """Daily bars of ``tickers`` for sessions in ``[start, end)``, as one long frame with PRICE_COLUMNS.

    ``date`` is the session date on the listing exchange (tz-naive midnight); ``close`` is the raw close
    (split-adjusted, not dividend-adjusted) and ``adj_close`` Yahoo's adjusted close. ``timeout`` bounds each
    HTTP request in seconds (not the whole download).
    """
    symbols = _unique_upper(tickers)
    result = _download_with_backoff(symbols, start, end, max_backoff_minutes, sleep, timeout)
    result.frame = result.frame.reindex(columns=list(PRICE_COLUMNS))
    return result


def fx_symbol(currency: str, quote: str = "USD") -> str:
    """Yahoo's symbol of the daily rate of ``currency`` in ``quote``: ``CADUSD=X`` (USD per 1 CAD)."""
    return f"{currency.upper()}{quote.upper()}=X"


def fx_rates(currencies: Sequence[str], start: date, end: date, *, quote: str = "USD",
             max_backoff_minutes: float = 15.0, sleep: Sleep = time.sleep, timeout: float = TIMEOUT_S) -> Download:
    """Daily closes of ``<CUR><QUOTE>=X`` pairs: ``rate`` units of ``quote`` per unit of ``currency``.

    The frame has FX_COLUMNS; failures are keyed by the pair's symbol (``fx_symbol``).
    """
    by_symbol = {fx_symbol(c, quote): c.upper() for c in currencies}
    result = _download_with_backoff(list(by_symbol), start, end, max_backoff_minutes, sleep, timeout)
    prices = result.frame
    result.frame = pd.DataFrame({
        "date": prices["date"],
        "currency": prices["ticker"].map(by_symbol),
        "quote_currency": quote.upper(),
        "rate": prices["close"],
        "symbol": prices["ticker"],
    }, columns=list(FX_COLUMNS))
    return result


def to_long(frame: pd.DataFrame | None, symbols: Sequence[str],
            reasons: dict[str, str] | None = None) -> tuple[pd.DataFrame, dict[str, str]]:
    """Reshape a ``yf.download`` frame to one row per (symbol, date); return it and the failed symbols.

    A symbol fails when its block is missing, has no rows or has no close at all (the all-NaN block of a
    ticker that failed inside a multi-ticker download). Rows without a close (the other tickers' dates in
    an outer-joined multi-ticker frame) are dropped.
    """
    reasons = reasons or {}
    failures: dict[str, str] = {}
    parts: list[pd.DataFrame] = []
    if frame is None or frame.empty:
        for symbol in symbols:
            failures[symbol] = reasons.get(symbol) or "Yahoo returned no data at all (empty frame)"
        return _empty_prices(), failures
    ticker_level = _ticker_level(frame)
    present = set(frame.columns.get_level_values(ticker_level))
    for symbol in symbols:
        if symbol not in present:
            failures[symbol] = reasons.get(symbol) or f"no {symbol} columns in Yahoo's answer"
            continue
        block = frame.xs(symbol, axis=1, level=ticker_level)  # leaves the price level as plain columns
        missing = {"Close", "Adj Close"} - set(block.columns)
        if missing:
            raise YahooFormatError(f"Yahoo's answer for {symbol} has no {', '.join(sorted(missing))} column "
                                   "(expected raw and adjusted closes: auto_adjust=False)")
        block = block[block["Close"].notna()]
        if block.empty:
            failures[symbol] = reasons.get(symbol) or (
                f"Yahoo returned no prices for {symbol} (empty or all-NaN block)")
            continue
        parts.append(_tidy_block(symbol, block))
    if not parts:
        return _empty_prices(), failures
    return pd.concat(parts, ignore_index=True), failures


def _ticker_level(frame: pd.DataFrame) -> int:
    columns = frame.columns
    if not isinstance(columns, pd.MultiIndex) or columns.nlevels != 2:
        raise YahooFormatError("expected MultiIndex ('Price', 'Ticker') columns from yf.download, got "
                               f"{list(columns)[:6]}")
    names = list(columns.names)
    if "Ticker" in names:
        return names.index("Ticker")
    # Unnamed levels: the ticker level is the one without "Close".
    return 1 if "Close" in set(columns.get_level_values(0)) else 0


def _tidy_block(symbol: str, block: pd.DataFrame) -> pd.DataFrame:
    index = pd.DatetimeIndex(block.index)
    if index.tz is not None:  # exchange-local midnight, tz-aware (Ticker.history); keep the local date
        index = index.tz_localize(None)
    if (index != index.normalize()).any():
        raise YahooFormatError(f"{symbol}: expected daily bars stamped at midnight, got {index[0]}")
    if index.duplicated().any():
        raise YahooFormatError(f"{symbol}: the same date appears twice in Yahoo's answer")
    tidy = pd.DataFrame({"ticker": symbol, "date": index.as_unit("us")})
    for yahoo_name, name in _FIELDS.items():
        values = block[yahoo_name].to_numpy(dtype="float64", na_value=float("nan")) \
            if yahoo_name in block.columns else float("nan")
        tidy[name] = values
    tidy["volume"] = tidy["volume"].round().astype("Int64")
    return tidy[list(PRICE_COLUMNS)]


def _empty_prices() -> pd.DataFrame:
    frame = pd.DataFrame({name: pd.Series(dtype="float64") for name in PRICE_COLUMNS})
    frame["ticker"] = frame["ticker"].astype("object")
    frame["date"] = pd.Series(dtype="datetime64[us]")
    frame["volume"] = frame["volume"].astype("Int64")
    return frame


def _download_with_backoff(symbols: list[str], start: date, end: date, max_backoff_minutes: float,
                           sleep: Sleep, timeout: float) -> Download:
    pending = list(symbols)
    parts: list[pd.DataFrame] = []
    failures: dict[str, str] = {}
    network_evidence: str | None = None
    waited = 0.0
    delay = 1.0
    attempt = 1
    while pending:
        frame, messages, error = _call(pending, start, end, timeout)
        reasons = _reasons_from_log(messages)
        network_evidence = network_evidence or _network_evidence(messages)
        if error is not None:
            text = _clean_reason(repr(error))
            reasons = dict.fromkeys(pending, text)
            if _NETWORK.search(text):
                network_evidence = network_evidence or text
            frame = None
        try:
            good, failed = to_long(frame, pending, reasons)
        except YahooFormatError as exc:  # a yfinance or Yahoo format change: fail these symbols, say why
            good, failed = _empty_prices(), dict.fromkeys(pending, f"unexpected answer from yfinance: {exc}")
        parts.append(good)
        limited = [s for s in pending if s in failed and _RATE_LIMIT.search(failed[s])]
        for symbol in pending:
            if symbol in failed and symbol not in limited:
                failures[symbol] = failed[symbol]
        if not limited:
            break
        if waited + delay > max_backoff_minutes:
            for symbol in limited:
                failures[symbol] = (f"rate limited by Yahoo (HTTP 429); gave up after waiting {waited:g} min "
                                    f"(the back-off budget left of setting market.max_backoff_minutes was "
                                    f"{max_backoff_minutes:g} min)")
            break
        log.warning("Yahoo rate limit (HTTP 429) for %s: waiting %g min before attempt %d (%g of %g min used)",
                    ", ".join(limited), delay, attempt + 1, waited, max_backoff_minutes)
        sleep(delay * 60)
        waited += delay
        delay *= 2
        attempt += 1
        pending = limited
    for symbol, reason in failures.items():
        if _NETWORK.search(reason) and not _RATE_LIMIT.search(reason):
            failures[symbol] = f"{UNREACHABLE}: {reason}"
        elif network_evidence and _AMBIGUOUS.search(reason):
            # yfinance words a failed timezone lookup as "possibly delisted"; here the network had failed
            failures[symbol] = f"{UNREACHABLE}: {network_evidence} (yfinance said: {reason})"
    frame = pd.concat([p for p in parts if not p.empty], ignore_index=True) if any(
        not p.empty for p in parts) else _empty_prices()
    unreachable = frame.empty and bool(failures) and all(r.startswith(UNREACHABLE) for r in failures.values())
    if unreachable:
        log.error("Yahoo download failed for %s: %s", ", ".join(failures), plain_reason(failures.values()))
    else:
        for symbol, reason in failures.items():
            log.error("Yahoo download failed for %s: %s", symbol, reason)
    return Download(frame=frame, failures=failures, unreachable=unreachable, waited_minutes=waited)


def _call(symbols: list[str], start: date, end: date,
          timeout: float = TIMEOUT_S) -> tuple[pd.DataFrame | None, list[str], Exception | None]:
    """One ``yf.download`` call, with yfinance's log records captured (they carry the per-ticker reasons)."""
    capture = _Capture()
    logger = logging.getLogger("yfinance")
    saved = (logger.propagate, logger.level)
    logger.addHandler(capture)
    logger.propagate = False
    logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            # yfinance 1.7 under pandas 3 warns about its own use of inplace=; nothing for our users to act on.
            warnings.simplefilter("ignore")
            frame = yf.download(
                symbols, start=start.isoformat(), end=end.isoformat(), interval="1d", auto_adjust=False,
                actions=True, group_by="column", multi_level_index=True, progress=False, threads=False,
                timeout=timeout,
            )
        return frame, capture.messages, None
    except YFRateLimitError as exc:
        return None, capture.messages, exc
    except Exception as exc:  # yfinance lets transport errors (curl_cffi, requests) escape here and there
        return None, capture.messages, exc
    finally:
        logger.removeHandler(capture)
        logger.propagate, _ = saved
        logger.setLevel(saved[1])
        for message in capture.messages:
            log.debug("yfinance: %s", message)


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.messages.append(record.getMessage().strip())
        except Exception:  # a malformed record must not break the download
            self.messages.append(str(record.msg))


def _reasons_from_log(messages: Iterable[str]) -> dict[str, str]:
    """Per-symbol reasons from yfinance's "N Failed downloads:" summary lines."""
    reasons: dict[str, str] = {}
    for message in messages:
        match = _SUMMARY_LINE.match(message)
        if not match:
            continue
        for symbol in re.findall(r"'([^']*)'", match.group("symbols")):
            reasons[symbol.upper()] = _clean_reason(match.group("reason"))
    return reasons


def plain_reason(reasons: Iterable[str]) -> str:
    """The plainest of several failure reasons (one without yfinance's misleading "possibly delisted")."""
    reasons = list(reasons)
    return next((r for r in reasons if "yfinance said" not in r), reasons[0] if reasons else "")


def _network_evidence(messages: Sequence[str]) -> str | None:
    """The clearest logged network failure: a curl error if there is one."""
    found = [m for m in messages if _NETWORK.search(m)]
    curl = [m for m in found if "curl: (" in m]
    return _clean_reason((curl or found)[0]) if found else None


def _clean_reason(text: str) -> str:
    """One readable line: curl's detail without its documentation link."""
    text = text.strip()
    curl = _CURL_DETAIL.search(text)
    if curl:
        return curl.group("detail").strip()
    return " ".join(text.split())


def _unique_upper(symbols: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for symbol in symbols:
        seen.setdefault(symbol.strip().upper(), None)
    return list(seen)
