"""The assistant document: YAML text in and out, the pydantic model, positions for errors.

Reading is two-speed. :func:`parse_document` uses ruamel's C-backed safe loader (~0.3 ms a
document) and is what resolving and applying use. Only when something is wrong do we re-read
the text with the round-trip loader, whose nodes know their line and column, to point at it.
Editing (:func:`render_update`) goes through the round-trip loader so the user's comments,
key order and layout survive.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import math
import uuid
from typing import TYPE_CHECKING, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
)

from gitassist.errors import DocumentError, Location
from gitassist.problems import Problem, json_path

if TYPE_CHECKING:
    from ruamel.yaml import YAML

SCHEMA_COMMENT = "# yaml-language-server: $schema={schema}\n"
FIELD_ORDER = ("assistant_id", "graph_id", "name", "description", "context", "config", "metadata")


class RunConfig(BaseModel):
    """Run configuration stored with the assistant (``config`` in the LangGraph API)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Strict: ``recursion_limit: true`` is an error, not 1; ``tags: [1]`` is not ["1"].
    tags: list[StrictStr] = Field(default_factory=list, description="Tags added to every run.")
    recursion_limit: StrictInt | None = Field(
        default=None, ge=1, description="Maximum number of graph steps in one run."
    )


class AssistantDocument(BaseModel):
    """One assistant, as kept in ``assistants/<name>.yaml``."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="gitassist assistant",
        json_schema_extra={
            "description": "A LangGraph assistant managed by gitassist: a graph id plus "
            "the context values for the graph's ContextSchema."
        },
    )

    assistant_id: str = Field(
        description="UUID identifying the assistant; stable across renames and environments.",
        json_schema_extra={"format": "uuid"},
    )
    graph_id: str = Field(min_length=1, description="A graph id from langgraph.json.")
    name: str = Field(default="Untitled", min_length=1, description="Human-readable name.")
    description: str | None = Field(default=None, description="What this assistant is for.")
    context: dict[str, Any] = Field(
        default_factory=dict, description="Values for the graph's ContextSchema."
    )
    config: RunConfig = Field(default_factory=RunConfig, description="Run configuration.")
    metadata: dict[str, Any] = Field(default_factory=dict, description="Free-form metadata.")

    @field_validator("assistant_id")
    @classmethod
    def _uuid(cls, value: str) -> str:
        try:
            return str(uuid.UUID(value))
        except ValueError:
            raise ValueError(f"assistant_id must be a UUID, got {value!r}") from None

    def canonical(self) -> dict[str, Any]:
        """The content that defines a version: equal dicts mean the same version."""
        data = self.model_dump(mode="json")
        data["config"] = {k: v for k, v in data["config"].items() if v not in (None, [])}
        return data

    def content_key(self) -> str:
        return canonical_json(self.canonical())


def canonical_json(data: Any) -> str:
    """The one canonical JSON text (sorted keys, no spaces): equal data, equal text."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def document_json_schema() -> dict[str, Any]:
    schema = AssistantDocument.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://gitassist.dev/schemas/assistant.schema.json"
    return schema


# --------------------------------------------------------------------------- YAML loading


def _rt_yaml() -> YAML:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 100
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _yaml_error(exc: Exception, path: str, rev: str | None) -> DocumentError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    line = mark.line + 1 if mark is not None else None
    column = mark.column + 1 if mark is not None else None
    name = type(exc).__name__
    if name == "DuplicateKeyError":
        problem = "duplicate key: " + str(getattr(exc, "problem", "")).split(" with value")[0]
        problem = problem.replace("found duplicate key ", "")
    elif name == "Refused":  # yaml12's own refusals say what is wrong already
        pass
    elif name == "ConstructorError":
        problem = f"YAML tags are not allowed ({problem})"
    return DocumentError(f"invalid YAML: {problem}", location=Location(path, line, column, rev))


