"""What every page needs: the configuration and a reader of the warehouse it names."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dashboard.queries.reader import Reader
from etl.config import Config, load_config


@dataclass(frozen=True)
class AppContext:
    config: Config
    reader: Reader

    @property
    def currency(self) -> str:
        """The reporting currency (setting ``reporting_currency``)."""
        return self.config.get("reporting_currency").upper()

    @property
    def max_rate_age_days(self) -> int:
        """How much older than a charge a usable FX rate may be (setting ``fx.max_rate_age_days``)."""
        return self.config.get("fx.max_rate_age_days")


def app_context() -> AppContext:
    """Settings are read on every rerun (cheap), so an edited config.toml or SPENDSCOPE_DB is picked up."""
    config = load_config()
    return AppContext(config, Reader(Path(config.get("db")).resolve()))
