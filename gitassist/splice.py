"""Editing a document's text in place: the changed scalar values replaced where they stand.

An ``update`` usually changes a few scalar values (``--set system_prompt=…``, a temperature, a
metadata label). :func:`splice` rewrites exactly those scalars' characters in the original
text and leaves every other byte alone (comments, blank lines, quoting, key order, flow or
block style), which is both more faithful and ~10× faster than ruamel's round trip. Anything
else (a key added or removed, a collection's shape changed, a value that would need several
lines, an anchored or aliased node, text the strict loader refuses) returns None, and the
caller falls back to :func:`gitassist.documents.render_update`. The caller parses the result
once anyway to validate it, and must fall back as well if that parse does not give the
intended document (see :func:`gitassist.assistants.update`).
"""

from __future__ import annotations

import json
import re
from typing import Any

# A plain scalar that reads back as the same string in any YAML context we splice into:
# starts with a letter, no indicator that could end or start another token.
_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9 _./()-]*[A-Za-z0-9_./)]|[A-Za-z]")
_KEYWORDS = frozenset(
    ("true", "false", "null", "yes", "no", "on", "off", "y", "n", "nan", "inf", "infinity")
)
_UNSAFE = frozenset("\x85\u2028\u2029\ufeff")  # line breaks (YAML 1.1) and the BOM


def _same(a: Any, b: Any) -> bool:
    """Equal and of the same JSON type (``True == 1`` in Python, not here)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return repr(a) == repr(b)  # 0.0 == -0.0, yet they are two JSON texts
    return bool(a == b)


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def changed_scalars(
    old: Any, new: Any, where: tuple[str | int, ...] = ()
) -> list[tuple[tuple[str | int, ...], Any]] | None:
    """The (path, new value) of every scalar that differs, or None if the shape differs."""
    if _same(old, new):
        return []
    if _scalar(old) and _scalar(new):
        return [(where, new)]
    out: list[tuple[tuple[str | int, ...], Any]] = []
    if isinstance(old, dict) and isinstance(new, dict):
        if list(old) != list(new):
            return None
        for key in old:
            found = changed_scalars(old[key], new[key], (*where, key))
            if found is None:
                return None
            out += found
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            found = changed_scalars(a, b, (*where, i))
            if found is None:
                return None
            out += found
        return out
    return None


def _render(value: Any, style: str | None) -> str | None:
    """``value`` as the text of one scalar (keeping ``style`` where it can), or None."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        return text if re.fullmatch(r"-?[0-9]+(\.[0-9]+)?(e[-+]?[0-9]+)?", text) else None
    assert isinstance(value, str)
    if any(c in _UNSAFE or (not c.isprintable() and c != " ") for c in value):
        return None  # a newline, a control character: the round trip picks a block style
    plain = _PLAIN.fullmatch(value) and ": " not in value and " #" not in value
    if not style and plain and value.lower() not in _KEYWORDS:
        return value
    if style == "'":
        return "'" + value.replace("'", "''") + "'"
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a YAML double-quoted one


def _nodes(root: Any) -> dict[int, int]:
    """How often each node is reachable (an alias shares its anchor's node)."""
    from yaml.nodes import MappingNode, SequenceNode

    seen: dict[int, int] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        seen[id(node)] = seen.get(id(node), 0) + 1
        if seen[id(node)] > 1:
            continue
        if isinstance(node, MappingNode):
            for key, value in node.value:
                stack += [key, value]
        elif isinstance(node, SequenceNode):
            stack += node.value
    return seen


def _find(root: Any, path: tuple[str | int, ...]) -> Any:
    from yaml.nodes import MappingNode, SequenceNode

    node = root
    for part in path:
        if isinstance(part, int) and isinstance(node, SequenceNode):
            node = node.value[part] if part < len(node.value) else None
        elif isinstance(part, str) and isinstance(node, MappingNode):
            node = next((v for k, v in node.value if k.value == part), None)
        else:
            return None
        if node is None:
            return None
    return node


