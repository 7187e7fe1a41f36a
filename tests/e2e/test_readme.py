"""README's local examples, run as written against a fresh local stack: every ```bash block
marked ``<!-- run locally -->``, in README order, in one shell that stops at the first failed
command (curl fails on any 4xx or 5xx). Only the address and the dev token are the stack's."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import RunningStack, running_stack
from tests.helpers import ROOT

MARK = re.compile(r"<!-- run locally -->\n```bash\n(.*?)```", re.S)


@pytest.fixture(scope="module")
def readme_stack() -> Iterator[RunningStack]:
    yield from running_stack()


def script(stack: RunningStack) -> str:
    blocks = MARK.findall((ROOT / "README.md").read_text())
    assert len(blocks) >= 5, "the README's runnable examples lost their marks"
    address = stack.url.removeprefix("http://")
    body = "\n".join(
        line for block in blocks for line in block.splitlines() if not line.strip().startswith("make local")
    )
    body = body.replace("localhost:3000", address).replace("127.0.0.1:3000", address)
    prelude = f"""set -euo pipefail
curl() {{ command curl --fail-with-body --max-time 60 "$@"; echo; }}
export OMNISTOCK_URL={stack.url} OMNISTOCK_DEV_TOKEN={stack.dev_token}
"""
    return prelude + body.replace("local-dev-token", stack.dev_token)


def test_the_readme_examples_run_as_written(readme_stack: RunningStack, tmp_path: Path) -> None:
    for name in (".venv", "tests", "bin", "cli", "local", "shared"):  # what the examples name, by path
        (tmp_path / name).symlink_to(ROOT / name)
    done = subprocess.run(
        ["bash", "-c", script(readme_stack)], cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, f"a README example failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    order = readme_stack.client.get("/orders/shopify/5938001231001").json()
    assert order["shipments"], order  # the ship notice of the ShipStation example arrived
