"""What every CLI command receives: the resolved configuration and the warehouse it points at."""

from __future__ import annotations

from dataclasses import dataclass

from etl.config import Config
from etl.warehouse import Warehouse


@dataclass(frozen=True)
class Context:
    config: Config

    @property
    def warehouse(self) -> Warehouse:
        return Warehouse(
            self.config.db_path,
            memory_limit=self.config.get("warehouse.memory_limit"),
            threads=self.config.get("warehouse.threads"),
            lock_timeout_s=self.config.get("warehouse.lock_timeout_s"),
        )