def splice(text: str, old: Any, new: dict[str, Any]) -> str | None:
    """``text`` (which parses to ``old``) with its scalars changed to make ``new``, or None
    when that is not a pure scalar-for-scalar edit (the caller uses the round trip)."""
    from yaml import YAMLError
    from yaml.nodes import ScalarNode

    from gitassist import yaml12

    changes = changed_scalars(old, new)
    if changes is None:
        return None
    if not changes:
        return text
    if text.startswith("\ufeff"):  # libyaml's marks count from after the byte-order mark
        body = splice(text[1:], old, new)
        return None if body is None else "\ufeff" + body
    loader = yaml12.Loader(text)
    try:
        root = loader.get_single_node()
    except YAMLError:
        return None
    finally:
        loader.dispose()
    counts = _nodes(root)
    edits: list[tuple[int, int, str]] = []
    for path, value in changes:
        node = _find(root, path)
        if not isinstance(node, ScalarNode) or counts.get(id(node), 0) != 1:
            return None
        start, end = node.start_mark.index, node.end_mark.index
        source = text[start:end]
        if not source or source[0] in "&!*|>" or node.start_mark.line != node.end_mark.line:
            return None  # anchored, tagged, empty, block or multi-line: not ours to edit
        rendered = _render(value, node.style)
        if rendered is None:
            return None
        edits.append((start, end, rendered))
    out = text
    for start, end, rendered in sorted(edits, reverse=True):
        out = out[:start] + rendered + out[end:]
    return out


def round_trip(text: str, document: Any) -> str:
    """:func:`gitassist.documents.render_update` of ``text``, in the text's own form: a
    byte-order mark kept, and CRLF line ends when every line has one (ruamel reads the mark
    away and writes LF, keeping a CR only where a comment ended: a CRLF file came back with
    mixed line ends). YAML reads CRLF as LF, so the document is the same either way; the
    result is checked to read back so, else it is left as ruamel wrote it."""
    from gitassist.documents import load_yaml_data, render_update

    bom = text.startswith("\ufeff")
    body = text[1:] if bom else text
    crlf = "\r\n" in body and body.count("\r\n") == body.count("\n")
    out = render_update(body.replace("\r\n", "\n") if crlf else body, document)
    if crlf:
        converted = out.replace("\n", "\r\n")
        try:
            same = load_yaml_data(converted, "") == load_yaml_data(out, "")
        except Exception:
            same = False
        out = converted if same else out
    return "\ufeff" + out if bom else out


# --------------------------------------------------------------------------- new documents

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_WIDTH = 80  # ruamel folds lines past its width (100): stay well clear of it


def _plain_scalar(value: Any) -> str | None:
    """``value`` as ruamel's round-trip dumper writes it, for the values whose text is
    certain (plain words, UUIDs, integers, short decimals, booleans), else None."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        return text if re.fullmatch(r"-?[0-9]{1,12}\.[0-9]{1,12}", text) else None
    if isinstance(value, str) and (_UUID.fullmatch(value) or _PLAIN.fullmatch(value)):
        if ": " in value or " #" in value or value.lower() in _KEYWORDS:
            return None
        return value
    return None


def _emit(data: dict[str, Any], indent: int, out: list[str]) -> bool:
    pad = " " * indent
    for key, value in data.items():
        if not _KEY.fullmatch(key) or key.lower() in _KEYWORDS:
            return False
        if isinstance(value, dict):
            if not value:
                out.append(f"{pad}{key}: {{}}\n")
                continue
            out.append(f"{pad}{key}:\n")
            if not _emit(value, indent + 2, out):
                return False
        elif isinstance(value, list):
            if not value:
                out.append(f"{pad}{key}: []\n")
                continue
            out.append(f"{pad}{key}:\n")
            for item in value:
                text = _plain_scalar(item)
                if text is None:
                    return False
                out.append(f"{pad}  - {text}\n")
        else:
            text = _plain_scalar(value)
            if text is None:
                return False
            out.append(f"{pad}{key}: {text}\n")
    return all(len(line) < _WIDTH for line in out)


def render_plain(fields: dict[str, Any]) -> str | None:
    """The text :func:`gitassist.documents.render_new` writes for ``fields``, without ruamel,
    when every key and value is one whose text is certain (nested mappings, lists of
    scalars); None otherwise (the caller uses ruamel)."""
    out: list[str] = []
    return "".join(out) if _emit(fields, 0, out) else None
