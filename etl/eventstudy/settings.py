"""What a warehouse-mode event study is asked to do: model, returns, windows, benchmarks, tickers.

Defaults come from the ``eventstudy.*`` settings (README "Settings"); ``eventstudy run`` options and the
dashboard override them. Window texts are offsets ``START:END`` in sessions relative to day 0 (``-1:1``,
``0:+5``) or, for the estimation window only, dates ``YYYY-MM-DD:YYYY-MM-DD``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, get_args

from etl.config import SETTINGS, Config
from etl.eventstudy.engine import EventStudyConfig
from etl.eventstudy.filemode import parse_date_range
from etl.eventstudy.models import Model, ReturnKind
from etl.eventstudy.windows import (
    DEFAULT_ESTIMATION,
    DEFAULT_EVENT_WINDOWS,
    DEFAULT_PATH_WINDOW,
    LabelWindow,
    OffsetWindow,
    label_text,
)

DEFAULT_BENCHMARKS: dict[str, str] = next(s.default for s in SETTINGS if s.key == "eventstudy.benchmarks")
_OFFSETS = re.compile(r"^\s*\[?\s*([+-]?\d+)\s*[:,]\s*([+-]?\d+)\s*\]?\s*$")
OPTION_LIKE_NEGATIVE = re.compile(r"^-\d+(\.\d+)?$|^-\d+\s*:\s*[+-]?\d+(\s*,\s*[+-]?\d+\s*:\s*[+-]?\d+)*$")
"""Arguments such as ``-250:-11`` or ``-1:1,0:0`` that argparse must read as values, not options."""


def parse_offsets(text: str) -> OffsetWindow:
    """``-1:1`` (or ``[-1,+1]``) -> OffsetWindow(-1, 1); ValueError with the reason otherwise."""
    match = _OFFSETS.match(text)
    if not match:
        raise ValueError(f"expected a window of session offsets START:END such as -1:1, got {text!r}")
    return OffsetWindow(int(match.group(1)), int(match.group(2)))


def parse_windows(texts: str | Sequence[str]) -> tuple[OffsetWindow, ...]:
    """``0:0,-1:1`` or a list of such texts -> the event windows (at least one, no repeats)."""
    parts = texts.split(",") if isinstance(texts, str) else [p for t in texts for p in t.split(",")]
    windows = tuple(dict.fromkeys(parse_offsets(p) for p in parts if p.strip()))
    if not windows:
        raise ValueError("at least one event window is required, e.g. 0:0,-1:1")
    return windows


def parse_estimation(text: str) -> OffsetWindow | LabelWindow:
    """Offsets ``-250:-11`` or dates ``2024-01-02:2024-12-31`` (inclusive)."""
    if re.match(r"^\s*\d{4}-", text):
        return parse_date_range(text)
    return parse_offsets(text)


@dataclass(frozen=True)
class StudySettings:
    """One warehouse-mode study. ``benchmark`` (one ticker for every firm) overrides the per-calendar
    ``benchmarks``; ``tickers`` overrides each event's own tickers."""

    model: Model = "market"
    returns_kind: ReturnKind = "simple"
    estimation: OffsetWindow | LabelWindow = DEFAULT_ESTIMATION
    windows: tuple[OffsetWindow, ...] = DEFAULT_EVENT_WINDOWS
    min_obs: int = 60
    benchmarks: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_BENCHMARKS))
    benchmark: str | None = None
    tickers: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        self.engine_config()  # the engine validates model, returns kind, min_obs and windows
        if not all(isinstance(w, OffsetWindow) for w in self.windows):
            raise ValueError("warehouse-mode event windows are offsets relative to each ticker's day 0")

    @property
    def path_window(self) -> OffsetWindow:
        """The daily AR/CAR path: days -10..+10, widened to cover every event window."""
        return OffsetWindow(min(DEFAULT_PATH_WINDOW.start, *(w.start for w in self.windows)),
                            max(DEFAULT_PATH_WINDOW.end, *(w.end for w in self.windows)))

    @property
    def overlap_estimation(self) -> OffsetWindow:
        """The estimation window for overlap flags, which need offsets: [-250,-11] when given as dates."""
        return self.estimation if isinstance(self.estimation, OffsetWindow) else DEFAULT_ESTIMATION

    def engine_config(self) -> EventStudyConfig:
        return EventStudyConfig(model=self.model, returns_kind=self.returns_kind, estimation=self.estimation,
                                event_windows=self.windows, min_obs=self.min_obs, path_window=self.path_window)

    def benchmark_for(self, calendar: str) -> str | None:
        """The benchmark of a ticker listed on ``calendar`` (None when no benchmark is set for it)."""
        return self.benchmark or self.benchmarks.get(calendar)

    def describe(self) -> dict[str, Any]:
        """JSON-ready parameters, as recorded in ``event_study_runs.parameters``."""
        values = asdict(self)
        values["estimation"] = (str(self.estimation) if isinstance(self.estimation, OffsetWindow) else
                                f"{label_text(self.estimation.start)}:{label_text(self.estimation.end)}")
        values["windows"] = [str(w) for w in self.windows]
        values["benchmarks"] = dict(self.benchmarks)
        values["tickers"] = list(self.tickers) if self.tickers else None
        return values

    @classmethod
    def from_config(cls, config: Config, **overrides: Any) -> StudySettings:
        """Settings ``eventstudy.*`` with ``overrides`` (None values are ignored); ValueError names the setting."""
        values: dict[str, Any] = {}
        for key, name, parse in (("eventstudy.model", "model", _choice(get_args(Model))),
                                 ("eventstudy.returns", "returns_kind", _choice(get_args(ReturnKind))),
                                 ("eventstudy.estimation", "estimation", parse_estimation),
                                 ("eventstudy.windows", "windows", parse_windows),
                                 ("eventstudy.min_obs", "min_obs", int)):
            try:
                values[name] = parse(config.get(key))
            except ValueError as exc:
                raise ValueError(f"setting {key}: {exc}") from None
        merged = {**DEFAULT_BENCHMARKS, **config.get("eventstudy.benchmarks")}
        values["benchmarks"] = {mic.strip().upper(): t.strip().upper() for mic, t in merged.items() if t.strip()}
        values |= {name: value for name, value in overrides.items() if value is not None}
        return cls(**values)


def _choice(allowed: tuple[str, ...]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}, got {text!r}")
        return text

    return parse
