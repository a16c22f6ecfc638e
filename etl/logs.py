"""Logging for cron and for people: one line per meaningful step, to stderr, with a timestamp."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


class _StderrHandler(logging.StreamHandler):
    """Writes to ``sys.stderr`` as it is when a record is logged, not as it was when logging was set up: a caller
    that swaps stderr (a test's capture, an embedding application) never leaves the handler on a closed stream."""

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def setup_logging(level: str = "INFO") -> None:
    """Configure the root logger once; repeated calls only change the level."""
    root = logging.getLogger()
    if not any(getattr(h, "_spendscope", False) for h in root.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s",
                                               "%Y-%m-%d %H:%M:%S"))
        handler._spendscope = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level.upper())


def progress(items: Iterable[T], total: int | None = None, desc: str = "") -> Iterator[T]:
    """A progress bar on an interactive terminal; the plain iterable under cron or in tests."""
    if not sys.stderr.isatty():
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, total=total, desc=desc, leave=False)
