"""Check one assistant document: graph id, context against its schema, secrets.

Context schemas are the JSON files ``gitassist schemas export`` committed (never graph code),
so checking a document from a fork runs none of its code. Every problem points at the YAML
node (file, line, column, JSON path, revision); the slow round-trip parse that knows line and
column runs only for a document that has a problem (once per document, see :class:`Locator`).
The repository-wide run (listing, cache, ids across files) is :mod:`gitassist.validation`.
"""

from __future__ import annotations

import difflib
import functools
import json
from typing import TYPE_CHECKING, Any

from gitassist.documents import Locator, check_document
from gitassist.problems import Problem, json_path
from gitassist.redact import (
    has_key_hint,
    is_secret_key,
    looks_secret,
    may_hold_token,
    redact,
    redact_text,
)
from gitassist.schema_engine import quick_check

if TYPE_CHECKING:
    from collections.abc import Iterable

    from jsonschema.exceptions import ValidationError as SchemaError
    from pygit2 import Commit

    from gitassist.documents import AssistantDocument
    from gitassist.project import Project
    from gitassist.schemas import SchemaSet
    from gitassist.store import Entry, Store

SECRETS_DOC = "docs/review.md#secrets"

Parts = tuple[str | int, ...]


# --------------------------------------------------------------------------- positions


def problem_at(
    loc: Locator,
    path: str,
    parts: Parts,
    message: str,
    rev: str | None,
    code: str,
    severity: str = "error",
    *,
    value: bool = False,
) -> Problem:
    line, col = loc.at(parts, value=value)
    return Problem(
        path,
        message,
        json_path(parts),
        line,
        col,
        rev,
        code,
        "warning" if severity == "warning" else "error",
    )


# --------------------------------------------------------------------------- messages


