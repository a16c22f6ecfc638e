"""Price files for ``python -m etl prices import``: for users without Yahoo access, and for the tests.

Two layouts, told apart by the header:

``csv-yahoo``
    ``Date,Open,High,Low,Close,Adj Close,Volume`` as Yahoo Finance's download button writes it (optional
    ``Dividends`` and ``Stock Splits`` columns are kept; ``null`` cells are empty; rows without a close
    are skipped). ``Close`` is the raw close and ``Adj Close`` Yahoo's adjusted close.
``csv-close-dividends``
    ``Date,Open,High,Low,Close,Volume`` with a raw (split-adjusted, not dividend-adjusted) close, as in
    ``../shared/fixtures/market/``, and optionally ``<TICKER>_dividends.csv`` beside it (``Date,Dividend``,
    Date = ex-date). From those dividends the total-return adjusted close is computed the way Yahoo does
    it (backward adjustment): for each ex-date D with cash dividend d, every close *before* D is multiplied
    by ``1 - d / close of the last session before D``; closes on and after D are unchanged, so the last
    row's adj_close equals its close. Splits are already in the raw prices of this layout, so
    ``stock_splits`` is unknown (NULL). Without a dividends file adj_close and dividends are NULL.

A ``Close`` without ``Adj Close`` next to ``Dividends``/``Stock Splits`` columns is what yfinance's
``history()`` writes with its default ``auto_adjust=True``: that Close is already adjusted, so such a file
is refused rather than stored as raw closes.

The ticker is ``--ticker`` or the file name (``MSFT.csv`` -> MSFT, ``9984.T.csv`` -> 9984.T).
"""

from __future__ import annotations

import glob
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from etl.loadlog import LoadRecord
from etl.market import calendars
from etl.market.prices import PRICE_COLUMNS, PriceBatch

DIVIDENDS_SUFFIX = "_dividends"
_NULLS = {"", "null", "nan", "na", "n/a", "none", "-"}
_NUMERIC = {"open": "Open", "high": "High", "low": "Low", "close": "Close", "adj close": "Adj Close",
            "volume": "Volume", "dividends": "Dividends", "stock splits": "Stock Splits"}


class PriceFileError(ValueError):
    """A price file that cannot be imported; the message names the file, line and column where there is one."""


@dataclass(frozen=True)
class PriceFile:
    path: Path
    dividends: Path | None


def expand_price_paths(paths: Sequence[str]) -> tuple[list[PriceFile], list[tuple[str, str]]]:
    """Price files among ``paths`` (files, directories, globs), each with its dividends file if any.

    A ``<TICKER>_dividends.csv`` is read beside its price file; given alone it is a problem.
    Returns the files and (path, problem) pairs.
    """
    candidates: list[Path] = []
    problems: list[tuple[str, str]] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() == ".csv")
            candidates += found
            if not found:
                problems.append((text, "no .csv files in this directory"))
        elif path.is_file():
            candidates.append(path)
        elif any(ch in text for ch in "*?["):
            matched = sorted(Path(m) for m in glob.glob(text, recursive=True) if Path(m).is_file())
            candidates += matched
            if not matched:
                problems.append((text, "no file matches this pattern"))
        else:
            problems.append((text, "no such file or directory"))
    seen: dict[Path, None] = dict.fromkeys(candidates)
    prices = [p for p in seen if not p.stem.lower().endswith(DIVIDENDS_SUFFIX)]
    stems = {p.resolve().with_suffix("") for p in prices}
    for path in seen:
        if path.stem.lower().endswith(DIVIDENDS_SUFFIX):
            owner = path.resolve().with_name(path.stem[: -len(DIVIDENDS_SUFFIX)])
            if owner not in stems:
                problems.append((str(path), f"a dividends file is read beside its price file; import "
                                            f"{owner.name}.csv instead"))
    return [PriceFile(p, _dividends_beside(p)) for p in prices], problems


def _dividends_beside(path: Path) -> Path | None:
    candidate = path.with_name(f"{path.stem}{DIVIDENDS_SUFFIX}{path.suffix}")
    return candidate if candidate.is_file() else None


def ticker_from_name(path: Path) -> str:
    return path.stem.strip().upper()


