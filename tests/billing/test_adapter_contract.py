"""The adapter contract: every format is an Adapter subclass whose declarations are checked when it is created."""

from __future__ import annotations

import types
from typing import ClassVar

import pytest

from etl.billing import registry
from etl.billing.base import MANDATORY_FOCUS, PLACEHOLDER, Adapter, Field, LoadOptions, Plan

FOCUS_OK = {column: "{x}" for column in MANDATORY_FOCUS}


def define(name: str = "probe", focus: dict[str, str] | None = None, fields: dict[str, Field] | None = None,
           derived: tuple[str, ...] = ()) -> type[Adapter]:
    """Create an adapter class (its creation runs the checks)."""

    class Probe(Adapter):
        NAME = name
        DESCRIPTION = "a probe"
        SOURCE_KINDS = ("csv",)
        FIELDS: ClassVar[dict[str, Field]] = {"x": Field(("x",))} if fields is None else fields
        FOCUS: ClassVar[dict[str, str]] = FOCUS_OK if focus is None else focus
        DERIVED = derived

        def detect(self, columns: tuple[str, ...], options: LoadOptions) -> int:
            return 0

        def plan(self, header, options, source) -> Plan:
            return self.bind(header, options)

    return Probe


def test_every_shipped_format_is_registered_with_complete_declarations():
    adapters = registry.adapters()
    assert list(adapters) == ["aws", "azure", "focus", "gcp", "generic", "oci"]
    for name, adapter in adapters.items():
        assert isinstance(adapter, Adapter) and name == adapter.NAME
        assert set(MANDATORY_FOCUS) <= set(adapter.FOCUS)
        used = {key for template in adapter.FOCUS.values() for key in PLACEHOLDER.findall(template)}
        assert used <= set(adapter.FIELDS) | set(adapter.DERIVED), name
        assert all(isinstance(spec, Field) for spec in adapter.FIELDS.values())


def test_a_complete_adapter_is_accepted():
    assert define().NAME == "probe"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"focus": {k: v for k, v in FOCUS_OK.items() if k != "BilledCost"}}, "does not map the mandatory BilledCost"),
    ({"focus": FOCUS_OK | {"BilledCosts": "{x}"}}, "BilledCosts, which are not FOCUS columns"),
    ({"focus": FOCUS_OK | {"Tags": "{tags}"}}, "FOCUS Tags refers to tags, neither a field nor a DERIVED name"),
    ({"fields": {"x": ("x",)}}, "FIELDS must map field keys to Field"),
    ({"name": "Not A Name"}, "NAME must be a lower-case identifier"),
])
def test_a_broken_declaration_fails_when_the_class_is_created(kwargs, message):
    with pytest.raises(TypeError, match=message):
        define(**kwargs)


def test_a_placeholder_may_name_a_derived_expression():
    assert define(focus=FOCUS_OK | {"Tags": "{tags}"}, derived=("tags",)).DERIVED == ("tags",)


def test_two_adapters_with_one_name_are_refused():
    first, second = types.ModuleType("first"), types.ModuleType("second")
    first.Probe, second.Probe = define("same"), define("same")
    first.Probe.__module__, second.Probe.__module__ = "first", "second"
    with pytest.raises(TypeError, match="two billing adapters are named 'same'"):
        registry.collect([first, second])
    assert list(registry.collect([first])) == ["same"]


def test_an_imported_adapter_is_registered_only_by_its_own_module():
    module = types.ModuleType("importer")
    module.Probe = define("probe")  # defined elsewhere (its __module__ is this test module)
    assert registry.collect([module]) == {}