def _describe(value: Any, key: str = "") -> str:
    text = json.dumps(redact(value, key), ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


def _message(err: SchemaError) -> str:
    validator = err.validator
    key = next((str(p) for p in reversed(err.absolute_path) if isinstance(p, str)), "")
    if validator == "type":
        expected = err.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return f"expected {expected}, got {_describe(err.instance, key)}"
    if validator == "enum":
        values: Any = err.validator_value
        allowed = ", ".join(_describe(v) for v in values)
        return f"{_describe(err.instance, key)} is not allowed; allowed values: {allowed}"
    if validator == "const":
        return f"must be {_describe(err.validator_value)}"
    if validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return f"{_describe(err.instance, key)} is out of range ({validator} {err.validator_value})"
    if validator in ("minLength", "maxLength", "minItems", "maxItems", "pattern", "format"):
        return f"{_describe(err.instance, key)} does not match {validator} {err.validator_value}"
    if looks_secret(key, err.instance) or looks_secret(key, json.dumps(err.instance, default=str)):
        return f"the value does not match the schema ({validator}); not shown: it is a secret"
    return redact_text(str(err.message))


# --------------------------------------------------------------------------- context


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


def _unknown_keys(
    value: Any, schema: Any, root: dict[str, Any], parts: Parts, strict: bool
) -> Iterable[tuple[Parts, str, list[str]]]:
    """Keys the schema does not declare: everywhere when ``strict``, else where it forbids."""
    schema = _deref(schema, root)
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            yield from _unknown_keys(item, schema["items"], root, (*parts, i), strict)
        return
    props = schema.get("properties")
    if not isinstance(value, dict) or not isinstance(props, dict):
        return
    extra = schema.get("additionalProperties")
    forbids = extra is False or (extra is None and strict)
    for key, item in value.items():
        if key in props:
            if isinstance(item, dict | list):  # a scalar has no keys of its own
                yield from _unknown_keys(item, props[key], root, (*parts, key), strict)
        elif forbids:
            yield (*parts, key), key, sorted(props)


def _unknown_key_message(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return f"unknown context key `{key}`; did you mean `{close[0]}`?"
    return f"unknown context key `{key}` (known: {', '.join(known) or 'none'})"


def context_problems(
    document: AssistantDocument,
    text: str,
    path: str,
    schemas: SchemaSet,
    *,
    rev: str | None = None,
    unknown_keys: str = "error",
    locator: Locator | None = None,
) -> list[Problem]:
    """Check ``document.context`` against its graph's schema, and flag secret-looking values."""
    loc = locator or Locator(text)
    problems = _schema_problems(document, loc, path, schemas, rev, unknown_keys == "error")
    problems.extend(secret_problems(document, text, path, rev, locator=loc))
    return problems


def _schema_problems(
    document: AssistantDocument,
    loc: Locator,
    path: str,
    schemas: SchemaSet,
    rev: str | None,
    strict: bool,
) -> list[Problem]:
    validator = schemas.validator(document.graph_id)
    if validator is None:
        return []
    problems: list[Problem] = []
    root = schemas.schemas[document.graph_id]
    quick = quick_check(root)  # a first pass in Rust; what it does not accept, jsonschema checks
    errors = (
        []
        if quick is not None and quick(document.context)
        else validator.iter_errors(document.context)
    )
    for err in sorted(errors, key=lambda e: list(e.path)):
        parts: Parts = ("context", *err.absolute_path)
        if err.validator == "required":
            line, col = loc.at(parts)
            for key in [k for k in err.validator_value if k not in (err.instance or {})]:
                problems.append(
                    Problem(
                        path,
                        f"missing required key `{key}`",
                        json_path((*parts, key)),
                        line,
                        col,
                        rev,
                        "required",
                    )
                )
        elif err.validator != "additionalProperties":  # reported below, with a suggestion
            problems.append(
                problem_at(
                    loc, path, parts, _message(err), rev, f"schema.{err.validator}", value=True
                )
            )
    for parts, key, known in _unknown_keys(document.context, root, root, ("context",), strict):
        problems.append(
            problem_at(loc, path, parts, _unknown_key_message(key, known), rev, "unknown_key")
        )
    return problems


# --------------------------------------------------------------------------- secrets


def _leaves(value: Any, parts: Parts) -> Iterable[tuple[Parts, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*parts, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _leaves(item, (*parts, i))
    else:
        yield parts, value


@functools.lru_cache(maxsize=4096)
def _secret_key(key: str) -> bool:
    """Whether a mapping key is itself a secret (keys repeat across documents)."""
    return looks_secret("", key)


def _no_secret_in(text: str) -> bool:
    """True when no key or value of the document parsed from ``text`` can look like a secret:
    without a backslash (an escape) every key and string value is in the text as written
    (line folding only turns breaks into spaces, and no hint holds a space or quote), so a
    text holding no token hint and no part of a password-like key word holds neither."""
    return "\\" not in text and not may_hold_token(text) and not has_key_hint(text)


def _may_be_secret(value: Any, key: str) -> bool:
    """True when a key or value in ``value`` could look like a secret (a superset of what
    :func:`looks_secret` flags: a string that holds a token rule's hint, or any string under
    a password-like key); False means none does."""
    if isinstance(value, dict):
        return any(
            (isinstance(k, str) and _secret_key(k))
            or _may_be_secret(v, k if isinstance(k, str) else key)
            for k, v in value.items()
        )
    if isinstance(value, list):
        return any(_may_be_secret(v, key) for v in value)
    return isinstance(value, str) and (may_hold_token(value) or is_secret_key(key))


def secret_problems(
    document: AssistantDocument,
    text: str,
    path: str,
    rev: str | None,
    *,
    locator: Locator | None = None,
) -> list[Problem]:
    if _no_secret_in(text) or not any(
        _may_be_secret(getattr(document, s), s) for s in ("context", "metadata")
    ):
        return []  # nothing can be flagged: the exact pass below would find nothing
    loc = locator or Locator(text)
    problems = []
    flagged: set[Parts] = set()
    for section in ("context", "metadata"):
        for parts, value in _leaves(getattr(document, section), (section,)):
            for i in range(2, len(parts) + 1):  # a mapping key that is itself a secret
                part = parts[i - 1]
                if parts[:i] not in flagged and isinstance(part, str) and _secret_key(part):
                    flagged.add(parts[:i])
                    message = (
                        "key looks like a secret (API key, token or private key); keep "
                        f"secrets in the environment, not in the repository ({SECRETS_DOC})"
                    )
                    problems.append(
                        problem_at(loc, path, parts[:i], message, rev, "secret", "warning")
                    )
            key = next((p for p in reversed(parts) if isinstance(p, str)), "")
            if looks_secret(key, value):
                message = (
                    "value looks like a secret (API key, token or private key); keep "
                    f"secrets in the environment, not in the repository ({SECRETS_DOC})"
                )
                problems.append(
                    problem_at(loc, path, parts, message, rev, "secret", "warning", value=True)
                )
    return problems


# --------------------------------------------------------------------------- one document


def assistant_problems(
    document: AssistantDocument,
    text: str,
    path: str,
    project: Project,
    schemas: SchemaSet,
    *,
    rev: str | None = None,
) -> list[Problem]:
    """Problems of a parsed document: its graph id, its context, secrets."""
    loc = Locator(text)
    problems: list[Problem] = []
    if project.graphs and not project.has_graph(document.graph_id):
        close = difflib.get_close_matches(document.graph_id, list(project.graphs), n=1)
        hint = (
            f"; did you mean `{close[0]}`?"
            if close
            else (f" (langgraph.json has: {', '.join(sorted(project.graphs))})")
        )
        problems.append(
            problem_at(
                loc,
                path,
                ("graph_id",),
                f"unknown graph_id `{document.graph_id}`{hint}",
                rev,
                "unknown_graph",
                value=True,
            )
        )
    problems.extend(
        context_problems(
            document,
            text,
            path,
            schemas,
            rev=rev,
            locator=loc,
            unknown_keys=project.settings.unknown_context_keys,
        )
    )
    return problems


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
    return document, problems + assistant_problems(document, text, path, project, schemas, rev=rev)


def entry_problems(store: Store, commit: Commit, entries: list[Entry]) -> list[Problem]:
    """Problems of the given files of ``commit``, under that commit's own configuration and
    committed schemas (what apply and a write check). A malformed schema is a ConfigError."""
    from gitassist.schemas import load_schemas

    project = store.project_at(commit)
    schemas = load_schemas(store, project, commit.tree)
    problems: list[Problem] = []
    for entry in entries:
        text = store.document_text(entry.blob)  # undecodable bytes are refused, not U+FFFD
        problems.extend(document_problems(text, entry.path, project, schemas)[1])
    return problems
