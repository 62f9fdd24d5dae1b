"""A fast, strict YAML 1.2 (core schema) loader for reading documents.

ruamel.yaml's safe loader parses in C but resolves and constructs in Python (~180 µs for an
assistant document); PyYAML's ``CSafeLoader`` does more in C (~55 µs). PyYAML speaks YAML 1.1
(``yes``/``no``/``on`` are booleans, ``010`` is octal), so this loader replaces its implicit
resolvers with the YAML 1.2 core schema that ruamel (used for editing) follows, and refuses
duplicate keys, which PyYAML would silently overwrite.

Before anything is constructed, :func:`_check` walks the composed node graph once and
enforces the limits in :mod:`gitassist.limits`: nesting depth and alias expansion are counted
per node (an alias is a shared node, so a "billion laughs" document is measured without being
expanded, and an alias to its own ancestor is found instead of recursing forever); tags other
than the core schema's, and keys that are not strings, are refused there with their mark.
Scalars are checked where they are constructed (64-bit integers, finite floats, real dates).
Every refusal is a :class:`Refused`, a marked YAML error, so callers report file:line:col.
"""

from __future__ import annotations

import math
import re
from typing import Any, ClassVar

import yaml
from yaml.constructor import ConstructorError
from yaml.error import Mark, MarkedYAMLError
from yaml.nodes import MappingNode, Node, ScalarNode

from gitassist import limits

_BASE: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class DuplicateKeyError(ConstructorError):
    """A mapping repeats a key."""


class Refused(MarkedYAMLError):
    """Parsed YAML that gitassist refuses: beyond a limit, a tag, a non-string key, ..."""

    def __init__(self, problem: str, mark: Mark | None) -> None:
        super().__init__(problem=problem, problem_mark=mark)


_CORE = "tag:yaml.org,2002:"
_ALLOWED_TAGS = frozenset(
    _CORE + name for name in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")
)  # the core schema, plus dates (read as ISO strings); every other tag is refused
_STR = _CORE + "str"
_KINDS = {
    _CORE + "int": "an integer",
    _CORE + "float": "a number",
    _CORE + "bool": "a boolean",
    _CORE + "null": "null",
    _CORE + "timestamp": "a date",
}


class Loader(_BASE):  # type: ignore[misc]
    """CSafeLoader with YAML 1.2 core-schema scalars and no duplicate keys."""

    yaml_implicit_resolvers: ClassVar[dict[str | None, list[tuple[str, re.Pattern[str]]]]] = {}

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        _check_keys(node)
        seen: dict[tuple[str, str], Any] = {}
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                key = (key_node.tag, key_node.value)
                if key in seen:
                    raise DuplicateKeyError(
                        "while constructing a mapping",
                        node.start_mark,
                        f'found duplicate key "{key_node.value}"',
                        key_node.start_mark,
                    )
                seen[key] = True
        return dict(super().construct_mapping(node, deep=deep))

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        _check(node)
        return self.construct_document(node)


def _tag_name(tag: str) -> str:
    return "!!" + tag.removeprefix(_CORE) if tag.startswith(_CORE) else tag


def _refuse_tag(loader: Loader, node: Node) -> Any:
    raise Refused(f"YAML tags are not allowed ({_tag_name(node.tag)})", node.start_mark)


def _check_keys(node: MappingNode) -> None:
    for key, _ in node.value:
        if not isinstance(key, ScalarNode):
            kind = "mapping" if isinstance(key, MappingNode) else "sequence"
            raise Refused(f"keys must be strings, this key is a {kind}", key.start_mark)
        if key.tag != _STR:
            if key.tag not in _ALLOWED_TAGS:
                _refuse_tag(None, key)  # type: ignore[arg-type]
            shown = key.value if len(key.value) <= 40 else key.value[:40] + "…"
            raise Refused(
                f"keys must be strings, {shown!r} is {_KINDS.get(key.tag, 'not a string')} "
                "(quote it to make it a string)",
                key.start_mark,
            )


class _Walk:
    """What :func:`_check` has seen: finished collections, the open path, alias expansion."""

    __slots__ = ("aliased", "done", "open")

    def __init__(self) -> None:
        self.done: dict[int, tuple[int, int]] = {}  # id -> (expanded size, height)
        self.open: set[int] = set()
        self.aliased = 0


def _check(root: Node) -> None:
    """Enforce nesting depth and alias expansion on the composed graph before constructing.

    An alias is a node shared with its anchor, so a collection met again is an alias: its
    whole expanded size counts against :data:`limits.MAX_ALIAS_NODES` without expanding it,
    and one met while still open is an alias to its own ancestor. The recursion is at most
    :data:`limits.MAX_DEPTH` deep, since depth is checked before descending.
    """
    if not isinstance(root, ScalarNode):
        _measure(root, 1, _Walk())