def _jsonable(value: Any, path: str, rev: str | None, where: tuple[str | int, ...]) -> Any:
    """Make YAML values JSON values: dates become ISO strings, others are refused."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise DocumentError(
                    f"keys must be strings, {json_path(where)} has key {key!r}",
                    location=Location(path, rev=rev),
                )
            out[key] = _jsonable(item, path, rev, (*where, key))
        return out
    if isinstance(value, list):
        return [_jsonable(item, path, rev, (*where, i)) for i, item in enumerate(value)]
    if isinstance(value, _dt.date | _dt.datetime):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        raise DocumentError(
            f"{json_path(where)}: {value} is not a JSON number", location=Location(path, rev=rev)
        )
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise DocumentError(
        f"{json_path(where)}: a {type(value).__name__} is not a JSON value",
        location=Location(path, rev=rev),
    )


def load_yaml_data(text: str, path: str, rev: str | None = None) -> Any:
    """Parse YAML into plain JSON-compatible data with the fast safe loader."""
    from yaml import MarkedYAMLError, YAMLError
    from yaml.reader import ReaderError

    from gitassist import yaml12

    try:
        data, plain = yaml12.load_json(text)  # plain: JSON data already (the quick pass)
    except MarkedYAMLError as exc:
        raise _yaml_error(exc, path, rev) from None
    except ReaderError as exc:  # a control character; the C reader gives only its position
        from gitassist.limits import line_column

        index = min(max(exc.position, 0), max(len(text) - 1, 0))
        line, column = line_column(text, index)
        char = f"U+{ord(text[index]):04X}" if text else "?"
        raise DocumentError(
            f"invalid YAML: character {char} is not allowed ({exc.reason})",
            location=Location(path, line, column, rev),
        ) from None
    except YAMLError as exc:
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DocumentError(f"invalid YAML: {problem}", location=Location(path, rev=rev)) from None
    return data if plain else _jsonable(data, path, rev, ())


def load_roundtrip(text: str) -> Any:
    """The round-trip parse (comments, layout and positions), within yaml12's limits."""
    from gitassist import yaml12

    yaml12.check(text)  # ruamel does not bound aliases or nesting: never hand it more
    return _rt_yaml().load(text)


class Locator:
    """Line and column of YAML nodes in one text; the round-trip parse happens once, lazily."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._root: Any = None
        self._parsed = False

    def at(
        self, parts: tuple[str | int, ...], *, value: bool = False
    ) -> tuple[int | None, int | None]:
        """1-based line and column of the key at ``parts`` (``value``: of its value), or of
        its nearest ancestor."""
        if not self._parsed:
            self._parsed = True
            try:
                self._root = load_roundtrip(self.text)
            except Exception:
                self._root = None
        if self._root is None:
            return None, None
        return _walk_position(self._root, parts, value)


def _walk_position(
    node: Any, parts: tuple[str | int, ...], value: bool
) -> tuple[int | None, int | None]:
    line: int | None = 1
    column: int | None = 1
    for i, part in enumerate(parts):
        lc = getattr(node, "lc", None)
        try:
            if lc is not None:
                if isinstance(part, int):
                    row, col = lc.item(part)
                else:
                    last = value and i == len(parts) - 1
                    row, col = lc.value(part) if last else lc.key(part)
                line, column = row + 1, col + 1
            node = node[part]
        except (KeyError, IndexError, TypeError, AttributeError):
            break
    return line, column


# --------------------------------------------------------------------------- documents


def _problems_from_validation(
    exc: ValidationError, text: str, path: str, rev: str | None
) -> list[Problem]:
    problems = []
    locator = Locator(text)
    for err in exc.errors():
        parts = tuple(p for p in err["loc"] if isinstance(p, str | int))
        kind = err["type"]
        if kind == "extra_forbidden":
            message = f"unknown field {json_path(parts)}"
            if len(parts) == 1:
                message += f" (allowed: {', '.join(FIELD_ORDER)})"
        elif kind == "missing":
            message = f"missing required field {json_path(parts)}"
        else:
            message = f"{json_path(parts)}: {err['msg'].removeprefix('Value error, ')}"
        line, column = locator.at(parts)
        problems.append(
            Problem(path, message, json_path(parts), line, column, rev, code="invalid_document")
        )
    return problems


def check_document(
    text: str, path: str, rev: str | None = None
) -> tuple[AssistantDocument | None, list[Problem]]:
    """Parse and check one document, returning every problem instead of raising."""
    try:
        data = load_yaml_data(text, path, rev)
    except DocumentError as exc:
        loc = exc.location or Location(path, rev=rev)
        return None, [Problem(path, exc.message, "$", loc.line, loc.column, rev, "invalid_yaml")]
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        problem = Problem(
            path,
            f"an assistant document must be a mapping, this one is {kind}",
            "$",
            1,
            1,
            rev,
            "invalid_document",
        )
        return None, [problem]
    try:
        return AssistantDocument.model_validate(data), []
    except ValidationError as exc:
        return None, _problems_from_validation(exc, text, path, rev)


def parse_document(text: str, path: str, rev: str | None = None) -> AssistantDocument:
    """Parse one document or raise :class:`DocumentError` naming the first problem's place."""
    document, problems = check_document(text, path, rev)
    if document is None:
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise DocumentError(
            first.message + more,
            location=Location(path, first.line, first.column, rev),
            hint="run `gitassist validate` to see every problem",
        )
    return document


