"""A graph's context schema as JSON Schema: what ``gitassist schemas export`` writes.

Built by ``graph.get_context_jsonschema()`` (pydantic underneath), then normalised where
pydantic loses something. Called only on a loaded graph (see :mod:`gitassist.schemas`).
"""

from __future__ import annotations

import dataclasses
import json
import typing
from typing import TYPE_CHECKING, Any

from gitassist.errors import UserCodeError

if TYPE_CHECKING:
    from collections.abc import Callable

_MISSING = object()


def context_jsonschema(graph: Any) -> dict[str, Any] | None:
    """The JSON Schema of the graph's context schema, or None when it declares none.

    Built by `graph.get_context_jsonschema()` (pydantic underneath), then normalised where
    pydantic loses something (see `_normalise`).
    """
    context_type = getattr(graph, "context_schema", None)
    if context_type is None:
        return None
    try:
        schema = _pydantic_schema(graph, context_type)
    except Exception as exc:
        name = getattr(context_type, "__qualname__", repr(context_type))
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise UserCodeError(
            f"context schema {name} cannot be exported as JSON Schema: "
            f"{type(exc).__name__}: {first_line}",
            hint="use a TypedDict, dataclass or pydantic model with JSON-compatible field types",
        ) from exc
    _normalise(schema, context_type)
    return schema


def _pydantic_schema(graph: Any, context_type: Any) -> dict[str, Any]:
    from pydantic import PydanticUserError, TypeAdapter

    try:
        return dict(graph.get_context_jsonschema())
    except PydanticUserError as exc:
        if exc.code != "typed-dict-version":
            raise
    # pydantic refuses `typing.TypedDict` before Python 3.12; rebuild it as a typing_extensions
    # TypedDict with the same fields, required keys and docstring.
    return dict(TypeAdapter(_as_extensions_typeddict(context_type)).json_schema())


def _as_extensions_typeddict(typed_dict: Any) -> Any:
    import typing_extensions

    hints = typing.get_type_hints(typed_dict, include_extras=True)
    required_keys = typed_dict.__required_keys__
    fields = {
        name: (typing.Required if name in required_keys else typing.NotRequired)[
            _strip_required(hint)
        ]
        for name, hint in hints.items()
    }
    make: Any = typing_extensions.TypedDict
    rebuilt = make(typed_dict.__name__, fields)
    rebuilt.__doc__ = typed_dict.__doc__
    rebuilt.__module__ = typed_dict.__module__
    return rebuilt


def _strip_required(hint: Any) -> Any:
    if typing.get_origin(hint) in (typing.Required, typing.NotRequired):
        return typing.get_args(hint)[0]
    return hint


def _normalise(schema: dict[str, Any], context_type: Any) -> None:
    """Put back, on the top-level properties, what pydantic's JSON Schema drops.

    - `Annotated[T, "text"]`: pydantic ignores plain-string metadata (it only reads
      `Field(description=...)`), so TypedDict/dataclass fields lose their description. The
      first string in the metadata becomes the `description` when there is none.
    - `field(default_factory=...)` / `Field(default_factory=...)`: pydantic omits the default.
      We call the factory twice and record the value as `default` only when both calls give
      the same JSON (so `uuid4`/`now` factories never make the export non-deterministic).
    Nested models under `$defs` are left as pydantic made them.
    """
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return
    for name, hint in _field_hints(context_type).items():
        prop = properties.get(name)
        text = _annotated_description(hint)
        if isinstance(prop, dict) and text and "description" not in prop:
            prop["description"] = text
    for name, factory in _default_factories(context_type).items():
        prop = properties.get(name)
        if isinstance(prop, dict) and "default" not in prop:
            value = _stable_default(factory)
            if value is not _MISSING:
                prop["default"] = value


def _field_hints(context_type: Any) -> dict[str, Any]:
    """Field name (as it appears in the schema) → its annotation with `Annotated` extras."""
    try:
        hints = typing.get_type_hints(context_type, include_extras=True)
    except Exception:  # unresolvable forward references: nothing to add
        return {}
    model_fields = getattr(context_type, "model_fields", None)
    if isinstance(model_fields, dict):
        return {f.alias or n: hints[n] for n, f in model_fields.items() if n in hints}
    if dataclasses.is_dataclass(context_type):
        return {f.name: hints[f.name] for f in dataclasses.fields(context_type) if f.name in hints}
    return hints


def _annotated_description(hint: Any) -> str | None:
    origin = typing.get_origin(hint)
    if origin in (typing.Required, typing.NotRequired):
        return _annotated_description(typing.get_args(hint)[0])
    if origin is typing.Annotated:
        texts = [m for m in hint.__metadata__ if isinstance(m, str) and m.strip()]
        return texts[0].strip() if texts else None
    return None


def _default_factories(context_type: Any) -> dict[str, Callable[..., Any]]:
    model_fields = getattr(context_type, "model_fields", None)
    if isinstance(model_fields, dict):
        return {
            f.alias or n: f.default_factory
            for n, f in model_fields.items()
            if f.default_factory is not None  # one taking the validated data fails and is skipped
        }
    if dataclasses.is_dataclass(context_type):
        return {
            f.name: f.default_factory
            for f in dataclasses.fields(context_type)
            if f.default_factory is not dataclasses.MISSING
        }
    return {}


def _stable_default(factory: Callable[..., Any]) -> Any:
    from pydantic_core import to_jsonable_python

    try:
        first, second = (to_jsonable_python(factory()) for _ in range(2))
        same = json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    except Exception:  # a factory we cannot call or serialise: leave the default out
        return _MISSING
    return first if same else _MISSING
