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
import operator
import re
from typing import Any, ClassVar

import yaml
from yaml.constructor import ConstructorError
from yaml.error import Mark, MarkedYAMLError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

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
_MAP = _CORE + "map"
_SEQ = _CORE + "seq"
_NULL = _CORE + "null"
_KINDS = {
    _CORE + "int": "an integer",
    _CORE + "float": "a number",
    _CORE + "bool": "a boolean",
    _CORE + "null": "null",
    _CORE + "timestamp": "a date",
}


_RESOLVED: dict[str, str] = {}  # plain scalar text -> its implicit tag


class Loader(_BASE):  # type: ignore[misc]
    """CSafeLoader with YAML 1.2 core-schema scalars and no duplicate keys."""

    yaml_implicit_resolvers: ClassVar[dict[str | None, list[tuple[str, re.Pattern[str]]]]] = {}

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, MappingNode):  # `!!map x`: as the base constructor says it
            raise ConstructorError(
                None, None, f"expected a mapping node, but found {node.id}", node.start_mark
            )
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

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        """The tag of a node, as the base resolver gives it (this loader has no path
        resolvers): a plain scalar's depends on its text alone, so it is looked up in a memo
        first (keys and common values repeat across documents); any other node's on its kind."""
        if kind is ScalarNode:
            if not implicit[0] or (value and value[0] not in _FIRST):
                return _STR  # quoted, or no implicit resolver starts with this character
            tag = _RESOLVED.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if len(value) <= 64 and len(_RESOLVED) < 8192:
                    _RESOLVED[value] = tag
            return tag
        if kind is MappingNode:
            return _MAP
        if kind is SequenceNode:
            return _SEQ
        return super().resolve(kind, value, implicit)

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


# the first characters some implicit resolver is registered for (no wildcard resolver: a
# plain scalar starting with any other character is a string)
_FIRST = frozenset(Loader.yaml_implicit_resolvers)
assert None not in _FIRST and not Loader.yaml_path_resolvers  # what resolve() relies on
# Without path resolvers the composer's descend/ascend calls (two per node) do nothing; C
# callables that do nothing with their arguments save a Python frame each.
Loader.descend_resolver = operator.is_  # (parent, index) -> bool, ignored
Loader.ascend_resolver = tuple  # () -> (), ignored
_DECIMAL = re.compile(r"-?[0-9]+\.[0-9]+\Z")


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


def load_json(text: str) -> tuple[Any, bool]:
    """:func:`load`, and whether the result is JSON data already (dates as ISO strings).

    The composed node graph of a common document (string keys, no tags beyond the core
    schema's, no collection met twice, within the depth limit) is built in one quick pass;
    anything else, or anything that pass does not accept, is left to :func:`load`'s
    constructor on the same nodes, so every refusal and its mark are :func:`load`'s own.
    Raises what :func:`load` raises.
    """
    check_text(text)
    loader = Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, True
        try:
            return _quick(loader, node), True
        except Exception:  # _Slow, or a refusal: the full path finds the first one
            pass
        _check(node)
        return loader.construct_document(node), False
    finally:
        loader.dispose()


class _Slow(Exception):
    """The quick pass does not take this document: the full constructor decides."""


def _quick(loader: Loader, root: Node) -> Any:
    """JSON data of a node graph without aliased collections, or :class:`_Slow`.

    Equal to ``documents._jsonable(loader.construct_document(root))`` where it returns: the
    same scalar constructors, a mapping only of distinct plain-string keys, a collection
    level numbered as :func:`_measure` does (and refused past the same limit by leaving it
    to :func:`_check`)."""
    if root.__class__ is ScalarNode:
        return _quick_scalar(loader, root)
    seen: set[int] = set()

    def build(node: Node, level: int) -> Any:
        if level > limits.MAX_DEPTH or id(node) in seen:
            raise _Slow  # too deep, or an alias: _check and the constructor decide
        seen.add(id(node))
        cls, tag = node.__class__, node.tag
        if cls is MappingNode and tag == _MAP:
            out: dict[str, Any] = {}
            for key, value in node.value:
                if key.__class__ is not ScalarNode or key.tag != _STR or key.value in out:
                    raise _Slow  # not a string key, or a duplicate one
                if value.__class__ is ScalarNode:
                    out[key.value] = _quick_scalar(loader, value)
                else:
                    out[key.value] = build(value, level + 1)
            return out
        if cls is SequenceNode and tag == _SEQ:
            return [
                _quick_scalar(loader, item)
                if item.__class__ is ScalarNode
                else build(item, level + 1)
                for item in node.value
            ]
        raise _Slow

    return build(root, 1)


def _quick_scalar(loader: Loader, node: Node) -> Any:
    tag = node.tag
    if tag == _STR:
        return node.value
    if tag == _NULL:
        return None
    if tag == _CORE + "bool":
        return _bool(loader, node)  # type: ignore[arg-type]
    if tag == _CORE + "int":
        return _int(loader, node)  # type: ignore[arg-type]
    if tag == _CORE + "float":
        if _DECIMAL.match(node.value):  # what construct_yaml_float would read as float(text)
            number = float(node.value)
            if math.isfinite(number):
                return number
        return _float(loader, node)  # type: ignore[arg-type]
    if tag == _CORE + "timestamp":
        return _timestamp(loader, node).isoformat()  # type: ignore[arg-type]
    raise _Slow


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
