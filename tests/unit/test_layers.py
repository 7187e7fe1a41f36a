"""The layers hold (the import contract, checked on every module's syntax tree):

    handlers (functions/*/app.py) -> channels / core -> store -> DynamoDB

- the core never names a platform (it asks the registry); each platform lives in one package;
- a platform's code never imports the store at run time (stores arrive built, from its package's
  ``wiring.py``, the only module of it that may build them); annotations may name them;
- the store never imports the core's services nor a platform;
- handlers reach the store only through the wiring (``store.stream`` decodes their event);
- only the wiring, the observability module and runtime read the environment."""

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


ROOT = LAYER.parents[1]
SERVICES = {
    "ledger",
    "order_desk",
    "shipments",
    "listings",
    "push",
    "sync",
    "live_events",
    "wiring",
    "runtime",
    "handlers",
}


def runtime_imports(path: Path) -> set[str]:
    """Modules ``path`` imports when it runs (imports under ``if TYPE_CHECKING:`` are left out)."""
    tree = ast.parse(path.read_text())
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(child) for child in ast.walk(node)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def modules(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*.py") if "__pycache__" not in path.parts)


@pytest.mark.parametrize("path", modules(LAYER / "channels"), ids=lambda p: str(p.relative_to(LAYER)))
def test_a_platform_never_imports_the_store_at_run_time(path: Path) -> None:
    if path.name == "wiring.py":
        return  # the composition root of its package: it builds the stores it hands over
    assert not {name for name in runtime_imports(path) if name.startswith("omnistock.store")}


@pytest.mark.parametrize("path", modules(LAYER / "store"), ids=lambda p: p.name)
def test_the_store_never_imports_the_services_or_a_platform(path: Path) -> None:
    imported = runtime_imports(path)
    assert not {name for name in imported if name.startswith("omnistock.channels")}
    assert not {name for name in imported if name.split(".")[:2][-1] in SERVICES and name.startswith("omnistock.")}


@pytest.mark.parametrize("path", sorted((ROOT / "functions").glob("*/app.py")), ids=lambda p: p.parent.name)
def test_handlers_reach_the_store_only_through_the_wiring(path: Path) -> None:
    imported = runtime_imports(path)
    assert {name for name in imported if name.startswith("omnistock.store")} <= {
        "omnistock.store.stream",
        *{name for name in imported if name.startswith("omnistock.store.stream.")},
    }
    assert not {name for name in imported if name.split(".")[0] in ("boto3", "botocore")}


@pytest.mark.parametrize("path", modules(LAYER), ids=lambda p: str(p.relative_to(LAYER)))
def test_only_the_wiring_reads_the_environment(path: Path) -> None:
    if path.name in ("runtime.py", "observability.py"):
        return
    text = path.read_text()
    assert "os.environ" not in text and "os.getenv" not in text
