"""Import cost of each function's handler module in a fresh interpreter (the cold-start
share that code controls), from ``python -X importtime``: median of a few runs, plus the
heaviest top-level imports. Timings are noisy on shared machines; compare ratios."""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 5
LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")


def _import_profile(handler: Path) -> tuple[int, list[tuple[int, str]]]:
    code = (
        f"import importlib.util as u; s = u.spec_from_file_location('app', r'{handler}'); "
        "m = u.module_from_spec(s); s.loader.exec_module(m)"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT / "shared"), AWS_DEFAULT_REGION="us-east-1", TABLE_NAME="t")
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, env=env, check=True
    )
    top: list[tuple[int, str]] = []
    for line in result.stderr.splitlines():
        match = LINE.match(line)
        if match and len(match.group(3)) == 1:  # top-level imports only
            top.append((int(match.group(2)), match.group(4)))
    return sum(us for us, _ in top), sorted(top, reverse=True)[:3]


_BARE = "import boto3; boto3.client('dynamodb')"
_HANDLER = (
    "import importlib.util as u; s = u.spec_from_file_location('app', r'{handler}'); "
    "m = u.module_from_spec(s); s.loader.exec_module(m); "
    "from omnistock.clients import Clients; Clients().dynamodb"
)


def _wall_ms(code: str) -> float:
    """Wall time of ``code`` in a fresh interpreter (after the interpreter's own start)."""
    timed = f"import time; t = time.perf_counter(); {code}; print((time.perf_counter() - t) * 1000)"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "shared"), AWS_DEFAULT_REGION="us-east-1", TABLE_NAME="t")
    result = subprocess.run([sys.executable, "-c", timed], capture_output=True, text=True, env=env, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    print(f"Handler import cost (python -X importtime, median of {RUNS} fresh interpreters)")
    for handler in sorted(ROOT.glob("functions/*/app.py")):
        runs = [_import_profile(handler) for _ in range(RUNS)]
        median_ms = statistics.median(total for total, _ in runs) / 1000
        heaviest = ", ".join(f"{name} {us / 1000:.0f} ms" for us, name in runs[-1][1])
        print(f"  {handler.parent.name:<14} {median_ms:6.0f} ms   heaviest: {heaviest}")
    print(f"Webhook handlers: import + DynamoDB client vs a bare boto3 import + client (wall, median of {RUNS})")
    for handler in sorted(ROOT.glob("functions/*_webhook/app.py")):
        pairs = [(_wall_ms(_HANDLER.format(handler=handler)), _wall_ms(_BARE)) for _ in range(RUNS)]  # alternated
        ours, bare = statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)
        print(f"  {handler.parent.name:<20} {ours:5.0f} ms  bare boto3 {bare:5.0f} ms  ratio {ours / bare:.2f}")


if __name__ == "__main__":
    main()
