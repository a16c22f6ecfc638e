"""File mode: one event study from a wide returns CSV and a market CSV, written back as CSV files.

Input (see docs/eventstudy.md, "File mode"): ``R.csv`` has a ``date`` column (YYYY-MM-DD, strictly
increasing) and one column per firm; ``M.csv`` has ``date`` and one market column. Empty cells (or
``NA``/``NaN``) are missing returns. Every problem is reported as a :class:`FileModeError` whose
message names the file, the line and the column.
"""

from __future__ import annotations

import csv
import logging
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from etl.eventstudy.engine import (
    CAR_STATISTICS,
    DAILY_STATISTICS,
    EventStudyConfig,
    EventStudyResult,
    run_event_study,
)
from etl.eventstudy.models import Model, ReturnKind
from etl.eventstudy.windows import LabelWindow, label_text

log = logging.getLogger(__name__)

MISSING_TOKENS = frozenset({"", "na", "nan"})
DATE_FORMAT = "%Y-%m-%d"


def _tested(names: tuple[str, ...]) -> list[str]:
    """Each statistic, then every ``_p``, then every ``_stars`` column."""
    return [*names, *(f"{name}_p" for name in names), *(f"{name}_stars" for name in names)]


DAILY_COLUMNS = ["date", "n", "aar", "r_bar", *_tested(DAILY_STATISTICS)]
CAR_COLUMNS = ["window_start", "window_end", "n", "days", "caar", "bhar_mean", "r_bar", *_tested(CAR_STATISTICS)]
FIRM_COLUMNS = ["firm", "T", "alpha", "beta", "s", "r2", "car", "bhar"]
EXCLUSION_COLUMNS = ["firm", "reason"]


class FileModeError(ValueError):
    """Bad input for file mode; the message says where (file, line, column) and what is wrong."""


@dataclass(frozen=True)
class FileModeRequest:
    """One ``eventstudy file`` run."""

    returns_path: Path
    market_path: Path
    returns_kind: ReturnKind
    estimation: LabelWindow
    event_window: LabelWindow
    out_dir: Path
    model: Model = "market"
    min_obs: int = 60


def parse_date_range(text: str) -> LabelWindow:
    """``YYYY-MM-DD:YYYY-MM-DD`` (inclusive) to a label window; ValueError with the reason otherwise."""
    parts = text.split(":")
    try:
        if len(parts) != 2:
            raise ValueError
        start, end = (pd.Timestamp(datetime.strptime(p.strip(), DATE_FORMAT)) for p in parts)
    except ValueError:
        raise ValueError(f"expected START:END as YYYY-MM-DD:YYYY-MM-DD, got {text!r}") from None
    if start > end:
        raise ValueError(f"range {text!r} starts after it ends")
    return LabelWindow(start, end)


def _rows(path: Path, series: int | None) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and (line number, fields) of every non-blank data line; ``series`` fixes the column count."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            lines = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise FileModeError(f"{path}: cannot read the file: {exc}") from None
    if not lines:
        raise FileModeError(f"{path}: the file is empty")
    (header_line, header), data = lines[0], lines[1:]
    header = [name.strip() for name in header]
    if header[0].lower() != "date":
        raise FileModeError(
            f"{path}: line {header_line}, column 1: the first column must be 'date', found {header[0]!r}"
        )
    for col, name in enumerate(header[1:], start=2):
        if not name:
            raise FileModeError(f"{path}: line {header_line}, column {col}: empty column name")
        if header.index(name) != col - 1:
            raise FileModeError(f"{path}: line {header_line}, column {col}: duplicate column name {name!r}")
    if series is not None and len(header) != series + 1:
        raise FileModeError(
            f"{path}: line {header_line}: expected {series + 1} columns (date and {series} return "
            f"column{'s' if series > 1 else ''}), found {len(header)}"
        )
    if not data:
        raise FileModeError(f"{path}: no data rows below the header")
    for line, row in data:
        if len(row) != len(header):
            raise FileModeError(
                f"{path}: line {line}: expected {len(header)} fields like the header, found {len(row)}"
            )
    return header, data


def _parse_dates(path: Path, data: list[tuple[int, list[str]]]) -> pd.DatetimeIndex:
    """Dates must be unique and strictly increasing: window offsets are row arithmetic."""
    seen: dict[datetime, int] = {}
    previous: tuple[datetime, int] | None = None
    for line, row in data:
        where = f"{path}: line {line}, column 'date'"
        try:
            date = datetime.strptime(row[0].strip(), DATE_FORMAT)
        except ValueError:
            raise FileModeError(f"{where}: cannot parse {row[0]!r} as a date (expected YYYY-MM-DD)") from None
        if date in seen:
            raise FileModeError(f"{where}: duplicate date {date:%Y-%m-%d} (first on line {seen[date]})")
        if previous is not None and date < previous[0]:
            raise FileModeError(
                f"{where}: date {date:%Y-%m-%d} comes after {previous[0]:%Y-%m-%d} on line {previous[1]}; "
                "sort the file by date"
            )
        seen[date] = line
        previous = (date, line)
    return pd.DatetimeIndex(list(seen), name="date")


