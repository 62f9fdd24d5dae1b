"""A write's arguments as document fields: context key edits (``--set``/``--unset``) and the
run config. Pure functions on data; errors are GitassistError subclasses."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from gitassist.documents import RunConfig
from gitassist.errors import UsageError, ValidationFailed

if TYPE_CHECKING:
    from collections.abc import Sequence


def edit_context(
    base: dict[str, Any], sets: Sequence[tuple[str, Any]], unsets: Sequence[str] = ()
) -> dict[str, Any]:
    """``base`` with ``(key, value)`` set and ``key`` removed, in order; dotted keys nest
    (``a.b`` sets ``b`` in mapping ``a``, made when missing). A copy: ``base`` is unchanged."""
    data: dict[str, Any] = json.loads(json.dumps(base))
    for key, value in sets:
        parts = key.split(".")
        _parent(data, parts, f"{key}={json.dumps(value)}", "--set", create=True)[parts[-1]] = value
    for key in unsets:
        parts = key.split(".")
        _parent(data, parts, key, "--unset", create=False).pop(parts[-1], None)
    return data


def _parent(
    data: dict[str, Any], parts: list[str], item: str, option: str, *, create: bool
) -> dict[str, Any]:
    """The mapping that holds the last of ``parts`` (made on the way with ``create``)."""
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        child = node.get(part) if isinstance(node, dict) else None
        if child is None and create:
            child = node[part] = {}
        if not isinstance(child, dict):
            if child is None:
                return {}
            where = ".".join(parts[: i + 1])
            raise UsageError(f"{option} {item!r}: {where} is {json.dumps(child)}, not a mapping")
        node = child
    parent: dict[str, Any] = node
    return parent


def _run_config(config: dict[str, Any] | None) -> dict[str, Any]:
    config = dict(config or {})
    if config.get("configurable"):
        raise ValidationFailed(
            "config.configurable is not stored: put those values in context",
            [],
            hint="LangGraph reads assistant values from context; see docs/format.md",
        )
    config.pop("configurable", None)
    return config


def run_config(config: dict[str, Any] | None) -> RunConfig:
    """``config`` as the stored run config (tags, recursion_limit); never ``configurable``."""
    from pydantic import ValidationError

    try:
        return RunConfig.model_validate(_run_config(config))
    except ValidationError as exc:
        detail = "; ".join(
            f"config.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ValidationFailed(
            f"invalid config: {detail}",
            [],
            hint='config takes {"tags": [str, ...], "recursion_limit": int >= 1}',
        ) from None
