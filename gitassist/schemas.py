"""Committed context schemas: the one module that knows where they live and how to read them.

A graph's context schema is the JSON file ``<schemas_dir>/<graph_id>.context.json`` that
``gitassist schemas export`` wrote from the graph's code and the user committed. Everything
that checks context values (validate, diff, apply, update, run) reads it from here, at a
revision (a git tree) or from the working tree, never from graph code, so checking a pull
request from a fork runs none of its code. Parsed schemas and compiled validators are cached by
the file's git blob id, so a schema shared by many commits is parsed and compiled once.

A malformed schema is a problem on that file (:func:`read_schemas`, for validate and diff, which
report every problem) or a :class:`~gitassist.errors.ConfigError` naming it
(:func:`load_schemas`, for the commands that need the schemas to go on).

Writing them from graph code is :mod:`gitassist.schema_export`, the only path that loads
graph code; nothing here imports it, so readers of schemas never reach graph code.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gitassist.errors import ConfigError, Location
from gitassist.limits import load_json
from gitassist.problems import Problem

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pygit2 import Tree

    from gitassist.project import Project
    from gitassist.store import Store

SUFFIX = ".context.json"
DOCUMENT_SCHEMA = "assistant.schema.json"
# yaml-language-server's modeline (modelineUtil.ts): a header comment naming $schema.
_MODELINE = re.compile(r"^#\s+(?:yaml-language-server\s*:|\$schema:)")
_SCHEMA_VALUE = re.compile(r"\$schema(?:=|:[^\S\r\n]*)(\S+)")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_HEADER_LINES = 50
_CACHE_SIZE = 256
# Parsed schema (or the reason it is not one) and compiled validator, by blob id.
_PARSED: dict[str, dict[str, Any] | ValueError] = {}
_VALIDATORS: dict[str, Any] = {}

# --------------------------------------------------------------------------- where


def schema_path(project: Project, graph_id: str) -> str:
    """The repository-relative path of ``graph_id``'s committed context schema."""
    return f"{project.settings.schemas_dir}/{graph_id}{SUFFIX}"


def document_schema_path(project: Project) -> str:
    """The committed JSON Schema of assistant documents (for editors): the generic format, or
    where langgraph.json names graphs, that format bound to them (:func:`document_schema`)."""
    return f"{project.settings.schemas_dir}/{DOCUMENT_SCHEMA}"


def context_schema_ref(graph_id: str) -> str:
    """The ``$ref`` from the document schema to ``graph_id``'s context schema: a URI reference
    relative to the document schema, which lives in the same directory."""
    from urllib.parse import quote

    return quote(f"{graph_id}{SUFFIX}")


