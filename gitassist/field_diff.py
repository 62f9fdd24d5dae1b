"""Field-level differences between two assistant documents, secrets redacted.

A change is a :class:`FieldChange` at a JSON path (``$.context.model_name``); long or
multi-line strings (system prompts) also get a unified :func:`text_diff`.
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from gitassist.documents import FIELD_ORDER
from gitassist.problems import json_path
from gitassist.redact import REDACTED, redact, redact_text

if TYPE_CHECKING:
    from gitassist.documents import AssistantDocument

FieldKind = Literal["added", "removed", "changed"]
LONG_TEXT = 80  # strings longer than this (or multi-line) get a unified diff


@dataclass(frozen=True)
class FieldChange:
    """One changed value; ``path`` is a JSON path (``$.context.model_name``)."""

    path: str
    kind: FieldKind
    old: Any = None
    new: Any = None
    text_diff: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def diff_documents(
    old: AssistantDocument | None, new: AssistantDocument | None
) -> list[FieldChange]:
    """Field-level changes from ``old`` to ``new`` (either may be None), secrets redacted."""
    before = _fields(old)
    after = _fields(new)
    return list(_diff(before, after, ()))


def _fields(document: AssistantDocument | None) -> dict[str, Any]:
    if document is None:
        return {}
    data = document.canonical()
    data.pop("assistant_id", None)
    return {k: data[k] for k in FIELD_ORDER if k in data}


def _diff(old: Any, new: Any, parts: tuple[str | int, ...]) -> Any:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in [*old, *(k for k in new if k not in old)]:
            if key not in new:
                yield from _one_sided(old[key], (*parts, key), "removed")
            elif key not in old:
                yield from _one_sided(new[key], (*parts, key), "added")
            else:
                yield from _diff(old[key], new[key], (*parts, key))
    elif old != new:
        yield _field(parts, "changed", old, new)


def _one_sided(value: Any, parts: tuple[str | int, ...], kind: FieldKind) -> Any:
    if value is None:
        return
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from _one_sided(item, (*parts, key), kind)
        return
    if isinstance(value, dict):
        return
    yield _field(
        parts, kind, value if kind == "removed" else None, value if kind == "added" else None
    )


def _field(parts: tuple[str | int, ...], kind: FieldKind, old: Any, new: Any) -> FieldChange:
    key = next((str(p) for p in reversed(parts) if isinstance(p, str)), "")
    old, new = redact(old, key), redact(new, key)
    text = ""
    if isinstance(old, str) and isinstance(new, str) and _is_long(old, new):
        text = text_diff(old, new, json_path(parts))
    return FieldChange(redact_text(json_path(parts)), kind, old, new, text)


def _is_long(*values: str) -> bool:
    return any(len(v) > LONG_TEXT or "\n" in v for v in values) and REDACTED not in values


def text_diff(old: str, new: str, label: str = "") -> str:
    """A unified diff of two texts (no file header), for long strings like system prompts."""
    lines = difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=2)
    body = [line for line in lines if not line.startswith(("---", "+++"))]
    return "\n".join(body)
