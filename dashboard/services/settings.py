"""The ``eventstudy.*`` settings as one hashable value, for the services that compute abnormal returns."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from etl.config import Config
from etl.eventstudy.settings import StudySettings
from etl.eventstudy.windows import LabelWindow, OffsetWindow

MODEL_LABELS = {"market": "market model", "market_adjusted": "market-adjusted", "constant_mean": "constant mean"}
"""Normal-return models of the event studies (``eventstudy.model``), as the pages name them."""


@dataclass(frozen=True)
class StudyConfig:
    """``StudySettings.from_config`` (parsed and checked as ``eventstudy run`` does) in a hashable form: a
    :class:`StudySettings` holds its per-calendar benchmarks in a dict, which cannot key the cache."""

    model: str
    returns_kind: str
    estimation: OffsetWindow | LabelWindow
    windows: tuple[OffsetWindow, ...]
    min_obs: int
    benchmarks: tuple[tuple[str, str], ...]

    @classmethod
    def from_config(cls, config: Config) -> StudyConfig:
        """The ``eventstudy.*`` settings of ``config``; ValueError names a malformed setting."""
        settings = StudySettings.from_config(config)
        return cls(settings.model, settings.returns_kind, settings.estimation, settings.windows, settings.min_obs,
                   tuple(sorted(settings.benchmarks.items())))

    def settings(self, **overrides: Any) -> StudySettings:
        """The study settings of these values with ``overrides`` (None values are ignored)."""
        base = StudySettings(model=self.model, returns_kind=self.returns_kind, estimation=self.estimation,
                             windows=self.windows, min_obs=self.min_obs, benchmarks=dict(self.benchmarks))
        return replace(base, **{name: value for name, value in overrides.items() if value is not None})
