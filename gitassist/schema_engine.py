"""Validators for committed JSON Schemas that a fork may have written.

jsonschema evaluates ``pattern`` and ``patternProperties`` with Python's backtracking ``re``:
``{"pattern": "^(a+)+$"}`` against 26 ``a`` and a ``!`` takes seconds and doubles with each
character. :func:`make_validator` returns jsonschema's validator class for the schema,
extended so that every regular expression runs in RE2, which matches in linear time; a
pattern RE2 cannot compile (lookaround, backreferences) is refused up front, naming the file
and the JSON path. ``$ref`` must stay inside the schema: a reference that would be retrieved
(``http://``, ``file://``, another file) or that loops back to itself without descending into
the instance is refused too, and the registry refuses every retrieval, so nothing is fetched.

:func:`quick_check` is a first pass in ``jsonschema_rs`` (Rust) for the schemas whose every
keyword means exactly the same there: an instance it accepts has no error in jsonschema
either; anything it rejects is checked by the validator above, so messages and positions
come from one place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gitassist.errors import ConfigError, Location
from gitassist.problems import json_path

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from jsonschema.protocols import Validator
    from referencing import Registry

_IN_PLACE_LISTS = ("allOf", "anyOf", "oneOf")
_IN_PLACE_ONE = ("not", "if", "then", "else")
_REFS = ("$ref", "$dynamicRef", "$recursiveRef")
_CHILD_ONE = (
    "additionalProperties",
    "additionalItems",
    "unevaluatedProperties",
    "unevaluatedItems",
    "items",
    "contains",
    "propertyNames",
)
_CHILD_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_CHILD_LISTS = ("prefixItems", "items")

Parts = tuple[str | int, ...]

# Keywords whose meaning jsonschema_rs shares with jsonschema exactly (Draft 2020-12). Not
# here, so a schema using them has no first pass: format (different checkers), pattern and
# patternProperties (RE2 here; another engine's ``\d``/``\w`` differ), multipleOf (floats),
# uniqueItems, $id/$anchor/$dynamicRef (resolution), if/then/else, contains, prefixItems,
# dependent*, propertyNames, unevaluated*.
_QUICK_KEYWORDS = frozenset(
    {
        "$schema", "$ref", "$defs", "definitions", "$comment",
        "title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly",
        "type", "enum", "const",
        "properties", "required", "additionalProperties", "minProperties", "maxProperties",
        "items", "minItems", "maxItems",
        "minLength", "maxLength",
        "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
        "anyOf", "allOf", "oneOf", "not",
    }
)  # fmt: skip
_QUICK_DRAFTS = (None, "https://json-schema.org/draft/2020-12/schema")
_QUICK: dict[int, tuple[Any, Any]] = {}


def make_validator(schema: dict[str, Any], *, path: str) -> Validator:
    """A validator for ``schema`` (read from ``path``) whose regexes run in RE2.

    Raises :class:`ConfigError` (exit 3) for a pattern RE2 cannot compile, a ``$ref`` that
    leaves the schema or cannot be resolved in it, and a ``$ref`` cycle that never descends.
    """
    from jsonschema import validators
    from referencing import Resource
    from referencing.exceptions import Unresolvable
    from referencing.jsonschema import DRAFT202012

    base = validators.validator_for(schema)
    compiled: dict[str, Any] = {}
    subschemas = list(_walk(schema))
    for parts, node in subschemas:
        for where, regex in _patterns(node, parts):
            compiled[regex] = _compile(regex, path, where)
    if compiled and any("unevaluatedProperties" in node for _, node in subschemas):
        raise _error(path, (), "unevaluatedProperties with patternProperties is not supported")

    resource = Resource.from_contents(schema, default_specification=DRAFT202012)
    own_id = resource.id() or ""
    registry: Registry[Any] = _registry().with_resource(own_id, resource)
    resolver = registry.resolver(base_uri=own_id)
    edges: dict[int, list[int]] = {}
    where_of: dict[int, Parts] = {}
    for parts, node in subschemas:
        where_of.setdefault(id(node), parts)
        targets = edges.setdefault(id(node), [])
        targets.extend(id(s) for s in _in_place(node))
        for keyword in _REFS:
            ref = node.get(keyword)
            if not isinstance(ref, str):
                continue
            if not (ref.startswith("#") or (own_id and ref.startswith(own_id))):
                raise _error(
                    path,
                    (*parts, keyword),
                    f"$ref {ref!r} points outside the schema; schemas must be self-contained "
                    "(nothing is fetched)",
                )
            try:
                target = resolver.lookup(ref).contents
            except Unresolvable:
                raise _error(path, (*parts, keyword), f"$ref {ref!r} cannot be resolved") from None
            targets.append(id(target))
    cycle = _cycle(edges)
    if cycle is not None:
        raise _error(path, where_of.get(cycle, ()), "$ref refers back to itself without descending")

    def pattern(validator: Any, patrn: Any, instance: Any, schema: Any) -> Iterator[Any]:
        from jsonschema.exceptions import ValidationError

        if validator.is_type(instance, "string") and not compiled[patrn].search(instance):
            yield ValidationError(f"{instance!r} does not match {patrn!r}")

    def pattern_properties(validator: Any, value: Any, instance: Any, schema: Any) -> Iterator[Any]:
        if not validator.is_type(instance, "object"):
            return
        for patrn, subschema in value.items():
            for key, item in instance.items():
                if compiled[patrn].search(key):
                    yield from validator.descend(item, subschema, path=key, schema_path=patrn)

    def additional_properties(
        validator: Any, value: Any, instance: Any, schema: Any
    ) -> Iterator[Any]:
        from jsonschema.exceptions import ValidationError

        if not validator.is_type(instance, "object"):
            return
        properties = schema.get("properties", {})
        patterns = [compiled[p] for p in schema.get("patternProperties", {})]
        extras = [
            key
            for key in instance
            if key not in properties and not any(p.search(key) for p in patterns)
        ]
        if validator.is_type(value, "object"):
            for extra in extras:
                yield from validator.descend(instance[extra], value, path=extra)
        elif not value and extras:
            shown = ", ".join(repr(each) for each in sorted(extras, key=str))
            verb = "was" if len(extras) == 1 else "were"
            yield ValidationError(
                f"Additional properties are not allowed ({shown} {verb} unexpected)"
            )

    cls = validators.extend(  # type: ignore[no-untyped-call]
        base,
        validators={
            "pattern": pattern,
            "patternProperties": pattern_properties,
            "additionalProperties": additional_properties,
        },
    )
    validator: Validator = cls(schema, registry=registry, format_checker=base.FORMAT_CHECKER)
    return validator


def quick_check(schema: dict[str, Any]) -> Callable[[Any], bool] | None:
    """``jsonschema_rs``'s ``is_valid`` for ``schema`` when every keyword in it is one whose
    meaning the two libraries share (:data:`_QUICK_KEYWORDS`), its ``$ref`` are local and it
    is Draft 2020-12 (the default); else None (no first pass). Its patterns, were any let
    through, would run in the linear-time ``regex`` engine (``RegexOptions``), as RE2 here."""
    found = _QUICK.get(id(schema))
    if found is not None and found[0] is schema:  # the schema is held, so its id is not reused
        return found[1]  # type: ignore[no-any-return]
    quick = _quick_for(schema)
    if len(_QUICK) >= 64:
        _QUICK.clear()
    _QUICK[id(schema)] = (schema, quick)
    return quick


def _quick_for(schema: dict[str, Any]) -> Callable[[Any], bool] | None:
    import jsonschema_rs

    if schema.get("$schema") not in _QUICK_DRAFTS or not _quick_keywords_only(schema):
        return None
    try:
        validator = jsonschema_rs.validator_for(
            schema, validate_formats=False, pattern_options=jsonschema_rs.RegexOptions()
        )
    except Exception:  # any schema it cannot take: jsonschema alone checks it
        return None
    check: Callable[[Any], bool] = validator.is_valid
    return check


def _quick_keywords_only(schema: Any) -> bool:
    """Whether every subschema of ``schema`` uses only :data:`_QUICK_KEYWORDS`, with local
    ``$ref`` and single-schema ``items``."""
    stack = [schema]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if isinstance(node, bool):
            continue
        if not isinstance(node, dict):
            return False
        if id(node) in seen:
            continue
        seen.add(id(node))
        if not _QUICK_KEYWORDS.issuperset(node):
            return False
        ref = node.get("$ref")
        if ref is not None and not (isinstance(ref, str) and ref.startswith("#/")):
            return False
        for keyword in ("properties", "$defs", "definitions"):
            children = node.get(keyword, {})
            if not isinstance(children, dict):
                return False
            stack.extend(children.values())
        for keyword in ("anyOf", "allOf", "oneOf"):
            items = node.get(keyword, [])
            if not isinstance(items, list):
                return False
            stack.extend(items)
        for keyword in ("items", "additionalProperties", "not"):
            if keyword in node:
                stack.append(node[keyword])
    return True


def _registry() -> Registry[Any]:
    from referencing import Registry
    from referencing.exceptions import NoSuchResource

    def refuse(uri: str) -> Any:
        raise NoSuchResource(ref=uri)  # type: ignore[call-arg]

    return Registry(retrieve=refuse)  # type: ignore[call-arg]


def _compile(pattern: str, path: str, parts: Parts) -> Any:
    import re2

    options = re2.Options()
    options.log_errors = False  # RE2 would log to stderr; the error below says it once
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
        raise _error(
            path,
            parts,
            f"pattern {pattern!r} not supported: {reason} (patterns run in RE2: no lookaround "
            "or backreferences)",
        ) from None


def _error(path: str, parts: Parts, message: str) -> ConfigError:
    return ConfigError(f"{json_path(parts)}: {message}", location=Location(path))


def _patterns(node: dict[str, Any], parts: Parts) -> Iterator[tuple[Parts, str]]:
    if isinstance(node.get("pattern"), str):
        yield (*parts, "pattern"), node["pattern"]
    props = node.get("patternProperties")
    if isinstance(props, dict):
        for key in props:
            yield (*parts, "patternProperties", key), key


def _in_place(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Subschemas applied to the same instance (the edges a non-descending loop follows)."""
    for keyword in _IN_PLACE_LISTS:
        items = node.get(keyword)
        if isinstance(items, list):
            yield from (s for s in items if isinstance(s, dict))
    for keyword in _IN_PLACE_ONE:
        if isinstance(node.get(keyword), dict):
            yield node[keyword]
    dependent = node.get("dependentSchemas")
    if isinstance(dependent, dict):
        yield from (s for s in dependent.values() if isinstance(s, dict))


