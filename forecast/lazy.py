"""Modules imported on first use, so the quick commands never load PyMC or PyTensor.

`pm = lazy_module("pymc")` binds a stand-in; the first attribute read (`pm.Model`) imports
the real module, and every later read goes straight to it. `forecast validate` and
`forecast data show` import the model families for their metadata and checks but never
touch `pm` or `pt`, so they never pay PyMC's import (seconds on a small machine).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class _LazyModule(ModuleType):
    def __getattr__(self, attr: str) -> Any:
        module = importlib.import_module(self.__name__)
        value = getattr(module, attr)
        return value


def lazy_module(name: str) -> Any:
    """A stand-in for module `name` that imports it when an attribute is first read."""
    return _LazyModule(name)