def _parse_number(path: Path, line: int, column: str, text: str, kind: ReturnKind) -> float:
    token = text.strip()
    if token.lower() in MISSING_TOKENS:
        return math.nan
    try:
        value = float(token)
    except ValueError:
        raise FileModeError(
            f"{path}: line {line}, column {column!r}: cannot parse {text!r} as a number"
        ) from None
    if not math.isfinite(value):
        raise FileModeError(f"{path}: line {line}, column {column!r}: {text!r} is not a finite number")
    if kind == "simple" and value < -1.0:
        raise FileModeError(f"{path}: line {line}, column {column!r}: simple return {value} is below -100 %")
    return value


def read_wide_csv(path: Path, kind: ReturnKind, series: int | None = None) -> pd.DataFrame:
    """A wide returns file as a DataFrame indexed by date (one column per series, NaN = missing)."""
    header, data = _rows(path, series)
    index = _parse_dates(path, data)
    columns = {
        name: [_parse_number(path, line, name, row[col], kind) for line, row in data]
        for col, name in enumerate(header)
        if col > 0
    }
    return pd.DataFrame(columns, index=index)


def read_market_csv(path: Path, kind: ReturnKind) -> pd.Series:
    """The market file: ``date`` and exactly one return column."""
    return read_wide_csv(path, kind, series=1).iloc[:, 0]


def _covered(index: pd.DatetimeIndex) -> str:
    return f"{label_text(index[0])}..{label_text(index[-1])}"


def _check_inputs(request: FileModeRequest, returns: pd.DataFrame, market: pd.Series) -> None:
    common = returns.index.intersection(market.index)
    if common.empty:
        raise FileModeError(
            f"{request.returns_path} ({_covered(returns.index)}) and {request.market_path} "
            f"({_covered(market.index)}) have no date in common"
        )
    for option, window in (("--estimation", request.estimation), ("--event-window", request.event_window)):
        inside = common[(common >= window.start) & (common <= window.end)]
        if inside.empty:
            raise FileModeError(
                f"{option} {window}: no date of {request.returns_path} that is also in "
                f"{request.market_path} falls in this range (common dates: {_covered(common)})"
            )


def run_file_mode(request: FileModeRequest) -> EventStudyResult:
    """Read, validate and run the event study; day 0 is the first session of the event window."""
    returns = read_wide_csv(request.returns_path, request.returns_kind)
    log.info(
        "read %s: %d dates (%s), %d firms",
        request.returns_path,
        len(returns),
        _covered(returns.index),
        returns.shape[1],
    )
    market = read_market_csv(request.market_path, request.returns_kind)
    log.info(
        "read %s: %d dates (%s), market column %r",
        request.market_path,
        len(market),
        _covered(market.index),
        market.name,
    )
    _check_inputs(request, returns, market)
    unmatched = returns.index.difference(market.index)
    if len(unmatched):
        log.warning(
            "%d dates of %s have no market return (treated as missing), e.g. %s",
            len(unmatched),
            request.returns_path,
            label_text(unmatched[0]),
        )
    index = returns.index
    day0 = index[index.searchsorted(request.event_window.start)]
    config = EventStudyConfig(
        model=request.model,
        returns_kind=request.returns_kind,
        estimation=request.estimation,
        event_windows=(request.event_window,),
        min_obs=request.min_obs,
    )
    result = run_event_study(returns, market.reindex(index), day0, config)
    log.info(
        "model %s on estimation %s..%s: %d firms included, %d excluded",
        request.model,
        label_text(result.estimation_window[0]),
        label_text(result.estimation_window[1]),
        len(result.firms),
        len(result.exclusions),
    )
    for exclusion in result.exclusions:
        log.warning("excluded %s: %s", exclusion.firm, exclusion.reason)
    for note in result.notes:
        log.info("note: %s", note)
    return result


def _dates(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).dt.strftime(DATE_FORMAT)


def write_outputs(result: EventStudyResult, out_dir: Path) -> list[Path]:
    """daily.csv, car.csv, firms.csv and exclusions.csv at full float precision."""
    out_dir.mkdir(parents=True, exist_ok=True)
    daily = result.daily.rename(columns={"session": "date"}).assign(date=lambda d: _dates(d["date"]))
    car = result.windows.assign(
        window_start=lambda d: _dates(d["window_start"]), window_end=lambda d: _dates(d["window_end"])
    )
    firms = result.firms.merge(result.firm_windows[["firm", "car", "bhar"]], on="firm", how="left")
    exclusions = pd.DataFrame([(e.firm, e.reason) for e in result.exclusions], columns=EXCLUSION_COLUMNS)
    tables = {
        "daily.csv": daily[DAILY_COLUMNS],
        "car.csv": car[CAR_COLUMNS],
        "firms.csv": firms[FIRM_COLUMNS],
        "exclusions.csv": exclusions,
    }
    written = []
    for name, table in tables.items():
        path = out_dir / name
        table.to_csv(path, index=False)
        written.append(path)
        log.info("wrote %s (%d rows)", path, len(table))
    return written
