"""Validate assistant documents: format, graph ids, unique ids, context against schemas.

Context schemas are the JSON files ``gitassist schemas export`` committed (never graph code),
so validating a pull request from a fork runs none of its code. Every problem is reported,
each pointing at the YAML node (file, line, column, JSON path, revision).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gitassist.documents import check_document, position
from gitassist.problems import Problem, json_path

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError as SchemaError

    from gitassist.documents import AssistantDocument
    from gitassist.project import Project

SECRET_KEY = re.compile(r"(api[_-]?key|secret|token|password|passwd|private[_-]?key|credential)", re.I)
SECRET_VALUE = re.compile(
    r"(sk-[A-Za-z0-9_\-]{16,}|sk-ant-[A-Za-z0-9_\-]{16,}|gh[pousr]_[A-Za-z0-9]{30,}|"
    r"xox[abposr]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_\-]{35}|"
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----|lsv2_[a-z]{2}_[A-Za-z0-9_]{20,})"
)
REDACTED = "«redacted»"


def schema_path(project: Project, graph_id: str) -> str:
    return f"{project.settings.schemas_dir}/{graph_id}.context.json"


@dataclass
class SchemaSet:
    """Context schemas by graph id, with compiled validators cached per schema text."""

    schemas: dict[str, dict[str, Any]] = field(default_factory=dict)
    _validators: dict[str, Any] = field(default_factory=dict)

    def validator(self, graph_id: str) -> Any | None:
        if graph_id not in self.schemas:
            return None
        if graph_id not in self._validators:
            from jsonschema.validators import validator_for

            schema = self.schemas[graph_id]
            cls = validator_for(schema)
            self._validators[graph_id] = cls(schema, format_checker=cls.FORMAT_CHECKER)
        return self._validators[graph_id]


def load_schema_text(text: str, path: str) -> dict[str, Any]:
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a JSON object")
    return data


def _describe(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


def _message(err: SchemaError) -> str:
    validator = err.validator
    if validator == "type":
        expected = err.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return f"expected {expected}, got {_describe(err.instance)}"
    if validator == "enum":
        allowed = ", ".join(_describe(v) for v in err.validator_value)
        return f"{_describe(err.instance)} is not allowed; allowed values: {allowed}"
    if validator == "const":
        return f"must be {_describe(err.validator_value)}"
    if validator == "required":
        missing = [k for k in err.validator_value if k not in (err.instance or {})]
        return f"missing required key `{missing[0] if missing else '?'}`"
    if validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return f"{_describe(err.instance)} is out of range ({validator} {err.validator_value})"
    return str(err.message)


def _unknown_keys(
    value: Any, schema: dict[str, Any], root: dict[str, Any], parts: tuple[str | int, ...]
) -> Iterable[tuple[tuple[str | int, ...], str, list[str]]]:
    schema = _deref(schema, root)
    if not isinstance(value, dict):
        return
    props = schema.get("properties")
    if not isinstance(props, dict) or schema.get("additionalProperties") not in (None, False):
        return
    for key, item in value.items():
        if key not in props:
            yield (*parts, key), key, sorted(props)
        else:
            yield from _unknown_keys(item, props[key], root, (*parts, key))


def _deref(schema: Any, root: dict[str, Any]) -> dict[str, Any]:
    for _ in range(10):
        if not isinstance(schema, dict):
            return {}
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            node: Any = root
            for part in ref[2:].split("/"):
                node = node.get(part, {}) if isinstance(node, dict) else {}
            schema = node
            continue
        any_of = schema.get("anyOf") or schema.get("allOf")
        if isinstance(any_of, list):
            objects = [s for s in any_of if isinstance(s, dict) and s.get("type") != "null"]
            if len(objects) == 1:
                schema = objects[0]
                continue
        return schema
    return {}


def context_problems(
    document: AssistantDocument,
    text: str,
    path: str,
    schemas: SchemaSet,
    *,
    rev: str | None = None,
    unknown_keys: str = "error",
) -> list[Problem]:
    """Check ``document.context`` against its graph's schema; every problem, with positions."""
    validator = schemas.validator(document.graph_id)
    problems: list[Problem] = []
    if validator is not None:
        for err in sorted(validator.iter_errors(document.context), key=lambda e: list(e.path)):
            parts: tuple[str | int, ...] = ("context", *err.absolute_path)
            if err.validator == "required":
                missing = [k for k in err.validator_value if k not in (err.instance or {})]
                for key in missing:
                    line, col = position(text, parts)
                    problems.append(Problem(path, f"missing required key `{key}`",
                                            json_path((*parts, key)), line, col, rev, "required"))
                continue
            if err.validator == "additionalProperties":
                continue  # reported below with a suggestion
            line, col = position(text, parts)
            problems.append(Problem(path, _message(err), json_path(parts), line, col, rev,
                                    f"schema.{err.validator}"))
        if unknown_keys == "error":
            root = schemas.schemas[document.graph_id]
            for parts, key, known in _unknown_keys(document.context, root, root, ("context",)):
                close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
                hint = f"; did you mean `{close[0]}`?" if close else f" (known: {', '.join(known)})"
                line, col = position(text, parts)
                problems.append(Problem(path, f"unknown context key `{key}`{hint}",
                                        json_path(parts), line, col, rev, "unknown_key"))
    problems.extend(secret_problems(document, text, path, rev))
    return problems


def looks_secret(key: str, value: Any) -> bool:
    if not isinstance(value, str) or not value:
        return False
    if SECRET_VALUE.search(value):
        return True
    return bool(SECRET_KEY.search(key)) and len(value) >= 8 and " " not in value.strip()


def _walk(value: Any, parts: tuple[str | int, ...]) -> Iterable[tuple[tuple[str | int, ...], Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, (*parts, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(item, (*parts, i))
    else:
        yield parts, value


def secret_problems(
    document: AssistantDocument, text: str, path: str, rev: str | None
) -> list[Problem]:
    problems = []
    for section in ("context", "metadata"):
        for parts, value in _walk(getattr(document, section), (section,)):
            key = str(parts[-1]) if parts else ""
            if looks_secret(key, value):
                line, col = position(text, parts)
                problems.append(Problem(
                    path,
                    f"{json_path(parts)} looks like a secret; keep secrets in the environment, "
                    "not in the repository (see docs/secrets.md)",
                    json_path(parts), line, col, rev, "secret", "warning",
                ))
    return problems


def redact(value: Any, key: str = "") -> Any:
    """A copy of ``value`` with secret-looking strings replaced."""
    if isinstance(value, dict):
        return {k: redact(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, key) for v in value]
    return REDACTED if looks_secret(key, value) else value


def document_problems(
    text: str,
    path: str,
    project: Project,
    schemas: SchemaSet,
    *,
    rev: str | None = None,
) -> tuple[AssistantDocument | None, list[Problem]]:
    """Every problem of one document: format, graph id, context."""
    document, problems = check_document(text, path, rev)
    if document is None:
        return None, problems
    if project.graphs and not project.has_graph(document.graph_id):
        line, col = position(text, ("graph_id",))
        close = difflib.get_close_matches(document.graph_id, list(project.graphs), n=1)
        hint = f"; did you mean `{close[0]}`?" if close else (
            f" (langgraph.json has: {', '.join(sorted(project.graphs))})")
        problems.append(Problem(path, f"unknown graph_id `{document.graph_id}`{hint}",
                                "$.graph_id", line, col, rev, "unknown_graph"))
    problems.extend(context_problems(document, text, path, schemas, rev=rev,
                                     unknown_keys=project.settings.unknown_context_keys))
    return document, problems
