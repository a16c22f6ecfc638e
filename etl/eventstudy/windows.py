"""Estimation and event windows: how they are specified, resolved to index positions, and overlap flags.

A window is either a pair of session offsets relative to day 0 (``OffsetWindow``) or a pair of
index labels (``LabelWindow``). Both ends are inclusive. Offsets count rows of the returns index,
i.e. trading sessions, never calendar days.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from itertools import permutations

import pandas as pd


@dataclass(frozen=True)
class OffsetWindow:
    """Sessions ``start``..``end`` (inclusive) relative to day 0, e.g. ``OffsetWindow(-1, 1)``."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(f"window start {self.start} is after its end {self.end}")

    def __str__(self) -> str:
        return f"[{_signed(self.start)},{_signed(self.end)}]"


@dataclass(frozen=True)
class LabelWindow:
    """Index labels ``start``..``end`` (inclusive); the sessions of the index that fall in between."""

    start: Hashable
    end: Hashable

    def __str__(self) -> str:
        return f"{label_text(self.start)}..{label_text(self.end)}"


WindowSpec = OffsetWindow | LabelWindow

DEFAULT_ESTIMATION = OffsetWindow(-250, -11)
DEFAULT_EVENT_WINDOWS: tuple[OffsetWindow, ...] = (
    OffsetWindow(0, 0),
    OffsetWindow(-1, 1),
    OffsetWindow(0, 1),
    OffsetWindow(-5, 5),
)
DEFAULT_PATH_WINDOW = OffsetWindow(-10, 10)

Span = tuple[int, int]
"""Inclusive (first, last) row positions in the returns index."""


@dataclass(frozen=True)
class EventLayout:
    """All windows of one event resolved to inclusive row positions of the returns index."""

    day0: int
    estimation: Span
    windows: tuple[Span, ...]
    event_period: Span
    path: Span
    notes: tuple[str, ...]

    @property
    def span(self) -> Span:
        """Smallest row range that covers every window."""
        spans = (self.estimation, self.event_period, self.path)
        return min(s[0] for s in spans), max(s[1] for s in spans)


def _signed(offset: int) -> str:
    return f"{offset:+d}" if offset else "0"


def label_text(label: Hashable) -> str:
    """A label as shown to users: dates as YYYY-MM-DD, anything else with str()."""
    if isinstance(label, pd.Timestamp):
        return label.strftime("%Y-%m-%d")
    return str(label)


def _as_index_label(index: pd.Index, label: Hashable) -> Hashable:
    return pd.Timestamp(label) if isinstance(index, pd.DatetimeIndex) else label


def validate_index(index: pd.Index) -> None:
    """Event windows are position arithmetic, so the index must be unique and strictly increasing."""
    if not index.is_unique:
        duplicated = index[index.duplicated()]
        raise ValueError(f"the returns index has duplicate labels, e.g. {label_text(duplicated[0])}")
    if not index.is_monotonic_increasing:
        raise ValueError("the returns index must be sorted in increasing order")


def day0_position(index: pd.Index, day0: Hashable) -> int:
    """Row position of day 0; day 0 must be a session (a label) of the index."""
    label = _as_index_label(index, day0)
    if label not in index:
        raise ValueError(f"day 0 {label_text(label)} is not a session of the returns index")
    return int(index.get_loc(label))


def resolve_window(index: pd.Index, pos0: int, spec: WindowSpec) -> Span | None:
    """Inclusive row positions of ``spec`` clipped to the index, or None when no session falls inside."""
    if isinstance(spec, OffsetWindow):
        first, last = pos0 + spec.start, pos0 + spec.end
    else:
        first = int(index.searchsorted(_as_index_label(index, spec.start), side="left"))
        last = int(index.searchsorted(_as_index_label(index, spec.end), side="right")) - 1
    first, last = max(first, 0), min(last, len(index) - 1)
    return (first, last) if first <= last else None


def _requested_length(spec: WindowSpec) -> int | None:
    return spec.end - spec.start + 1 if isinstance(spec, OffsetWindow) else None


