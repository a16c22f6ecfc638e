"""Finding the adapter for a file: one :class:`~etl.billing.base.Adapter` subclass per module of ``etl/billing``.

Every module of the package is imported once; each :class:`Adapter` subclass it defines is registered under its
``NAME`` (its declarations were checked when the class was created, see ``base.check_declarations``), and two
adapters with one name are an error. Detection is by header: each adapter scores the columns and the highest
non-zero score wins; ``--format`` overrides detection.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterable
from functools import cache
from types import ModuleType

import etl.billing
from etl.billing.base import Adapter, InputError, LoadOptions


class UnknownFormatError(InputError):
    """No adapter recognises a file's header, or ``--format`` names no adapter."""


@cache
def adapters() -> dict[str, Adapter]:
    """One instance of every adapter of the package, by name, in name order."""
    return collect(importlib.import_module(f"etl.billing.{info.name}")
                   for info in pkgutil.iter_modules(etl.billing.__path__))


def collect(modules: Iterable[ModuleType]) -> dict[str, Adapter]:
    """One instance of each :class:`Adapter` subclass defined in ``modules``, by name; a name twice is an error."""
    found: dict[str, Adapter] = {}
    for module in modules:
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if not issubclass(cls, Adapter) or cls is Adapter or cls.__module__ != module.__name__:
                continue
            if cls.NAME in found:
                raise TypeError(f"two billing adapters are named {cls.NAME!r}: {type(found[cls.NAME]).__name__} "
                                f"and {cls.__name__}")
            found[cls.NAME] = cls()
    return dict(sorted(found.items()))


def get(name: str) -> Adapter:
    try:
        return adapters()[name]
    except KeyError:
        raise UnknownFormatError(
            f"unknown format {name!r}; expected one of {', '.join(adapters())} (see `billing formats`)"
        ) from None


def choose(columns: tuple[str, ...], kind: str, options: LoadOptions) -> Adapter:
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
