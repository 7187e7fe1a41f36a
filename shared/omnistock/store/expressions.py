"""Placeholder bookkeeping for DynamoDB expressions, so no attribute name is ever spliced
into an expression (reserved words, and lot keys that hold any character)."""

from __future__ import annotations

from typing import Any

from omnistock.store.table import to_attrs


class Expression:
    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}
        self._by_name: dict[str, str] = {}

    def name(self, *path: str) -> str:
        """``#n0.#n1`` for the attribute path ``path``."""
        parts = []
        for part in path:
            if part not in self._by_name:
                placeholder = f"#n{len(self._by_name)}"
                self._by_name[part] = placeholder
                self.names[placeholder] = part
            parts.append(self._by_name[part])
        return ".".join(parts)

    def value(self, value: Any) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = value
        return placeholder

    def update(
        self,
        *,
        set_: dict[tuple[str, ...], Any] | None = None,
        add: dict[str, int] | None = None,
        remove: list[tuple[str, ...]] | None = None,
        set_if_absent: dict[str, Any] | None = None,
    ) -> str:
        clauses = []
        sets = [f"{self.name(*path)} = {self.value(v)}" for path, v in (set_ or {}).items()]
        sets += [
            f"{self.name(n)} = if_not_exists({self.name(n)}, {self.value(v)})" for n, v in (set_if_absent or {}).items()
        ]
        if sets:
            clauses.append("SET " + ", ".join(sets))
        if add:
            clauses.append("ADD " + ", ".join(f"{self.name(n)} {self.value(v)}" for n, v in add.items()))
        if remove:
            clauses.append("REMOVE " + ", ".join(self.name(*path) for path in remove))
        return " ".join(clauses)

    def attach(self, body: dict[str, Any]) -> dict[str, Any]:
        """Add the names and values used so far to a request ``body`` (values serialized)."""
        if self.names:
            body["ExpressionAttributeNames"] = self.names
        if self.values:
            body["ExpressionAttributeValues"] = to_attrs(self.values)
        return body