def layout_event(
    index: pd.Index,
    day0: Hashable,
    estimation: WindowSpec,
    event_windows: Iterable[WindowSpec],
    path_window: WindowSpec,
) -> EventLayout:
    """Resolve every window of one event; windows cut by the ends of the index are clipped with a note.

    The event period is the contiguous span from the smallest window start to the largest window end.
    """
    validate_index(index)
    pos0 = day0_position(index, day0)
    notes: list[str] = []

    def resolve(kind: str, spec: WindowSpec) -> Span:
        span = resolve_window(index, pos0, spec)
        if span is None:
            raise ValueError(f"{kind} {spec} contains no session of the returns index")
        wanted = _requested_length(spec)
        if wanted is not None and span[1] - span[0] + 1 < wanted:
            notes.append(
                f"{kind} {spec} is clipped by the end of the data to "
                f"{label_text(index[span[0]])}..{label_text(index[span[1]])}"
            )
        return span

    windows = tuple(resolve("event window", spec) for spec in event_windows)
    if not windows:
        raise ValueError("at least one event window is required")
    est = resolve("estimation window", estimation)
    event_period = (min(w[0] for w in windows), max(w[1] for w in windows))
    if est[1] >= event_period[0] and est[0] <= event_period[1]:
        notes.append("the estimation window overlaps the event period")
    path = resolve("path window", path_window)
    return EventLayout(pos0, est, windows, event_period, path, tuple(notes))


OVERLAP_COLUMNS = ["ticker", "event_id", "other_event_id", "kind", "overlap_start", "overlap_end"]


def flag_overlaps(
    events: pd.DataFrame,
    event_windows: Iterable[OffsetWindow] = DEFAULT_EVENT_WINDOWS,
    estimation: OffsetWindow = DEFAULT_ESTIMATION,
    sessions: pd.Index | Mapping[str, pd.Index] | None = None,
) -> pd.DataFrame:
    """Pairs of events of the same ticker whose windows overlap.

    ``events`` has columns ``event_id``, ``ticker`` and ``day0``: either the row position of day 0
    in the ticker's session calendar (int), or a session label when ``sessions`` (one index for all
    tickers, or one per ticker) is given. Two kinds of rows are reported:

    - ``event_period``: the two event periods share a session (listed once per pair);
    - ``estimation``: the event period of ``event_id`` falls (partly) in the estimation window of
      ``other_event_id``, so the other event's normal-return model is contaminated.

    ``overlap_start``/``overlap_end`` are the first and last shared sessions (labels when
    ``sessions`` is given, else positions).
    """
    windows = tuple(event_windows)
    if not windows or not all(isinstance(w, OffsetWindow) for w in (*windows, estimation)):
        raise TypeError("overlap flags need at least one offset window (relative to each day 0)")
    lo, hi = min(w.start for w in windows), max(w.end for w in windows)
    rows: list[tuple[object, ...]] = []
    for ticker, group in events.groupby("ticker", sort=True):
        calendar = sessions.get(str(ticker)) if isinstance(sessions, Mapping) else sessions
        if calendar is None:
            pos = [int(d) for d in group["day0"]]
        else:
            pos = [day0_position(calendar, d) for d in group["day0"]]
        ids = group["event_id"].tolist()
        for a, b in permutations(range(len(ids)), 2):
            candidates = [("estimation", (pos[b] + estimation.start, pos[b] + estimation.end))]
            if a < b:
                candidates.append(("event_period", (pos[b] + lo, pos[b] + hi)))
            for kind, (other_lo, other_hi) in candidates:
                first, last = max(pos[a] + lo, other_lo), min(pos[a] + hi, other_hi)
                if calendar is not None:
                    first, last = max(first, 0), min(last, len(calendar) - 1)
                if first <= last:
                    shown = (calendar[first], calendar[last]) if calendar is not None else (first, last)
                    rows.append((ticker, ids[a], ids[b], kind, *shown))
    return pd.DataFrame(rows, columns=OVERLAP_COLUMNS)