def _walk(schema: dict[str, Any]) -> Iterator[tuple[Parts, dict[str, Any]]]:
    """Every subschema (a dict) with its JSON path, iteratively; each dict once."""
    seen: set[int] = set()
    stack: list[tuple[Parts, Any]] = [((), schema)]
    while stack:
        parts, node = stack.pop()
        if not isinstance(node, dict) or id(node) in seen:
            continue
        seen.add(id(node))
        yield parts, node
        for keyword in _IN_PLACE_ONE + _CHILD_ONE:
            if isinstance(node.get(keyword), dict):
                stack.append(((*parts, keyword), node[keyword]))
        for keyword in _IN_PLACE_LISTS + _CHILD_LISTS:
            items = node.get(keyword)
            if isinstance(items, list):
                stack.extend(((*parts, keyword, i), s) for i, s in enumerate(items))
        for keyword in (*_CHILD_MAPS, "dependencies"):
            children = node.get(keyword)
            if isinstance(children, dict):
                stack.extend(((*parts, keyword, k), s) for k, s in children.items())


def _cycle(edges: dict[int, list[int]]) -> int | None:
    """A node on a cycle of ``edges``, or None (iterative three-colour DFS)."""
    state: dict[int, int] = {}  # 1: on the path, 2: finished
    for start in edges:
        if start in state:
            continue
        stack = [(start, iter(edges.get(start, ())))]
        state[start] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return nxt
            elif nxt not in state:
                state[nxt] = 1
                stack.append((nxt, iter(edges.get(nxt, ()))))
    return None