def _measure(node: Node, level: int, walk: _Walk) -> tuple[int, int]:
    if level > limits.MAX_DEPTH:
        raise Refused(_depth_message(), node.start_mark)
    key = id(node)
    walk.open.add(key)
    size, height = 1, 0
    if isinstance(node, MappingNode):
        children: list[Node] = [item for pair in node.value for item in pair]
    else:
        children = node.value
    for child in children:
        if isinstance(child, ScalarNode):
            size += 1
            continue
        seen = walk.done.get(id(child))
        if seen is None:
            if id(child) in walk.open:
                raise Refused("an alias refers to a collection that contains it", child.start_mark)
            seen = _measure(child, level + 1, walk)
        else:  # an alias: count what it expands to
            walk.aliased += seen[0]
            if walk.aliased > limits.MAX_ALIAS_NODES:
                raise Refused(
                    f"aliases expand to more than {limits.MAX_ALIAS_NODES:,} nodes "
                    f"(see {limits.LIMITS_DOC})",
                    node.start_mark,
                )
            if level + seen[1] > limits.MAX_DEPTH:
                raise Refused(_depth_message(), node.start_mark)
        size += seen[0]
        height = max(height, seen[1])
    walk.open.discard(key)
    walk.done[key] = result = (size, height + 1)
    return result


def _depth_message() -> str:
    return f"nested deeper than {limits.MAX_DEPTH} levels (see {limits.LIMITS_DOC})"


def _resolver(tag: str, pattern: str, first: str) -> None:
    Loader.add_implicit_resolver(tag, re.compile(pattern, re.X), list(first))


_resolver("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF")
_resolver("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", "~nN")
Loader.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^$"), [""])
_resolver("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789")
_resolver(
    "tag:yaml.org,2002:float",
    r"""^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$""",
    "-+0123456789.",
)
_resolver(
    "tag:yaml.org,2002:timestamp",
    r"""^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}
        |[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}
        (?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)$""",
    "0123456789",
)


def _int(loader: Loader, node: yaml.ScalarNode) -> int:
    value = str(loader.construct_scalar(node))
    problem = limits.int_message(value)
    if problem is not None:
        raise Refused(problem, node.start_mark)
    try:
        if value.startswith("0o"):
            number = int(value[2:], 8)
        elif value.startswith("0x"):
            number = int(value[2:], 16)
        else:
            number = int(value, 10)
    except ValueError:  # an explicit !!int on text that is not an integer
        raise Refused(f"{value!r} is not an integer", node.start_mark) from None
    if not limits.int_in_range(number):
        raise Refused(f"integer {value} is outside the 64-bit range", node.start_mark)
    return number


def _float(loader: Loader, node: yaml.ScalarNode) -> float:
    value = str(loader.construct_scalar(node))
    try:
        number = float(loader.construct_yaml_float(node))
    except ValueError:  # an explicit !!float on text that is not a number
        raise Refused(f"{value!r} is not a number", node.start_mark) from None
    if not math.isfinite(number):
        raise Refused(
            f"{value} is not a JSON number (only finite numbers are allowed)", node.start_mark
        )
    return number


def _timestamp(loader: Loader, node: yaml.ScalarNode) -> Any:
    try:
        return loader.construct_yaml_timestamp(node)
    except (ValueError, AttributeError, TypeError):  # 2024-13-45, 25:61:61; no match
        raise Refused(
            f"{node.value!r} is not a valid date or time (quote it to make it a string)",
            node.start_mark,
        ) from None


def _bool(loader: Loader, node: yaml.ScalarNode) -> bool:
    return str(loader.construct_scalar(node)).lower() == "true"


Loader.add_constructor("tag:yaml.org,2002:int", _int)
Loader.add_constructor("tag:yaml.org,2002:bool", _bool)
Loader.add_constructor("tag:yaml.org,2002:float", _float)
Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)
for _tag in ("binary", "omap", "pairs", "set"):  # SafeConstructor's, not JSON values
    Loader.add_constructor(_CORE + _tag, _refuse_tag)
Loader.add_constructor(None, _refuse_tag)  # any other tag


def _mark(text: str, index: int) -> Mark:
    line, column = limits.line_column(text, index)
    return Mark("<document>", index, line - 1, column - 1, None, None)  # type: ignore[arg-type]


def check_text(text: str) -> None:
    """Refuse text beyond the size limit or holding undecodable bytes, before parsing it."""
    index = limits.oversize_index(text)
    if index is not None:
        raise Refused(f"the document is {limits.size_message()}", _mark(text, index))
    bad = limits.invalid_utf8(text)
    if bad is not None:
        raise Refused(f"invalid UTF-8 at byte {bad[1]}", _mark(text, bad[0]))


def load(text: str) -> Any:
    """Parse one YAML document within the limits; raises a marked YAML error otherwise."""
    check_text(text)
    return yaml.load(text, Loader=Loader)


def check(text: str) -> None:
    """Apply :func:`load`'s limits without constructing (before another parser reads text)."""
    check_text(text)
    loader = Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _check(node)
    finally:
        loader.dispose()
