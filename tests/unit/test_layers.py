"""The layers hold: the core never names a platform (it asks the registry), and each platform's
code lives in its own package under channels/."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from omnistock.channels import registry

LAYER = Path(__file__).resolve().parents[2] / "shared" / "omnistock"
CORE = ["ledger", "orders", "order_desk", "shipments", "listings", "push", "sync", "live_events", "policy", "models"]
PLATFORM_PACKAGES = sorted(p.name for p in (LAYER / "channels").iterdir() if (p / "__init__.py").exists())


@pytest.mark.parametrize("module", CORE)
def test_the_core_never_imports_or_names_a_platform(module: str) -> None:
    tree = ast.parse((LAYER / f"{module}.py").read_text())
    imported = {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    platform_imports = {
        name for name in imported if name.split(".")[:2] == ["omnistock", "channels"] and len(name.split(".")) > 2
    }
    assert platform_imports <= {"omnistock.channels.registry"}
    named = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    assert not named & set(PLATFORM_PACKAGES)


def test_each_platform_lives_in_one_package() -> None:
    loose = {path.stem for path in LAYER.glob("*.py")} & {f"{p}_intake" for p in PLATFORM_PACKAGES}
    assert not loose and not (LAYER / "shipstation_desk.py").exists()
    assert set(registry.PLATFORMS) <= set(PLATFORM_PACKAGES)
    for name, platform in registry.PLATFORMS.items():
        assert platform.name == name


def test_fakes_are_defined_once() -> None:
    """Clocks and platform fakes live in tests/fakes.py; a test file imports them."""
    tests = Path(__file__).resolve().parents[1]
    pattern = re.compile(r"^class (\w*Clock|Fake\w+|Monotonic|Receiver)\b", re.M)
    defined = {path.name: pattern.findall(path.read_text()) for path in tests.rglob("*.py") if path.name != "fakes.py"}
    assert {name: found for name, found in defined.items() if found} == {}
