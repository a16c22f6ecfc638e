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


def app_context() -> AppContext:
    """Settings are read on every rerun (cheap), so an edited config.toml or SPENDSCOPE_DB is picked up."""
    config = load_config()
    return AppContext(config, Reader(Path(config.get("db")).resolve()))
