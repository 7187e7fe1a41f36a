"""What the reliability suites did, printed as one line per suite at the end of `make test`:
events replayed, duplicates, faults injected, requests fuzzed, failures. A test marked
``@pytest.mark.suite("name")`` adds its figures with ``record("name", events=..., ...)``; a
failed test of the suite counts as a failure whatever it recorded."""

from __future__ import annotations

from collections import Counter, defaultdict

ORDER = ("events", "duplicates", "reordered", "faults", "requests", "checks")
_figures: defaultdict[str, Counter[str]] = defaultdict(Counter)


def record(suite: str, **counts: int) -> None:
    _figures[suite].update(counts)


def failed(suite: str) -> None:
    _figures[suite]["failures"] += 1


def lines() -> list[str]:
    found = []
    for suite in sorted(_figures):
        figures = _figures[suite]
        named = [key for key in ORDER if figures.get(key)] + sorted(set(figures) - set(ORDER) - {"failures"})
        parts = [f"{figures[key]:,} {key}" for key in named]
        parts.append(f"{figures.get('failures', 0)} failures")
        found.append(f"{suite}: " + ", ".join(parts))
    return found