# --------------------------------------------------------------------------- writing


def _ordered(data: dict[str, Any]) -> dict[str, Any]:
    return {k: data[k] for k in FIELD_ORDER if k in data}


def _to_commented(value: Any) -> Any:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import LiteralScalarString

    if isinstance(value, dict):
        out = CommentedMap()
        for key, item in value.items():
            out[key] = _to_commented(item)
        return out
    if isinstance(value, list):
        return CommentedSeq([_to_commented(v) for v in value])
    if isinstance(value, str) and "\n" in value:
        return LiteralScalarString(value)
    return value


def _dump(data: Any) -> str:
    stream = io.StringIO()
    _rt_yaml().dump(data, stream)
    return stream.getvalue()


def document_fields(document: AssistantDocument) -> dict[str, Any]:
    """The fields worth writing: defaults are left out to keep files short."""
    data = document.canonical()
    if data.get("description") is None:
        data.pop("description", None)
    for key in ("context", "config", "metadata"):
        if not data.get(key) and key != "context":
            data.pop(key, None)
    return _ordered(data)


def render_new(document: AssistantDocument, schema_ref: str | None = None) -> str:
    header = SCHEMA_COMMENT.format(schema=schema_ref) if schema_ref else ""
    return header + _dump(_to_commented(document_fields(document)))


def _merge_into(target: Any, new: dict[str, Any]) -> None:
    """Make mapping ``target`` equal ``new`` while keeping comments on keys that survive."""
    for key in [k for k in target if k not in new]:
        del target[key]
    for key, value in new.items():
        if key in target and isinstance(value, dict) and hasattr(target[key], "items"):
            _merge_into(target[key], value)
        elif key not in target or _plain(target[key]) != value:
            target[key] = _to_commented(value)


def _plain(value: Any) -> Any:
    if hasattr(value, "items"):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def render_update(text: str, document: AssistantDocument) -> str:
    """Rewrite ``text`` to hold ``document``, changing only what differs.

    Text the strict loader refuses (see :mod:`gitassist.yaml12`) is not edited but replaced:
    the new text is fully determined by ``document``.
    """
    from yaml import YAMLError

    try:
        data = load_roundtrip(text)
    except YAMLError:
        return render_new(document)
    fields = document_fields(document)
    if not hasattr(data, "items"):
        return render_new(document)
    _merge_into(data, fields)
    return _dump(data)
