"""Context schemas from graph code: what ``gitassist schemas export`` and ``check`` do.

The only path from schemas to graph code: it loads each graph (runs user code, imports
langgraph) and writes its context schema where :mod:`gitassist.schemas` reads it, byte for
byte deterministic. The JSON Schema comes from ``graph.get_context_jsonschema()`` (pydantic
underneath), normalised where pydantic loses something (see :func:`_normalise`).
"""

from __future__ import annotations

import dataclasses
import json
import os
import typing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from gitassist.errors import ConfigError, UserCodeError
from gitassist.schemas import SUFFIX, SchemaSet, document_schema_path, document_schema_text

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from pathlib import Path

    from gitassist.store import Store

_MISSING = object()

ExportStatus = Literal["written", "unchanged", "no_context_schema", "changed"]


@dataclass(frozen=True)
class SchemaExport:
    """What :func:`export_schemas` did (or would do) for one graph."""

    graph_id: str
    path: Path
    status: ExportStatus
    diff: str = ""
    schema: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class ExportedFile:
    """One schema file and what export did, or check found."""

    name: str  # graph id, or "assistant" for the document schema
    path: str
    status: str  # written | unchanged | changed | no_context_schema | stale
    diff: str = ""


def schema_bytes(schema: Mapping[str, Any]) -> bytes:
    """Deterministic bytes for a schema file: sorted keys, 2-space indent, UTF-8, final newline."""
    text = json.dumps(schema, sort_keys=True, indent=2, ensure_ascii=False)
    return (text + "\n").encode("utf-8")


def export_all(store: Store, *, write: bool) -> list[ExportedFile]:
    """Export (or with ``write=False`` compare) every graph's context schema of the working
    tree's project, and the document schema bound to those graphs and schemas (the generic
    one where langgraph.json names no graph). Imports the graphs: only this runs graph code."""
    project = store.project
    out_dir = store.root / project.settings.schemas_dir
    files = []
    contexts: dict[str, Mapping[str, Any] | None] = {}
    for item in export_schemas(store.root, project.graphs, out_dir, write=write):
        rel = item.path.relative_to(store.root).as_posix()
        status: str = item.status
        if status == "no_context_schema" and item.path.is_file():
            status = "stale"  # a committed schema for a graph that no longer declares one
        files.append(ExportedFile(item.graph_id, rel, status, item.diff))
        contexts[item.graph_id] = item.schema
    text = document_schema_text(project, contexts)
    files.append(_document_schema(store.root, document_schema_path(project), write, text))
    return files


def _document_schema(root: Path, rel: str, write: bool, text: str) -> ExportedFile:
    path = root / rel
    new = text.encode("utf-8")
    old = _read_old(root, path)
    if old == new:
        return ExportedFile("assistant", rel, "unchanged")
    if not write:
        return ExportedFile("assistant", rel, "changed", _diff(old, new, rel, "gitassist"))
    _write_atomically(root, path, new)
    return ExportedFile("assistant", rel, "written")


def export_schemas(
    root: Path, graphs: Mapping[str, str], out_dir: Path, *, write: bool = True
) -> list[SchemaExport]:
    """Export each graph's context schema into ``out_dir``, named as ``schema_path`` names it.

    With ``write=False`` nothing is written: a file that is missing or differs from what the
    code produces is reported as "changed" with a unified diff (committed → code).
    """
    return [_export_one(root, gid, spec, out_dir, write) for gid, spec in graphs.items()]


def _export_one(root: Path, graph_id: str, spec: str, out_dir: Path, write: bool) -> SchemaExport:
    from gitassist.graphs import display_path, load_graph

    path = out_dir / f"{_safe_graph_id(graph_id)}{SUFFIX}"
    schema = graph_context_schema(load_graph(root, graph_id, spec))
    if schema is None:
        return SchemaExport(graph_id, path, "no_context_schema")
    new = schema_bytes(schema)
    old = _read_old(root, path)
    if old == new:
        return SchemaExport(graph_id, path, "unchanged", schema=schema)
    if not write:
        shown = display_path(path, root.resolve())
        diff = _diff(old, new, shown, "from code")
        return SchemaExport(graph_id, path, "changed", diff, schema=schema)
    _write_atomically(root, path, new)
    return SchemaExport(graph_id, path, "written", schema=schema)


def _safe_graph_id(graph_id: str) -> str:
    if not graph_id or graph_id.startswith(".") or any(c in graph_id for c in "/\\\x00"):
        raise ConfigError(f"graph id {graph_id!r} cannot be used as a file name")
    return graph_id


def _diff(old: bytes | None, new: bytes, shown: str, source: str) -> str:
    import difflib

    before = old.decode("utf-8", errors="replace") if old is not None else ""
    lines: Iterable[str] = difflib.unified_diff(
        before.splitlines(keepends=True),
        new.decode("utf-8").splitlines(keepends=True),
        fromfile=f"{shown} (committed)" if old is not None else f"{shown} (missing)",
        tofile=f"{shown} ({source})",
    )
    return "".join(lines)


def _inside(root: Path, path: Path) -> str | None:
    """``path`` relative to ``root`` (None: it is not under it, e.g. a test's own folder)."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return None


def _read_old(root: Path, path: Path) -> bytes | None:
    """The committed file's bytes; a symlink on its path is refused (exit 3), never read."""
    from gitassist.worktree import read_bytes

    rel = _inside(root, path)
    if rel is None:
        return path.read_bytes() if path.is_file() else None
    return read_bytes(root, rel)


def _write_atomically(root: Path, path: Path, data: bytes) -> None:
    from gitassist.worktree import prepare_write

    rel = _inside(root, path)
    if rel is not None:
        path = prepare_write(root, rel)  # never through a symlink out of the repository
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)  # a planted link there is removed, not written through
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


# --------------------------------------------------------------------------- from code


def graph_context_schema(graph: Any) -> dict[str, Any] | None:
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


_DECLARED_CACHE = 64
# (id of the loaded graph, graph id) -> (the graph, kept alive so the id stays its own; schemas)
_DECLARED: dict[tuple[int, str], tuple[Any, SchemaSet]] = {}


def declared_schemas(graph_id: str, graph: Any) -> SchemaSet:
    """The context schema the loaded ``graph`` declares, as a :class:`SchemaSet` for a run to
    validate against when none is committed; empty when it declares none, or one that cannot
    be written as JSON Schema (the run then goes unchecked, as it says). Built once per graph."""
    key = (id(graph), graph_id)
    hit = _DECLARED.get(key)
    if hit is not None and hit[0] is graph:
        return hit[1]
    try:
        schema = graph_context_schema(graph)
    except UserCodeError:
        schema = None
    found = SchemaSet({graph_id: schema} if schema is not None else {})
    try:
        found.validator(graph_id)  # compiled now: a schema gitassist cannot run is said here
    except ValueError as exc:
        raise ConfigError(
            f"the context schema graph {graph_id!r} declares cannot be checked: {exc}",
            hint="commit a context schema (`gitassist schemas export`) and edit it",
        ) from None
    if len(_DECLARED) >= _DECLARED_CACHE:
        _DECLARED.pop(next(iter(_DECLARED)))
    _DECLARED[key] = (graph, found)
    return found


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
