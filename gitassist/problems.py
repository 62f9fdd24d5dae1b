"""A problem found in a document: what is wrong, where, and how bad."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from gitassist.errors import Location

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One finding. ``line``/``column`` are 1-based; ``json_path`` is like ``$.context.model``."""

    file: str
    message: str
    json_path: str = "$"
    line: int | None = None
    column: int | None = None
    rev: str | None = None
    code: str = "invalid"
    severity: Severity = "error"

    @property
    def location(self) -> Location:
        return Location(self.file, self.line, self.column, self.rev)

    def where(self) -> str:
        """``rev:file:line:col``, as far as it is known."""
        return str(self.location)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def json_path(parts: tuple[str | int, ...] | list[str | int]) -> str:
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.isidentifier():
            out += f".{part}"
        else:
            out += f"[{part!r}]"
    return out
