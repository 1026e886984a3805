"""Lazy exports for a package's ``__init__``: a name is imported from its module on first use, so
importing the package stays cheap (a ribbon click starts a fresh Python)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_getattr(package: str, exports: Mapping[str, str], namespace: dict[str, Any]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for *package*: *exports* maps each public name to the module that
    defines it; the value found is kept in *namespace* (the package's globals) for the next use."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    return __getattr__
