"""One exception tree (STYLE.md): every error the gateway raises on purpose is a GatewayError,
and the drawing in gateway/errors.py shows each branch."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

import gateway
import tenants
from gateway import errors
from gateway.errors import GatewayError


def all_modules() -> list[ModuleType]:
    return [
        importlib.import_module(info.name)
        for package in (gateway, tenants)
        for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}.")
        if not info.name.endswith("__main__")
    ]


def test_every_exception_class_of_ours_is_in_the_tree() -> None:
    strays = []
    for module in all_modules():
        for name, value in vars(module).items():
            if (
                not name.startswith("_")  # module-private control flow that never escapes
                and inspect.isclass(value)
                and value.__module__ == module.__name__
                and issubclass(value, BaseException)
                and not issubclass(value, GatewayError)
            ):
                strays.append(f"{module.__name__}.{name}")
    assert strays == []


def test_the_drawing_shows_each_branch() -> None:
    all_modules()
    drawing = errors.__doc__ or ""
    branches = {cls.__name__ for cls in GatewayError.__subclasses__()}
    here = {
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value) and issubclass(value, GatewayError) and value is not GatewayError
    }
    missing = sorted(name for name in branches | here if f" {name} " not in drawing)
    assert missing == []
