"""Deterministic small event studies shared by the tests (returns matrices with known quirks)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from etl.eventstudy.engine import EventStudyConfig
from etl.eventstudy.models import Model, ReturnKind
from etl.eventstudy.windows import OffsetWindow


@dataclass(frozen=True)
class Case:
    R: np.ndarray
    M: np.ndarray
    rel: np.ndarray
    estimation: tuple[int, int]
    windows: list[tuple[int, int]]
    firms: list[str]

    def frames(self) -> tuple[pd.DataFrame, pd.Series]:
        index = pd.Index(self.rel, name="day")
        return pd.DataFrame(self.R, index=index, columns=self.firms), pd.Series(self.M, index=index)

    def config(
        self, model: Model = "market", kind: ReturnKind = "simple", min_obs: int = 60
    ) -> EventStudyConfig:
        return EventStudyConfig(
            model=model,
            returns_kind=kind,
            estimation=OffsetWindow(*self.estimation),
            event_windows=tuple(OffsetWindow(*w) for w in self.windows),
            min_obs=min_obs,
            path_window=OffsetWindow(-5, 5),
        )


def three_firms() -> Case:
    """3 firms, estimation [-75, -6] (70 sessions), event period [-3, +3].

    Firm B misses 5 estimation sessions (E_B shorter than the window), the market misses one
    estimation session (so every T_i < 70), and firm C has no return on day +2.
    """
    rng = np.random.default_rng(20250610)
    rel = np.arange(-80, 11)
    M = rng.normal(0.0005, 0.01, len(rel))
    R = np.column_stack(
        [
            0.0002 + beta * M + rng.normal(0.0, sd, len(rel))
            for beta, sd in [(0.8, 0.012), (1.2, 0.02), (0.5, 0.015)]
        ]
    )
    R[rel == 0] += [0.03, -0.01, 0.02]
    R[[5, 17, 30, 44, 58], 1] = np.nan
    R[rel == 2, 2] = np.nan
    M[22] = np.nan
    return Case(R, M, rel, (-75, -6), [(0, 0), (-1, 1), (0, 2), (-3, 3)], ["A", "B", "C"])


DAY0_AR_WITH_TIES = np.array([3, -3, 5, 0, 3, -1]) / 256


def dyadic_ties() -> Case:
    """6 firms with returns on a 1/256 grid, so market-adjusted ARs are exact and full of ties.

    On day 0 the market return is exactly 0 and the ARs are DAY0_AR_WITH_TIES: |AR| ties (3, -3, 3)
    and one zero, which exercises Wilcoxon's averaged ranks and dropped zeros.
    """
    rng = np.random.default_rng(7)
    rel = np.arange(-70, 4)
    M = rng.integers(-6, 7, len(rel)) / 256
    R = rng.integers(-6, 7, (len(rel), 6)) / 256
    M[rel == 0] = 0.0
    R[rel == 0] = DAY0_AR_WITH_TIES
    return Case(R, M, rel, (-65, -2), [(0, 0), (-1, 1)], [f"F{i}" for i in range(6)])
