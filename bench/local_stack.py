"""Start `python -m local` as its own process on free ports, as a developer would run it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
READY = re.compile(r"Omnistock local stack ready on (http://\S+)")


@contextmanager
def local_stack(*extra_args: str, timeout: float = 60.0) -> Iterator[str]:
    env = dict(os.environ, PYTHONPATH=f"{ROOT / 'shared'}{os.pathsep}{ROOT}")
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed in finally; read when it failed
    process = subprocess.Popen(
        [sys.executable, "-m", "local", "--port", "0", "--moto-port", "0", *extra_args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        deadline = time.monotonic() + timeout
        url = None
        assert process.stdout is not None
        while url is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                raise RuntimeError("the local stack exited before it was ready")
            match = READY.search(line)
            url = match.group(1) if match else None
        if url is None:
            raise RuntimeError("the local stack did not get ready in time")
        yield url
    except BaseException:
        log.seek(0)
        print(log.read()[-4000:], file=sys.stderr)
        raise
    finally:
        log.close()
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