def schema_line_target(document_path: str, text: str) -> tuple[str, int, int] | None:
    """Where the document's ``# yaml-language-server: $schema=`` line points, as
    yaml-language-server reads it (a comment before the content), resolved against the
    document's directory: (repository-relative path, 1-based line, column of the value).

    None when there is no such line or it names a URL. An absolute path is returned as
    written, and one leaving the repository starts with ``../``: neither names a file of it.
    """
    import posixpath

    for number, line in enumerate(text.split("\n", _HEADER_LINES)[:_HEADER_LINES], start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("#"):
            return None  # the content began: the line would not count
        if not _MODELINE.match(stripped):
            continue
        found = _SCHEMA_VALUE.search(line)
        if found is None:
            return None
        value = found.group(1)
        if _URL.match(value):
            return None
        column = found.start(1) + 1
        if value.startswith("/"):
            return value, number, column
        base = posixpath.dirname(document_path)
        target = posixpath.normpath(posixpath.join(base, value))
        return target, number, column
    return None


def document_schema_ref(project: Project, document: str | None = None) -> str:
    """The ``$schema`` reference a new document carries: the schema's path relative to the
    document's own folder (``document``: its repository path; default one directly in the
    assistants directory)."""
    import posixpath

    document = document or f"{project.settings.assistants_dir}/x.yaml"
    return posixpath.relpath(document_schema_path(project), posixpath.dirname(document))


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class SchemaFile:
    """One committed schema file: its path, git blob id and text."""

    path: str
    blob: str
    text: str


def read_file(store: Store, tree: Tree | None, path: str) -> SchemaFile | None:
    """``path`` from ``tree`` (None: the working tree), with its blob id; None when absent."""
    import pygit2

    if tree is not None:
        try:
            entry = tree[path]
        except KeyError:
            return None
        blob = store.repo.get(entry.id)
        if not isinstance(blob, pygit2.Blob):
            return None
        return SchemaFile(path, str(entry.id), blob.data.decode("utf-8", errors="replace"))
    data = store.read_work_file(path)  # a symlink on the path is refused, never followed
    if data is None:
        return None
    return SchemaFile(path, str(pygit2.hash(data)), data.decode("utf-8", errors="replace"))


def schema_text(store: Store, project: Project, tree: Tree | None, graph_id: str) -> str | None:
    """The text of ``graph_id``'s schema in ``tree`` (None: the working tree), if committed."""
    found = read_file(store, tree, schema_path(project, graph_id))
    return found.text if found is not None else None


def changed_graphs(
    store: Store, old: tuple[Project, Tree | None], new: tuple[Project, Tree]
) -> list[str]:
    """Graphs of the new project whose committed schema differs between two trees."""
    (old_project, old_tree), (new_project, new_tree) = old, new
    out = []
    for graph_id in new_project.graphs:
        before = None
        if old_tree is not None:
            before = _blob_id(old_tree, schema_path(old_project, graph_id))
        if before != _blob_id(new_tree, schema_path(new_project, graph_id)):
            out.append(graph_id)
    return out


def _blob_id(tree: Tree, path: str) -> str | None:
    """The id of the blob at ``path`` in ``tree`` (compared, not read), or None."""
    import pygit2

    try:
        entry = tree[path]
    except KeyError:
        return None
    return str(entry.id) if entry.type == pygit2.enums.ObjectType.BLOB else None


def _compile(schema: dict[str, Any], path: str) -> Any:
    """A validator for ``schema`` (ValueError when it is not a valid JSON Schema, or uses a
    pattern RE2 cannot run or a ``$ref`` outside itself). The one place validators are built."""
    from jsonschema.exceptions import SchemaError
    from jsonschema.validators import validator_for

    from gitassist.schema_engine import make_validator

    try:
        validator_for(schema).check_schema(schema)
    except SchemaError as exc:
        raise ValueError(exc.message) from None
    try:
        return make_validator(schema, path=path)
    except ConfigError as exc:
        raise ValueError(exc.message) from None


def _remember(cache: dict[str, Any], key: str, value: Any) -> Any:
    if len(cache) >= _CACHE_SIZE:
        cache.pop(next(iter(cache)))
    cache[key] = value
    return value


def _parse(found: SchemaFile) -> dict[str, Any]:
    """The schema in ``found`` (cached by blob), or the ValueError saying why it is not one."""
    cached = _PARSED.get(found.blob)
    if cached is None:
        try:
            data = load_json(found.text)  # bounded: size, depth, finite numbers
            if not isinstance(data, dict):
                raise ValueError(f"{found.path} is not a JSON object")
            _remember(_VALIDATORS, found.blob, _compile(data, found.path))
            cached = data
        except ValueError as exc:  # JSONDecodeError is a ValueError
            cached = exc
        _remember(_PARSED, found.blob, cached)
    if isinstance(cached, ValueError):
        raise cached
    return cached


@dataclass
class SchemaSet:
    """Context schemas by graph id, with their validators (compiled once per blob)."""

    schemas: dict[str, dict[str, Any]] = field(default_factory=dict)
    blobs: dict[str, str] = field(default_factory=dict)
    _validators: dict[str, Any] = field(default_factory=dict)

    def validator(self, graph_id: str) -> Any | None:
        if graph_id not in self.schemas:
            return None
        if graph_id not in self._validators:
            blob = self.blobs.get(graph_id)
            known = _VALIDATORS.get(blob) if blob is not None else None
            self._validators[graph_id] = known or _compile(
                self.schemas[graph_id], f"the context schema of graph {graph_id}"
            )
        return self._validators[graph_id]


def _parsed_at(tree: Tree | None, path: str) -> tuple[dict[str, Any], str] | None:
    """The schema parsed from the blob at ``path`` in ``tree``, when one was (by blob id)."""
    if tree is None:
        return None
    try:
        blob = str(tree[path].id)
    except KeyError:
        return None
    cached = _PARSED.get(blob)
    return (cached, blob) if isinstance(cached, dict) else None


def _read_all(
    store: Store, project: Project, tree: Tree | None
) -> tuple[SchemaSet, list[tuple[SchemaFile, ValueError]]]:
    schemas: dict[str, dict[str, Any]] = {}
    blobs: dict[str, str] = {}
    bad: list[tuple[SchemaFile, ValueError]] = []
    for graph_id in project.graphs:
        path = schema_path(project, graph_id)
        known = _parsed_at(tree, path)
        if known is not None:  # this blob's schema is parsed already: no need to read it
            schemas[graph_id], blobs[graph_id] = known
            continue
        found = read_file(store, tree, path)
        if found is None:
            continue
        try:
            schemas[graph_id] = _parse(found)
            blobs[graph_id] = found.blob
        except ValueError as exc:
            bad.append((found, exc))
    return SchemaSet(schemas, blobs), bad


def read_schemas(
    store: Store, project: Project, tree: Tree | None, *, rev: str | None = None
) -> tuple[SchemaSet, list[Problem]]:
    """The committed context schemas (from ``tree``, else the working tree) and a problem on
    each file that is not JSON, or not a valid JSON Schema (that graph then has no schema)."""
    schemas, bad = _read_all(store, project, tree)
    problems = []
    for found, exc in bad:
        line, col = getattr(exc, "lineno", None), getattr(exc, "colno", None)
        message = f"invalid context schema: {exc}"
        problems.append(Problem(found.path, message, "$", line, col, rev, "invalid_schema"))
    return schemas, problems


def load_schemas(
    store: Store, project: Project, tree: Tree | None, *, rev: str | None = None
) -> SchemaSet:
    """The committed context schemas; a malformed one is a ConfigError naming its file."""
    schemas, bad = _read_all(store, project, tree)
    if bad:
        found, exc = bad[0]
        line, col = getattr(exc, "lineno", None), getattr(exc, "colno", None)
        raise ConfigError(
            f"invalid context schema: {getattr(exc, 'msg', exc)}",
            hint="fix the file, or regenerate it with `gitassist schemas export` and commit it",
            location=Location(found.path, line, col, rev),
        )
    return schemas


# --------------------------------------------------------------------------- the document schema


def document_schema_text(
    project: Project | None = None,
    contexts: Mapping[str, Mapping[str, Any] | None] | None = None,
) -> str:
    """The committed text of the document schema (:func:`document_schema`), byte for byte."""
    return json.dumps(document_schema(project, contexts), indent=2, sort_keys=True) + "\n"


def document_schema(
    project: Project | None = None,
    contexts: Mapping[str, Mapping[str, Any] | None] | None = None,
) -> dict[str, Any]:
    """The JSON Schema of assistant documents, for editors.

    Without graphs (no project, or a langgraph.json naming none) it is the generic format,
    from the model. With graphs it is bound to them: ``graph_id`` is one of their ids, and for
    each graph with a context schema (``contexts``: graph id → its schema, as exported) an
    ``if graph_id is X then context is $ref X.context.json`` rule. Where
    ``unknown_context_keys`` is "error" and the graph's schema is an object with properties
    that says nothing about other keys, the rule also closes ``context`` to those keys
    (``additionalProperties: false`` beside the ``$ref``, in an ``allOf`` so draft-07 tools
    read it too), so an editor flags a misspelt key as validate does. It has no ``$id``: the
    ``$ref``s resolve against the file's own location.
    """
    from gitassist.documents import document_json_schema

    schema = document_json_schema()
    if project is None or not project.graphs:
        return schema
    del schema["$id"]
    schema["description"] += (
        " Bound to the graphs of this repository's langgraph.json by `gitassist schemas export`."
    )
    graph_ids = sorted(project.graphs)
    schema["properties"]["graph_id"]["enum"] = graph_ids
    closed = project.settings.unknown_context_keys == "error"
    rules = []
    for graph_id in graph_ids:
        context = (contexts or {}).get(graph_id)
        if context is None:
            continue  # no context schema: its context is not checked, by validate either
        bound: dict[str, Any] = {"$ref": context_schema_ref(graph_id)}
        properties = context.get("properties")
        if closed and isinstance(properties, dict) and "additionalProperties" not in context:
            known = dict.fromkeys(sorted(properties), True)
            bound = {"allOf": [bound, {"properties": known, "additionalProperties": False}]}
        rules.append(
            {
                "if": {"properties": {"graph_id": {"const": graph_id}}, "required": ["graph_id"]},
                "then": {"properties": {"context": bound}},
            }
        )
    if rules:
        schema["allOf"] = rules
    return schema
