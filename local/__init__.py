"""Run template.yaml on this machine without Docker or an AWS account.

``python -m local`` serves the HTTP API routes, runs the schedules on timers and feeds the
DynamoDB stream to its consumers, against a serialized moto server; each function's
execution environments are worker processes (``local.worker``). See
``local.stack.LocalStack`` to run it from Python and ``local.template`` to build tables
from the template.
"""

import sys
from pathlib import Path

# The Lambda layer's code (shared/), importable as Lambda imports a layer, so the documented
# commands (`.venv/bin/python -m local ...`, `-m local.send_webhook ...`) work without make.
_LAYER = str(Path(__file__).resolve().parent.parent / "shared")
if _LAYER not in sys.path:
    sys.path.insert(1, _LAYER)
