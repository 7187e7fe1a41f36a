"""The local stack as its own process on free ports (see local.launcher)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from local.launcher import launch


@contextmanager
def local_stack(*extra_args: str, timeout: float = 60.0) -> Iterator[str]:
    with launch(*extra_args, timeout=timeout) as launched:
        try:
            yield launched.url
        except BaseException:
            print("\n".join(launched.output[-40:]), file=sys.stderr)  # what the stack said
            raise
