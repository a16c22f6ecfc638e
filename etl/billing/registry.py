"""Finding the adapter for a file: every module in ``etl/billing`` that defines ``NAME`` and ``plan`` is one.

Detection is by header: each adapter scores the columns and the highest non-zero score wins; ``--format``
overrides detection.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from types import ModuleType

import etl.billing
from etl.billing.base import InputError, LoadOptions


class UnknownFormatError(InputError):
    """No adapter recognises a file's header, or ``--format`` names no adapter."""


@cache
def adapters() -> dict[str, ModuleType]:
    """Adapter modules by name, in name order."""
    found: dict[str, ModuleType] = {}
    for info in pkgutil.iter_modules(etl.billing.__path__):
        module = importlib.import_module(f"etl.billing.{info.name}")
        if hasattr(module, "NAME") and hasattr(module, "plan") and hasattr(module, "detect"):
            found[module.NAME] = module
    return dict(sorted(found.items()))


def get(name: str) -> ModuleType:
    try:
        return adapters()[name]
    except KeyError:
        raise UnknownFormatError(
            f"unknown format {name!r}; expected one of {', '.join(adapters())} (see `billing formats`)"
        ) from None


def choose(columns: tuple[str, ...], kind: str, options: LoadOptions) -> ModuleType:
    """The adapter for a header: the one named by ``options.format``, else the best-scoring one."""
    if options.format:
        adapter = get(options.format)
        if kind not in adapter.SOURCE_KINDS:
            raise UnknownFormatError(f"the {adapter.NAME} format does not read {kind} files")
        return adapter
    scored = sorted(
        ((adapter.detect(columns, options), name) for name, adapter in adapters().items()
         if kind in adapter.SOURCE_KINDS),
        reverse=True,
    )
    if not scored or scored[0][0] <= 0:
        shown = ", ".join(columns[:8]) + (", ..." if len(columns) > 8 else "")
        raise UnknownFormatError(
            f"no known billing format recognises this {kind} header ({shown}); expected a FOCUS, Google Cloud, "
            f"Azure, AWS CUR or OCI export, or pass --format generic --mapping FILE"
        )
    return adapters()[scored[0][1]]