def read_price_file(file: PriceFile, ticker: str | None = None) -> PriceBatch:
    """Parse one price file (and its dividends file) into a batch ready to store; raises PriceFileError."""
    path = file.path
    symbol = (ticker or ticker_from_name(path)).strip().upper()
    listing = calendars.listing(symbol)
    files = [str(path)] + ([str(file.dividends)] if file.dividends else [])
    raw = _read_csv(path)
    columns = {c.strip().lower(): c for c in raw.columns}
    for required in ("date", "close"):
        if required not in columns:
            raise PriceFileError(f"{path}: no {required.title()} column (expected Date, Open, High, Low, Close, "
                                 "Volume and optionally Adj Close; found " + ", ".join(raw.columns) + ")")
    has_adj = "adj close" in columns
    if not has_adj and ("dividends" in columns or "stock splits" in columns):
        raise PriceFileError(
            f"{path}: Close without Adj Close next to Dividends/Stock Splits looks like a yfinance history() "
            "export with auto_adjust=True, whose Close is already adjusted; export it with auto_adjust=False "
            "(Close and Adj Close), or drop the Dividends and Stock Splits columns if Close is raw")
    fmt = "csv-yahoo" if has_adj else "csv-close-dividends"
    dates = _parse_dates(raw[columns["date"]], path, columns["date"])
    frame = pd.DataFrame({"ticker": symbol, "date": dates})
    for key, name in _NUMERIC.items():
        frame[name.lower().replace(" ", "_")] = (
            _parse_numbers(raw[columns[key]], path, columns[key]) if key in columns else np.nan)
    notes: list[str] = []
    without_close = frame["close"].isna()
    if without_close.any():
        notes.append(f"{int(without_close.sum())} row(s) without a close skipped")
        frame = frame[~without_close]
    if frame.empty:
        raise PriceFileError(f"{path}: no price rows with a close after the header")
    duplicated = frame["date"].duplicated(keep=False)
    if duplicated.any():
        lines = [str(i + 2) for i in frame.index[duplicated][:2]]
        day = frame.loc[duplicated, "date"].iloc[0].date()
        raise PriceFileError(f"{path}: date {day} appears more than once (lines {', '.join(lines)})")
    bad = frame["close"] <= 0
    if bad.any():
        line = int(frame.index[bad][0]) + 2
        raise PriceFileError(f'{path}: line {line}, column "Close": a close must be positive')
    frame = frame.sort_values("date").reset_index(drop=True)
    if fmt == "csv-close-dividends":
        if file.dividends is None:
            frame["adj_close"] = np.nan
            frame["dividends"] = np.nan
            notes.append(f"no {path.stem}{DIVIDENDS_SUFFIX}.csv beside it: adj_close and dividends left empty")
        else:
            dividends = read_dividends(file.dividends)
            frame["adj_close"], frame["dividends"], div_notes = adjusted_close(frame["date"], frame["close"],
                                                                                dividends)
            notes += div_notes
            notes.append(f"adj_close computed from {len(dividends)} dividend(s) in {file.dividends.name}")
        frame["stock_splits"] = np.nan
    frame["volume"] = frame["volume"].round().astype("Int64")
    check = calendars.check_sessions(frame["date"].dt.date, listing.calendar)
    notes += [n for n in (listing.note, check.describe()) if n]
    result = LoadRecord("prices", str(path), "failed", fmt, subject=symbol, files=files, sha256=_sha256(files),
                          first=frame["date"].iloc[0].date(), last=frame["date"].iloc[-1].date())
    return PriceBatch(result, listing, frame[list(PRICE_COLUMNS)], notes)


def read_dividends(path: Path) -> pd.Series:
    """``Date,Dividend`` (ex-date, cash amount per share) as a Series indexed by ex-date."""
    raw = _read_csv(path)
    columns = {c.strip().lower(): c for c in raw.columns}
    amount = columns.get("dividend") or columns.get("dividends")
    if "date" not in columns or amount is None:
        raise PriceFileError(f"{path}: expected the columns Date,Dividend, found {', '.join(raw.columns)}")
    dates = _parse_dates(raw[columns["date"]], path, columns["date"])
    values = _parse_numbers(raw[amount], path, amount)
    series = pd.Series(values.to_numpy(), index=pd.DatetimeIndex(dates)).dropna()
    if (series < 0).any():
        raise PriceFileError(f"{path}: a dividend is negative")
    return series.groupby(level=0).sum().sort_index()


def adjusted_close(dates: pd.Series, close: pd.Series, dividends: pd.Series) -> tuple[np.ndarray, np.ndarray,
                                                                                      list[str]]:
    """Yahoo-style total-return adjusted close from raw closes and ex-date dividends (see the module doc).

    Returns the adjusted closes, the dividend on each row (0 when none) and notes about dividends that
    could not be placed.
    """
    days = pd.DatetimeIndex(dates).to_numpy()
    closes = close.to_numpy(dtype="float64")
    multiplier = np.ones(len(closes) + 1)  # multiplier[i] applies to every row before row i
    on_row = np.zeros(len(closes))
    notes: list[str] = []
    for ex_date, amount in dividends.items():
        i = int(np.searchsorted(days, np.datetime64(ex_date), side="left"))
        if i >= len(closes):
            notes.append(f"dividend {amount:g} on {ex_date.date()} is after the last price row; not applied")
            continue
        if i == 0:
            continue  # on or before the first row: no earlier close to adjust
        if days[i] != np.datetime64(ex_date):
            notes.append(f"dividend ex-date {ex_date.date()} is not a price row; applied from {str(days[i])[:10]}")
        multiplier[i] *= 1.0 - amount / closes[i - 1]
        on_row[i] += amount
    # factor[j] = product of multiplier[i] for i > j
    factor = np.cumprod(multiplier[::-1])[::-1][1:]
    return closes * factor, on_row, notes


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise PriceFileError(f"{path}: the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise PriceFileError(f"{path}: not a readable CSV file ({' '.join(str(exc).split())})") from None


def _parse_dates(values: pd.Series, path: Path, column: str) -> pd.Series:
    text = values.str.strip().str[:10]
    parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    bad = parsed.isna()
    if bad.any():
        line = int(values.index[bad][0]) + 2
        raise PriceFileError(f'{path}: line {line}, column "{column}": "{values[bad].iloc[0]}" is not a date '
                             "(expected YYYY-MM-DD)")
    return parsed.astype("datetime64[us]")


def _parse_numbers(values: pd.Series, path: Path, column: str) -> pd.Series:
    text = values.str.strip()
    empty = text.str.lower().isin(_NULLS)
    parsed = pd.to_numeric(text.where(~empty), errors="coerce")
    bad = parsed.isna() & ~empty
    if bad.any():
        line = int(values.index[bad][0]) + 2
        raise PriceFileError(f'{path}: line {line}, column "{column}": "{values[bad].iloc[0]}" is not a number')
    return parsed.astype("float64")


def _sha256(files: list[str]) -> str:
    digest = hashlib.sha256()
    for name in files:
        digest.update(Path(name).read_bytes())
    return digest.hexdigest()
